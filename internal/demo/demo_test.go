package demo

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// TestRunDaemonDidNotStart: when the daemon does not start in time, Run
// stops it and waits for it before it removes the temporary store, and
// says what happened.
func TestRunDaemonDidNotStart(t *testing.T) {
	t.Parallel()
	var (
		storeDir  string
		removed   bool // the store's directory went while the daemon ran
		returned  bool
		cancelled error
	)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := Run(ctx, Options{
		Out: io.Discard,
		Daemon: func(ctx context.Context, cfg *config.Config, started func()) error {
			defer func() { returned = true }()
			storeDir = filepath.Dir(cfg.Store.Path)
			<-ctx.Done() // never started; stopped by Run
			cancelled = ctx.Err()
			// A real daemon closes its store now. Had Run not waited, the
			// directory would vanish within this window.
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !removed; <-tick.C {
				_, err := os.Stat(storeDir)
				removed = errors.Is(err, fs.ErrNotExist)
			}
			return nil
		},
	})
	if err == nil || err.Error() != "demo: the daemon did not start in time" {
		t.Errorf("Run = %v, want \"demo: the daemon did not start in time\"", err)
	}
	if errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v wraps ErrFailed, but no scenario was played", err)
	}
	if !returned {
		t.Fatal("Run returned before its daemon did")
	}
	if !errors.Is(cancelled, context.Canceled) {
		t.Errorf("the daemon's context ended with %v, want it cancelled by Run", cancelled)
	}
	if removed {
		t.Error("the temporary store was removed while the daemon still ran")
	}
	if _, err := os.Stat(storeDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary store %s is still there after Run: %v", storeDir, err)
	}
}

// TestRunDaemonFails: a daemon that fails to start ends the demo with its
// error, and no temporary store is left behind.
func TestRunDaemonFails(t *testing.T) {
	t.Parallel()
	var storeDir string
	var out strings.Builder
	err := Run(context.Background(), Options{
		Out: &out,
		Daemon: func(_ context.Context, cfg *config.Config, _ func()) error {
			storeDir = filepath.Dir(cfg.Store.Path)
			return errors.New("open store: disk on fire")
		},
	})
	if err == nil || err.Error() != "demo daemon: open store: disk on fire" {
		t.Errorf("Run = %v, want \"demo daemon: open store: disk on fire\"", err)
	}
	if !strings.HasPrefix(out.String(), "rtkwatchd demo: a fake RealtimeKit API at http://127.0.0.1:") {
		t.Errorf("the timeline does not start with its title:\n%s", out.String())
	}
	if _, err := os.Stat(storeDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary store %s is still there after Run: %v", storeDir, err)
	}
}
