package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// columnGap separates the columns of the CLI's tables (tabwriter pads with
// at least two spaces; cells themselves hold single spaces at most).
var columnGap = regexp.MustCompile(` {2,}`)

// parseTable reads a table printed by the CLI into one map per row, keyed
// by the header's column names.
func parseTable(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := columnGap.Split(strings.TrimSpace(lines[0]), -1)
	var rows []map[string]string
	for _, line := range lines[1:] {
		cells := columnGap.Split(strings.TrimSpace(line), -1)
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, header %q has %d", line, len(cells), lines[0], len(header))
		}
		row := make(map[string]string, len(cells))
		for i, c := range cells {
			row[header[i]] = c
		}
		rows = append(rows, row)
	}
	return rows
}

// stateJSON decodes the output of `state --json`, which must have
// succeeded, strictly.
func stateJSON(t *testing.T, r result) []diff.Snapshot {
	t.Helper()
	r.wantCode(t, exitOK)
	var snaps []diff.Snapshot
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var s diff.Snapshot
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("state --json line %q: %v", sc.Text(), err)
		}
		snaps = append(snaps, s)
	}
	return snaps
}

// stateRow is the part of a `state` table row the tests compare.
type stateRow struct {
	Watch, Meeting, Session, Status, Live, Minutes, Seq, Health string
}

func stateRows(t *testing.T, r result) []stateRow {
	t.Helper()
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	var rows []stateRow
	for _, m := range parseTable(t, r.stdout) {
		if m["LAST GOOD POLL"] == "" {
			t.Errorf("row %v lacks LAST GOOD POLL", m)
		}
		rows = append(rows, stateRow{m["WATCH"], m["MEETING"], m["SESSION"], m["STATUS"], m["LIVE"], m["MINUTES"], m["SEQ"], m["HEALTH"]})
	}
	return rows
}

