package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// putRaw stores v as the record of id: among the dead letters when dead is
// true, else in the outbox of notifier.
func putRaw(t *testing.T, s *Store, notifier string, dead bool, id uint64, v []byte) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if !dead {
			b = tx.Bucket(bucketOutbox).Bucket([]byte(notifier))
		}
		return b.Put(idKey(id), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRemoveDeadLetters(t *testing.T) {
	s := mustOpen(t)
	cutoff := t0.Add(-720 * time.Hour)
	queueEvents(t, s, 5, "ops") // 1…5
	died := map[uint64]time.Time{
		1: cutoff.Add(-time.Nanosecond), // removed
		2: cutoff,                       // stays: not older than the retention
		3: cutoff.Add(time.Hour),        // stays
		4: cutoff.Add(-time.Hour),       // removed, though quarantined
	}
	for id, at := range died {
		if err := s.DeadLetter("ops", id, at, "410 Gone"); err != nil {
			t.Fatal(err)
		}
	}
	putRaw(t, s, "", true, 4, mustEncode(t, Delivery{ID: 4, Notifier: "ops", Body: []byte("junk"), Quarantined: true, DeadAt: died[4]}))
	putRaw(t, s, "", true, 9, []byte("not a record")) // no known age: stays
	n, err := s.RemoveDeadLetters(cutoff)
	if err != nil || n != 2 {
		t.Errorf("RemoveDeadLetters = %d, %v; want 2, nil", n, err)
	}
	left, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{2, 3, 9}, ids(left)); diff != "" {
		t.Errorf("dead letters left (-want +got):\n%s", diff)
	}
	if p, _ := s.Pending("ops", 0); len(p) != 1 || p[0].ID != 5 {
		t.Errorf("outbox %v; want delivery 5 untouched", ids(p))
	}
	if n, err := s.RemoveDeadLetters(cutoff); n != 0 || err != nil {
		t.Errorf("RemoveDeadLetters again = %d, %v; want 0, nil", n, err)
	}
}

// TestRemoveDeadLettersChunks removes more dead letters than one
// transaction holds.
func TestRemoveDeadLettersChunks(t *testing.T) {
	s := mustOpen(t)
	const n = 2*removeChunk + 17
	queueMany(t, s, "ops", n)
	moved, err := s.DeadLetterAll("ops", t0, "gone")
	if err != nil || moved != n {
		t.Fatalf("DeadLetterAll = %d, %v; want %d", moved, err, n)
	}
	removed, err := s.RemoveDeadLetters(t0.Add(time.Nanosecond))
	if err != nil || removed != n {
		t.Errorf("RemoveDeadLetters = %d, %v; want %d, nil", removed, err, n)
	}
	if c, _ := s.DeadLetterCount(); c != 0 {
		t.Errorf("%d dead letters left, want 0", c)
	}
}

// queueMany commits n events for notifier in one update.
func queueMany(t *testing.T, s *Store, notifier string, n int) {
	t.Helper()
	var evs []NewEvent
	for i := range n {
		evs = append(evs, testEvent(fmt.Sprintf("evt_%d", i), notifier))
	}
	if err := s.Commit([]Update{{Key: SnapshotKey{"w", "m"}, Snapshot: []byte("{}"), Events: evs}}); err != nil {
		t.Fatal(err)
	}
}

// mustEncode returns the stored form of d.
func mustEncode(t *testing.T, d Delivery) []byte {
	t.Helper()
	v, err := encodeDelivery(d)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
