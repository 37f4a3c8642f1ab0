package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

// damageable writes a closed store at path with enough snapshots and
// deliveries for branch pages.
func damageable(t *testing.T, path string) {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.Update
	for i := range 2000 {
		id := fmt.Sprintf("evt_%d", i)
		batch = append(batch, store.Update{Key: store.SnapshotKey{Watch: "w", MeetingID: fmt.Sprintf("meeting-%04d", i)},
			Snapshot: []byte(strings.Repeat("s", 600)),
			Events: []store.NewEvent{{ID: id, Type: "session.started", CreatedAt: time.Now(),
				Body: []byte(`{"data":{"id":"` + id + `"}}`), Notifiers: []string{"ops"}}}})
	}
	if err := s.Commit(batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDamaged(t *testing.T) {
	for _, dmg := range storetest.Damages() {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/read-only=%v", dmg.Name, readOnly), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "state.db")
				damageable(t, path)
				dmg.Apply(t, path)
				s, err := store.Open(path, store.Options{ReadOnly: readOnly})
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded on a damaged file, want ErrDamaged")
				}
				if !errors.Is(err, store.ErrDamaged) {
					t.Fatalf("Open: %v; want ErrDamaged", err)
				}
				for _, want := range []string{"open store " + path + ": the store file is damaged: ", "restore the file from a backup, or move it away"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Open: %v\nwant it to contain %q", err, want)
					}
				}
				t.Logf("Open: %v", err)
			})
		}
	}
}

// TestOpenCheckBounded: the check stops when CheckWithin runs out, and a
// negative CheckWithin skips it; either way a sound file opens.
func TestOpenCheckBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	damageable(t, path)
	for _, within := range []time.Duration{time.Nanosecond, -1, time.Minute} {
		s, err := store.Open(path, store.Options{CheckWithin: within})
		if err != nil {
			t.Fatalf("Open with CheckWithin %s: %v", within, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
