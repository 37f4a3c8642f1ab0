package store

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// snapshotsOf is Snapshots of watch, or the test's end.
func snapshotsOf(t *testing.T, s *Store, watch string) map[string]string {
	t.Helper()
	return readAsText(t, s.Snapshots, watch)
}

// fileSnapshotsOf reads watch's snapshots from the file, past the mirror.
func fileSnapshotsOf(t *testing.T, s *Store, watch string) map[string]string {
	t.Helper()
	return readAsText(t, s.readSnapshots, watch)
}

// readAsText reads watch's snapshots with read, as strings.
func readAsText(t *testing.T, read func(string) (map[string][]byte, error), watch string) map[string]string {
	t.Helper()
	snaps, err := read(watch)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(snaps))
	for id, b := range snaps {
		out[id] = string(b)
	}
	return out
}

// TestMirrorFollowsCommits checks that a watch's snapshots, once read,
// follow every commit (puts, deletes, a later put of the same key in one
// batch), that a caller changing the map it was given changes nothing
// stored, that a commit that fails its checks changes nothing, and that
// the snapshots read equal the file's throughout.
func TestMirrorFollowsCommits(t *testing.T) {
	s := mustOpen(t)
	commitSnapshots(t, s, SnapshotKey{"w", "a"}, SnapshotKey{"w", "b"}, SnapshotKey{"v", "a"})
	if got, want := snapshotsOf(t, s, "w"), map[string]string{"a": "w/a", "b": "w/b"}; !cmp.Equal(got, want) {
		t.Fatalf("first read: %v, want %v", got, want)
	}
	given, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	delete(given, "a")
	given["z"] = []byte("not stored")

	snap := []byte("w/c 1")
	err = s.Commit([]Update{
		{Key: SnapshotKey{"w", "b"}, Delete: true},
		{Key: SnapshotKey{"w", "c"}, Snapshot: snap},
		{Key: SnapshotKey{"w", "c"}, Snapshot: []byte("w/c 2")},
		{Key: SnapshotKey{"v", "b"}, Snapshot: []byte("v/b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	snap[0] = 'X' // Commit keeps no reference to the caller's slices
	want := map[string]string{"a": "w/a", "c": "w/c 2"}
	if got := snapshotsOf(t, s, "w"); !cmp.Equal(got, want) {
		t.Errorf("after a commit: %v, want %v", got, want)
	}
	if err := s.Commit([]Update{{Key: SnapshotKey{"w", "a"}, Snapshot: []byte("w/a 2")}, {Key: SnapshotKey{"w", ""}}}); err == nil {
		t.Fatal("a commit with an empty meeting ID succeeded")
	}
	if got := snapshotsOf(t, s, "w"); !cmp.Equal(got, want) {
		t.Errorf("after a refused commit: %v, want %v", got, want)
	}
	if got := fileSnapshotsOf(t, s, "w"); !cmp.Equal(got, want) {
		t.Errorf("the file holds %v, want %v", got, want)
	}
	if got, want := snapshotsOf(t, s, "v"), map[string]string{"a": "v/a", "b": "v/b"}; !cmp.Equal(got, want) {
		t.Errorf("a watch first read after commits: %v, want %v", got, want)
	}
}

// TestMirrorKeepsNoOvertakenRead checks that a read from the file that a
// commit overtook is not kept: the next read goes to the file again and
// sees the commit.
func TestMirrorKeepsNoOvertakenRead(t *testing.T) {
	s := mustOpen(t)
	commitSnapshots(t, s, SnapshotKey{"w", "a"})
	_, gen, ok := s.mirror.get("w")
	if ok {
		t.Fatal("the mirror holds a watch never read")
	}
	stale, err := s.readSnapshots("w") // a read that began before …
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]Update{{Key: SnapshotKey{"w", "a"}, Snapshot: []byte("new")}}); err != nil { // … this commit
		t.Fatal(err)
	}
	s.mirror.keep("w", stale, gen)
	if _, _, ok := s.mirror.get("w"); ok {
		t.Fatal("the mirror kept a read that a commit overtook")
	}
	if got, want := snapshotsOf(t, s, "w"), map[string]string{"a": "new"}; !cmp.Equal(got, want) {
		t.Errorf("read after the commit: %v, want %v", got, want)
	}
}

// TestMirrorConcurrent commits and reads snapshots from many goroutines
// at once and checks that, when they are done, every watch reads as the
// file holds it.
func TestMirrorConcurrent(t *testing.T) {
	s := mustOpen(t)
	const watches, writes = 4, 50
	var wg sync.WaitGroup
	for w := range watches {
		watch := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for i := range writes {
				u := Update{Key: SnapshotKey{watch, fmt.Sprintf("m%d", i%7)}, Snapshot: fmt.Appendf(nil, "%d", i)}
				if i%5 == 4 {
					u = Update{Key: u.Key, Delete: true}
				}
				if err := s.Commit([]Update{u}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range writes {
				if _, err := s.Snapshots(watch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range watches {
		watch := fmt.Sprintf("w%d", w)
		if got, want := snapshotsOf(t, s, watch), fileSnapshotsOf(t, s, watch); !cmp.Equal(got, want) {
			t.Errorf("%s reads %v, the file holds %v", watch, got, want)
		}
	}
}

// TestMirrorConcurrentCommitsOfOneKey commits one key from two goroutines
// at once, round after round, and checks that the mirror always ends as
// the file does: the commits reach the mirror in the order they reached
// the file.
func TestMirrorConcurrentCommitsOfOneKey(t *testing.T) {
	s := mustOpen(t)
	s.db.NoSync = true // the order of commits is the point, not their fsyncs
	key := SnapshotKey{Watch: "w", MeetingID: "m"}
	commitSnapshots(t, s, key)
	snapshotsOf(t, s, "w") // the watch enters the mirror
	for i := range 1000 {
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				if err := s.Commit([]Update{{Key: key, Snapshot: fmt.Appendf(nil, "%d-%d", i, g)}}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if mem, file := snapshotsOf(t, s, "w"), fileSnapshotsOf(t, s, "w"); !cmp.Equal(mem, file) {
			t.Fatalf("round %d: the mirror holds %v, the file %v", i, mem, file)
		}
	}
}