func TestState(t *testing.T) {
	f := newFixture(t, "meeting-1", "meeting-2")
	sid := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 2.5})
	wantTypes(t, nil, f.once())
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 12 })
	wantTypes(t, []string{diff.TypeParticipantsThreshold}, f.once())

	tests := []struct {
		name string
		args []string
		want []stateRow
	}{
		{"all", nil, []stateRow{
			{"town-hall", "meeting-1", sid, "LIVE", "12", "2.5", "1", "ok"},
			{"town-hall", "meeting-2", "-", "none", "-", "-", "0", "ok"},
		}},
		{"one meeting", []string{"meeting-2"}, []stateRow{
			{"town-hall", "meeting-2", "-", "none", "-", "-", "0", "ok"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stateRows(t, f.run("state", tt.args...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		snaps := stateJSON(t, f.run("state", "--json"))
		if len(snaps) != 2 {
			t.Fatalf("state --json printed %d snapshots, want 2", len(snaps))
		}
		s := snaps[0]
		want := diff.Meeting{Watch: "town-hall", AccountID: testAccountID, AppID: testApp, MeetingID: "meeting-1"}
		if diff := cmp.Diff(want, s.Meeting); diff != "" {
			t.Errorf("snapshot meeting (-want +got):\n%s", diff)
		}
		if !s.Baselined || s.Session == nil || s.Session.ID != sid || s.Session.LiveParticipants != 12 ||
			s.Sequence != 1 || !cmp.Equal([]int{10}, s.ParticipantsUp) || s.LastGoodPoll.IsZero() {
			t.Errorf("snapshot of meeting-1 = %+v", s)
		}
		if m := snaps[1]; m.MeetingID != "meeting-2" || !m.Baselined || m.Session != nil {
			t.Errorf("snapshot of meeting-2 = %+v, want a baseline without session", m)
		}
	})

	t.Run("json after the meeting id", func(t *testing.T) {
		snaps := stateJSON(t, f.run("state", "meeting-1", "--json"))
		if len(snaps) != 1 || snaps[0].MeetingID != "meeting-1" {
			t.Errorf("state meeting-1 --json = %+v, want the one snapshot", snaps)
		}
	})

	t.Run("unknown meeting", func(t *testing.T) {
		r := f.run("state", "no-such-meeting")
		r.wantCode(t, exitFailure)
		if want := "rtkwatchd: no snapshot of meeting no-such-meeting in " + f.params.StorePath + "\n"; r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	})
}

func TestStateFailing(t *testing.T) {
	f := newFixture(t)
	wantTypes(t, nil, f.once())
	f.api.SetFault(testApp, "meeting-1", rtkfake.Fault{Kind: rtkfake.ServerError})
	wantTypes(t, nil, f.onceExit(exitFailure))
	rows := stateRows(t, f.run("state"))
	if len(rows) != 1 || !strings.HasPrefix(rows[0].Health, "1 failed: ") {
		t.Errorf("state after one failed poll = %+v, want health \"1 failed: …\"", rows)
	}
	wantTypes(t, []string{diff.TypeWatchFailing}, f.onceExit(exitFailure))
	rows = stateRows(t, f.run("state"))
	if len(rows) != 1 || !strings.HasPrefix(rows[0].Health, "FAILING (2): ") {
		t.Errorf("state after watch.failing = %+v, want health \"FAILING (2): …\"", rows)
	}
}

func TestStateWithoutStore(t *testing.T) {
	f := newFixture(t)
	r := f.run("state")
	r.wantCode(t, exitFailure)
	if !strings.Contains(r.stderr, "(rtkwatchd has not run with this store yet)") {
		t.Errorf("stderr does not explain the missing store:\n%s", r.stderr)
	}
}

// daemonStand holds a fixture's store open, as a running daemon does, and
// serves the daemon's admin API over it on a loopback port that the
// fixture's config names.
type daemonStand struct {
	st       *store.Store
	requeued atomic.Int32
}

func standInForDaemon(t *testing.T, f *fixture) *daemonStand {
	t.Helper()
	return standInServing(t, f, nil)
}

// standInServing is standInForDaemon whose admin API reads and changes
// serve instead of the store it holds, when serve is not nil.
func standInServing(t *testing.T, f *fixture, serve *store.Store) *daemonStand {
	t.Helper()
	st, err := store.Open(f.params.StorePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &daemonStand{st: st}
	if serve == nil {
		serve = st
	}
	up := func() (bool, string) { return true, "" }
	srv, err := admin.Start("127.0.0.1:0", admin.Handlers{
		Registry: prometheus.NewRegistry(),
		Store:    serve,
		Healthy:  up,
		Ready:    up,
		Requeued: func() { d.requeued.Add(1) },
		Log:      zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	f.params.Admin = srv.Addr()
	f.writeConfig()
	return d
}

// TestDaemonHoldsStore: while the daemon holds the store, state and
// deliveries ask its admin API. Every command waits out the store's lock
// timeout first, hence t.Parallel.
func TestDaemonHoldsStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.hook.status.Store(http.StatusGone)
	wantTypes(t, nil, f.once())
	sid := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 12})
	started := f.once()
	wantTypes(t, []string{diff.TypeSessionStarted, diff.TypeParticipantsThreshold}, started)

	d := standInForDaemon(t, f)

	got := stateRows(t, f.run("state"))
	want := []stateRow{{"town-hall", "meeting-1", sid, "LIVE", "12", "0", "2", "ok"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state through the admin API (-want +got):\n%s", diff)
	}

	r := f.run("deliveries", "--failed")
	r.wantCode(t, exitOK)
	dead := deliveryRows(t, r)
	var gotEvents []string
	for _, row := range dead {
		gotEvents = append(gotEvents, row["EVENT"])
	}
	wantEvents := []string{started[0].Data.ID, started[1].Data.ID}
	if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
		t.Errorf("dead letters through the admin API (-want +got):\n%s", diff)
	}

	r = f.run("deliveries", "retry", "--all")
	r.wantCode(t, exitOK)
	if want := "queued 2 dead letter(s) again: the daemon, or the next `rtkwatchd once`, delivers them\n"; r.stdout != want {
		t.Errorf("retry --all printed %q, want %q", r.stdout, want)
	}
	if n := d.requeued.Load(); n != 1 {
		t.Errorf("the daemon was told of %d requeues, want 1", n)
	}
	outbox, err := d.st.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(outbox) != 2 {
		t.Errorf("the daemon's outbox holds %d deliveries after retry --all, want 2", len(outbox))
	}
}

// TestDaemonStoreReadFails: when the daemon cannot read its store, state
// fails (exit 1, with the daemon's reason) instead of printing an empty
// table.
func TestDaemonStoreReadFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wantTypes(t, nil, f.once())
	broken, err := store.Open(filepath.Join(t.TempDir(), "broken.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Close(); err != nil {
		t.Fatal(err)
	}
	standInServing(t, f, broken)

	for _, args := range [][]string{nil, {"--json"}, {"meeting-1"}} {
		r := f.run("state", args...)
		r.wantCode(t, exitFailure)
		if r.stdout != "" {
			t.Errorf("state %v printed %q, want nothing", args, r.stdout)
		}
		if want := "rtkwatchd: daemon admin API /v1/state: read snapshots: "; !strings.HasPrefix(r.stderr, want) {
			t.Errorf("state %v: stderr = %q, want it to start with %q", args, r.stderr, want)
		}
	}
}

// closedAddr returns a loopback address that refuses connections.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDaemonHoldsStoreWithoutAdmin: with the admin API disabled, or not
// answering, the commands say why they cannot read the store.
func TestDaemonHoldsStoreWithoutAdmin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		admin func(f *fixture) string
		want  string
	}{
		{"admin disabled", func(*fixture) string { return "" }, "locked by another process"},
		{"admin not answering", func(*fixture) string { return closedAddr(t) }, "its admin API at http://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			wantTypes(t, nil, f.once())
			st, err := store.Open(f.params.StorePath, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			f.params.Admin = tt.admin(f)
			f.writeConfig()
			r := f.run("state")
			r.wantCode(t, exitFailure)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}
