package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

// TestDamagedStore damages the store file in each way storetest knows (cut
// to 8 KiB, a leaf page's flags flipped, a branch pointer aimed astray) and
// runs the daemon and the commands that read the store on it: each exits 1
// with a message that says the file is damaged and what to do, never with
// a panic's stack trace (exit 2).
func TestDamagedStore(t *testing.T) {
	t.Parallel()
	for _, dmg := range storetest.Damages() {
		t.Run(dmg.Name, func(t *testing.T) {
			t.Parallel()
			r := newProcRig(t, http.StatusNoContent, procWatch{Name: "w", Meetings: []string{"m1"}})
			storetest.Fill(t, r.cfg.StorePath)
			dmg.Apply(t, r.cfg.StorePath)
			for _, args := range [][]string{{"run"}, {"state"}, {"deliveries", "--failed"}, {"once", "--dry-run"}} {
				stdout, stderr, code := r.cli(args...)
				if code != exitFailure {
					t.Errorf("rtkwatchd %s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args[0], code, stdout, stderr)
				}
				for _, want := range []string{"the store file is damaged", "restore the file from a backup, or move it away"} {
					if !strings.Contains(stderr, want) {
						t.Errorf("rtkwatchd %s: stderr lacks %q:\n%s", args[0], want, stderr)
					}
				}
				for _, bad := range []string{"goroutine ", "panic: ", "[signal "} {
					if strings.Contains(stderr, bad) {
						t.Errorf("rtkwatchd %s: stderr has a stack trace (%q):\n%s", args[0], bad, stderr)
					}
				}
				for _, bad := range []string{"runtime error", "nil pointer", "invalid memory address", "fault"} {
					if strings.Contains(stderr, bad) {
						t.Errorf("rtkwatchd %s: stderr shows the Go runtime's words (%q):\n%s", args[0], bad, stderr)
					}
				}
			}
		})
	}
}
