package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// daemonProbe is the stdout of a command that tries, when the command
// first prints, to open the store as the daemon would: whatever reads
// stdout (a pager left open) must not keep the daemon from starting.
type daemonProbe struct {
	path   string
	out    bytes.Buffer
	probed bool
	err    error // of the daemon's Open
}

func (p *daemonProbe) Write(b []byte) (int, error) {
	if !p.probed {
		p.probed = true
		st, err := store.Open(p.path, store.Options{LockTimeout: 50 * time.Millisecond})
		if err == nil {
			err = st.Close()
		}
		p.err = err
	}
	return p.out.Write(b)
}

// TestPrintingHoldsNoLock: state and deliveries read the store, close it,
// and only then print.
func TestPrintingHoldsNoLock(t *testing.T) {
	f := newFixture(t)
	f.hook.status.Store(410) // a dead letter at once
	wantTypes(t, nil, f.once())
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 3})
	wantTypes(t, []string{diff.TypeSessionStarted}, f.once())
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 12 })
	f.hook.status.Store(500) // stays in the outbox
	wantTypes(t, []string{diff.TypeParticipantsThreshold}, f.onceExit(exitOK))

	for _, args := range [][]string{
		{"state"}, {"state", "--json"}, {"state", "meeting-1"},
		{"deliveries"}, {"deliveries", "--failed"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			p := &daemonProbe{path: f.params.StorePath}
			var stderr bytes.Buffer
			err := run(t.Context(), append(args, "--config", f.config), func(k string) string { return f.env[k] }, p, &stderr)
			if code := exitCode(err, &stderr); code != exitOK {
				t.Fatalf("%v: exit code %d\n%s", args, code, stderr.String())
			}
			if !p.probed {
				t.Fatalf("%v printed nothing", args)
			}
			if p.err != nil {
				t.Errorf("the daemon could not open the store while %v printed: %v", args, p.err)
			}
		})
	}
}
