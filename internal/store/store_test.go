package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// t0 is the time the tests' events happen.
var t0 = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// mustOpen opens a fresh store in t.TempDir. On cleanup it runs bbolt's
// consistency check and closes the store, failing the test on any error.
func mustOpen(t testing.TB) *Store {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "state.db"), Options{})
}

// mustOpenPath opens the store at path like mustOpen does. A store the test
// closed itself is left alone on cleanup.
func mustOpenPath(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			t.Errorf("consistency check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// reopen checks and closes s, then opens its file again.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("consistency check before reopening: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return mustOpenPath(t, s.Path(), Options{})
}

// listAll returns every delivery of the outbox and every dead letter, each
// in ascending ID order.
func listAll(t *testing.T, s *Store) (outbox, dead []Delivery) {
	t.Helper()
	outbox, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if dead, err = s.DeadLettersAfter(0, 0); err != nil {
		t.Fatal(err)
	}
	return outbox, dead
}

// writeBolt creates a bbolt file at path and runs fn on it in one
// transaction, to set up files this package did not write.
func writeBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFreshWritesSchema(t *testing.T) {
	s := mustOpen(t)
	if got := filepath.Base(s.Path()); got != "state.db" {
		t.Errorf("Path() = %s, want …/state.db", s.Path())
	}
	var got string
	err := s.db.View(func(tx *bolt.Tx) error {
		got = string(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != SchemaVersion {
		t.Errorf("schema version = %q, want %q", got, SchemaVersion)
	}
	// A second open of the same file checks the version and keeps it.
	s = reopen(t, s)
	if _, err := s.Snapshot(SnapshotKey{"w", "m"}); err != nil {
		t.Errorf("Snapshot after reopen: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the path to open
		opts    Options
		wantIs  error
		wantMsg []string
	}{
		{
			name:    "empty path",
			setup:   func(*testing.T, string) string { return "" },
			wantMsg: []string{"open store: path is empty"},
		},
		{
			name:    "negative lock timeout",
			setup:   func(_ *testing.T, dir string) string { return filepath.Join(dir, "state.db") },
			opts:    Options{LockTimeout: -time.Second},
			wantMsg: []string{"lock timeout -1s is negative"},
		},
		{
			name:    "missing directory",
			setup:   func(_ *testing.T, dir string) string { return filepath.Join(dir, "nope", "state.db") },
			wantIs:  os.ErrNotExist,
			wantMsg: []string{"nope/state.db: directory", "nope does not exist"},
		},
		{
			name:    "read-only, no file",
			setup:   func(_ *testing.T, dir string) string { return filepath.Join(dir, "state.db") },
			opts:    Options{ReadOnly: true},
			wantIs:  os.ErrNotExist,
			wantMsg: []string{"no such file or directory (rtkwatchd has not run with this store yet)"},
		},
		{
			name: "read-only, empty file",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.db")
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			opts:    Options{ReadOnly: true},
			wantMsg: []string{"file is empty (never opened read-write by rtkwatchd)"},
		},
		{
			name: "read-only, bbolt file without schema",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.db")
				writeBolt(t, p, func(*bolt.Tx) error { return nil })
				return p
			},
			opts:    Options{ReadOnly: true},
			wantMsg: []string{"no schema version yet (open it read-write once)"},
		},
		{
			name: "not a bbolt file",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.db")
				if err := os.WriteFile(p, []byte(strings.Repeat("not bolt ", 2000)), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantMsg: []string{"not a valid bbolt file"},
		},
		{
			name: "someone else's bbolt file",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "other.db")
				writeBolt(t, p, func(tx *bolt.Tx) error {
					_, err := tx.CreateBucket([]byte("widgets"))
					return err
				})
				return p
			},
			wantIs:  ErrSchema,
			wantMsg: []string{`no schema version, but a bucket "widgets"`},
		},
		{
			name: "newer schema",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.db")
				writeBolt(t, p, func(tx *bolt.Tx) error {
					b, err := tx.CreateBucket(bucketMeta)
					if err != nil {
						return err
					}
					return b.Put(keySchema, []byte("3"))
				})
				return p
			},
			wantIs:  ErrSchema,
			wantMsg: []string{`file has version "3", this rtkwatchd reads version "2"`},
		},
		{
			name: "newer schema, read-only",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.db")
				writeBolt(t, p, func(tx *bolt.Tx) error {
					b, err := tx.CreateBucket(bucketMeta)
					if err != nil {
						return err
					}
					return b.Put(keySchema, []byte("0"))
				})
				return p
			},
			opts:    Options{ReadOnly: true},
			wantIs:  ErrSchema,
			wantMsg: []string{`file has version "0", this rtkwatchd reads version "2"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			s, err := Open(path, tt.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", path)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open: %v; want errors.Is %v", err, tt.wantIs)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Open: %v; want it to contain %q", err, m)
				}
			}
		})
	}
}

func TestOpenLockedBySecondHandle(t *testing.T) {
	first := mustOpen(t)
	for _, readOnly := range []bool{false, true} {
		start := time.Now()
		s, err := Open(first.Path(), Options{LockTimeout: 100 * time.Millisecond, ReadOnly: readOnly})
		elapsed := time.Since(start)
		if err == nil {
			s.Close()
			t.Fatalf("second Open(ReadOnly: %t) succeeded, want ErrLocked", readOnly)
		}
		if !errors.Is(err, ErrLocked) {
			t.Errorf("second Open(ReadOnly: %t): %v; want ErrLocked", readOnly, err)
		}
		want := "open store " + first.Path() + ": locked by another process (a running rtkwatchd daemon or command, or another program that has the file open)"
		if err.Error() != want {
			t.Errorf("second Open(ReadOnly: %t) error:\n got %s\nwant %s", readOnly, err, want)
		}
		if elapsed > 2*time.Second {
			t.Errorf("second Open(ReadOnly: %t) took %s with a 100ms lock timeout", readOnly, elapsed)
		}
	}
	// Once the first handle is closed, the file opens again.
	reopen(t, first)
}

func TestReadOnly(t *testing.T) {
	s := mustOpen(t)
	key := SnapshotKey{"w", "m"}
	if err := s.Commit([]Update{{Key: key, Snapshot: []byte("snap"), Events: []NewEvent{testEvent("e1", "ops")}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Read-only handles share the lock, so two can be open at once.
	r1 := mustOpenPath(t, s.Path(), Options{ReadOnly: true})
	r2 := mustOpenPath(t, s.Path(), Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond})
	for _, r := range []*Store{r1, r2} {
		got, err := r.Snapshot(key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]byte("snap"), got); diff != "" {
			t.Errorf("Snapshot (-want +got):\n%s", diff)
		}
		p, err := r.Pending("ops", 0)
		if err != nil || len(p) != 1 {
			t.Errorf("Pending = %d deliveries, %v; want 1, nil", len(p), err)
		}
	}

	// A writer cannot open the file while they are.
	if w, err := Open(s.Path(), Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		if err == nil {
			w.Close()
		}
		t.Errorf("writer Open while readers hold the file: %v; want ErrLocked", err)
	}

	// Every write fails and says why.
	writes := map[string]func() error{
		"Commit":        func() error { return r1.Commit([]Update{{Key: key, Delete: true}}) },
		"MarkDelivered": func() error { return r1.MarkDelivered("ops", 1) },
		"RecordAttempt": func() error { return r1.RecordAttempt("ops", 1, 1, t0, "boom") },
		"DeadLetter":    func() error { return r1.DeadLetter("ops", 1, t0, "boom") },
		"Requeue":       func() error { _, err := r1.Requeue(time.Now()); return err },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
			t.Errorf("%s on a read-only store: %v; want bbolt's ErrDatabaseReadOnly", name, err)
		}
	}
}

func TestReopenPersistsEverything(t *testing.T) {
	s := mustOpen(t)
	err := s.Commit([]Update{
		{Key: SnapshotKey{"w1", "m1"}, Snapshot: []byte("s1"), Events: []NewEvent{testEvent("e1", "ops", "slack")}},
		{Key: SnapshotKey{"w2", "m2"}, Snapshot: []byte("s2"), Events: []NewEvent{testEvent("e2", "ops")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt("slack", 2, 3, t0.Add(time.Minute), "503"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter("ops", 3, t0.Add(time.Hour), "410 gone"); err != nil {
		t.Fatal(err)
	}
	type state struct {
		Snaps  map[SnapshotKey]string
		Outbox []Delivery
		Dead   []Delivery
		Depth  map[string]int
	}
	read := func(s *Store) state {
		t.Helper()
		st := state{Snaps: map[SnapshotKey]string{}}
		err := s.ForEachSnapshot(func(k SnapshotKey, v []byte) error {
			st.Snaps[k] = string(v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Outbox, err = s.OutboxAfter(0, 0); err != nil {
			t.Fatal(err)
		}
		if st.Dead, err = s.DeadLettersAfter(0, 0); err != nil {
			t.Fatal(err)
		}
		if st.Depth, err = s.OutboxDepth(); err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := read(s)
	s = reopen(t, s)
	if diff := cmp.Diff(before, read(s)); diff != "" {
		t.Errorf("state after reopening (-before +after):\n%s", diff)
	}
	// The ID sequence continues where it stopped.
	if err := s.Commit([]Update{{Key: SnapshotKey{"w1", "m1"}, Snapshot: []byte("s1b"), Events: []NewEvent{testEvent("e3", "ops")}}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p); !cmp.Equal([]uint64{1, 4}, got) {
		t.Errorf("ops outbox IDs after reopening = %v, want [1 4]", got)
	}
}
