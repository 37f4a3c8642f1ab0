package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// commitSnapshots writes one snapshot per key, the value being the key's
// string form.
func commitSnapshots(t *testing.T, s *Store, keys ...SnapshotKey) {
	t.Helper()
	var batch []Update
	for _, k := range keys {
		batch = append(batch, Update{Key: k, Snapshot: []byte(k.String())})
	}
	if err := s.Commit(batch); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := mustOpen(t)
	// Watches whose names are prefixes of one another must not mix.
	keys := []SnapshotKey{
		{"town-hall", "m2"}, {"town-hall", "m1"}, {"town", "m1"},
		{"town-hall-b", "m1"}, {"w", "id/with/slashes"}, {"w", "nul\x00inside"},
	}
	commitSnapshots(t, s, keys...)

	for _, k := range keys {
		got, err := s.Snapshot(k)
		if err != nil {
			t.Fatalf("Snapshot(%s): %v", k, err)
		}
		if string(got) != k.String() {
			t.Errorf("Snapshot(%s) = %q, want %q", k, got, k.String())
		}
	}
	if got, err := s.Snapshot(SnapshotKey{"town-hall", "absent"}); got != nil || err != nil {
		t.Errorf("Snapshot(absent) = %q, %v; want nil, nil", got, err)
	}

	tests := []struct {
		watch string
		want  map[string][]byte
	}{
		{"town-hall", map[string][]byte{"m1": []byte("town-hall/m1"), "m2": []byte("town-hall/m2")}},
		{"town", map[string][]byte{"m1": []byte("town/m1")}},
		{"w", map[string][]byte{"id/with/slashes": []byte("w/id/with/slashes"), "nul\x00inside": []byte("w/nul\x00inside")}},
		{"nobody", map[string][]byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.watch, func(t *testing.T) {
			got, err := s.Snapshots(tt.watch)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Snapshots(%q) (-want +got):\n%s", tt.watch, diff)
			}
		})
	}
}

func TestSnapshotDelete(t *testing.T) {
	s := mustOpen(t)
	a, b := SnapshotKey{"w", "a"}, SnapshotKey{"w", "b"}
	commitSnapshots(t, s, a, b)
	// Deleting an absent key is not an error.
	if err := s.Commit([]Update{{Key: a, Delete: true}, {Key: SnapshotKey{"w", "never"}, Delete: true}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"b": []byte("w/b")}, got); diff != "" {
		t.Errorf("Snapshots after delete (-want +got):\n%s", diff)
	}
}

func TestSnapshotsAreCopies(t *testing.T) {
	s := mustOpen(t)
	k := SnapshotKey{"w", "m"}
	commitSnapshots(t, s, k)
	one, err := s.Snapshot(k)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	copy(one, "XXX")
	copy(all["m"], "YYY")
	if err := s.ForEachSnapshot(func(_ SnapshotKey, v []byte) error { copy(v, "ZZZ"); return nil }); err != nil {
		t.Fatal(err)
	}
	// Writes in between make bbolt reuse and remap pages.
	for range 20 {
		commitSnapshots(t, s, SnapshotKey{"other", strings.Repeat("x", 100)})
	}
	got, err := s.Snapshot(k)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "w/m" {
		t.Errorf("Snapshot = %q after callers changed earlier results, want %q", got, "w/m")
	}
}

func TestForEachSnapshot(t *testing.T) {
	s := mustOpen(t)
	commitSnapshots(t, s, SnapshotKey{"b", "2"}, SnapshotKey{"a-x", "1"}, SnapshotKey{"a", "9"}, SnapshotKey{"b", "1"})

	var got []SnapshotKey
	err := s.ForEachSnapshot(func(k SnapshotKey, v []byte) error {
		if string(v) != k.String() {
			t.Errorf("snapshot of %s = %q", k, v)
		}
		got = append(got, k)
		// fn runs outside the read transaction, so it may write.
		return s.Commit([]Update{{Key: SnapshotKey{"z", k.String()}, Snapshot: []byte("copy")}})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []SnapshotKey{{"a", "9"}, {"a-x", "1"}, {"b", "1"}, {"b", "2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ForEachSnapshot order (-want +got):\n%s", diff)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.ForEachSnapshot(func(SnapshotKey, []byte) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("ForEachSnapshot with a failing fn = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestSnapshotInvalidKey(t *testing.T) {
	s := mustOpen(t)
	for _, k := range []SnapshotKey{{"", "m"}, {"w", ""}, {"a\x00b", "m"}} {
		if _, err := s.Snapshot(k); err == nil {
			t.Errorf("Snapshot(%q) succeeded, want an error", k)
		}
	}
	for _, w := range []string{"", "a\x00b"} {
		if _, err := s.Snapshots(w); err == nil {
			t.Errorf("Snapshots(%q) succeeded, want an error", w)
		}
	}
}
