package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDeadLetterKeepsIDAndHistory(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 2, "ops") // 1, 2
	if err := s.RecordAttempt("ops", 1, 15, t0.Add(time.Hour), "503"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter("ops", 1, t0.Add(2*time.Hour), ""); err != nil { // keeps "503"
		t.Fatal(err)
	}
	if err := s.DeadLetter("ops", 2, t0.Add(3*time.Hour), "404 Not Found"); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	e0, e1 := testEvent("evt_0"), testEvent("evt_1")
	want := []Delivery{
		{ID: 1, Notifier: "ops", Meeting: SnapshotKey{"w", "m"}, EventID: "evt_0", EventType: e0.Type, CreatedAt: t0, Body: e0.Body,
			Attempts: 15, NextAttempt: t0.Add(time.Hour), LastError: "503", DeadAt: t0.Add(2 * time.Hour)},
		{ID: 2, Notifier: "ops", Meeting: SnapshotKey{"w", "m"}, EventID: "evt_1", EventType: e1.Type, CreatedAt: t0, Body: e1.Body,
			LastError: "404 Not Found", DeadAt: t0.Add(3 * time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DeadLetters (-want +got):\n%s", diff)
	}
	if p, _ := s.Pending("ops", 0); len(p) != 0 {
		t.Errorf("ops outbox has %d deliveries after dead-lettering all, want 0", len(p))
	}
	if err := s.DeadLetter("ops", 3, time.Time{}, "x"); err == nil {
		t.Error("DeadLetter with a zero time succeeded, want an error")
	}
}

func TestRequeue(t *testing.T) {
	tests := []struct {
		name      string
		ids       []uint64
		wantMoved int
		wantDead  []uint64
		wantOps   []uint64
	}{
		{"one", []uint64{3}, 1, []uint64{1, 5}, []uint64{2, 3, 4}},
		{"some, repeated", []uint64{5, 1, 5}, 2, []uint64{3}, []uint64{1, 2, 4, 5}},
		{"all", nil, 3, nil, []uint64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			queueEvents(t, s, 5, "ops")
			for _, id := range []uint64{1, 3, 5} {
				if err := s.RecordAttempt("ops", id, 7, t0.Add(time.Minute), "timeout"); err != nil {
					t.Fatal(err)
				}
				if err := s.DeadLetter("ops", id, t0.Add(time.Hour), ""); err != nil {
					t.Fatal(err)
				}
			}
			moved, err := s.Requeue(requeueTime, tt.ids...)
			if err != nil {
				t.Fatal(err)
			}
			if moved != tt.wantMoved {
				t.Errorf("Requeue moved %d, want %d", moved, tt.wantMoved)
			}
			dead, _ := s.DeadLettersAfter(0, 0)
			if diff := cmp.Diff(tt.wantDead, ids(dead), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("dead letter IDs (-want +got):\n%s", diff)
			}
			ops, err := s.Pending("ops", 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantOps, ids(ops)); diff != "" {
				t.Errorf("ops outbox IDs (-want +got):\n%s", diff)
			}
			for _, d := range ops {
				if d.Attempts != 0 || !d.NextAttempt.IsZero() || d.LastError != "" || !d.DeadAt.IsZero() {
					t.Errorf("delivery %d after requeue: attempts %d, next %s, last error %q, dead at %s; want all cleared",
						d.ID, d.Attempts, d.NextAttempt, d.LastError, d.DeadAt)
				}
			}
			// A requeued delivery is a normal outbox entry again.
			for _, d := range ops {
				if err := s.MarkDelivered(d.Notifier, d.ID); err != nil {
					t.Errorf("MarkDelivered(%d) after requeue: %v", d.ID, err)
				}
			}
			// New deliveries get new IDs.
			queueEvents(t, s, 1, "ops")
			if p, _ := s.Pending("ops", 0); len(p) != 1 || p[0].ID != 6 {
				t.Errorf("next delivery = %v, want ID 6", ids(p))
			}
		})
	}
}

func TestRequeueUnknownMovesNothing(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 2, "ops")
	if err := s.DeadLetter("ops", 1, t0, "gone"); err != nil {
		t.Fatal(err)
	}
	// 2 is in the outbox, not a dead letter; 88 does not exist.
	moved, err := s.Requeue(requeueTime, 1, 88, 2)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Requeue: %v; want ErrNotFound", err)
	}
	if want := "requeue dead letters: 2, 88: no such delivery"; err.Error() != want {
		t.Errorf("Requeue error:\n got %s\nwant %s", err, want)
	}
	if moved != 0 {
		t.Errorf("Requeue moved %d, want 0", moved)
	}
	dead, _ := s.DeadLettersAfter(0, 0)
	if diff := cmp.Diff([]uint64{1}, ids(dead)); diff != "" {
		t.Errorf("dead letter IDs (-want +got):\n%s", diff)
	}

	empty := mustOpen(t)
	if moved, err := empty.Requeue(requeueTime); moved != 0 || err != nil {
		t.Errorf("Requeue() of nothing = %d, %v; want 0, nil", moved, err)
	}
}

func TestDeadLetterCount(t *testing.T) {
	s := mustOpen(t)
	count := func() int {
		t.Helper()
		n, err := s.DeadLetterCount()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Errorf("fresh store: DeadLetterCount %d, want 0", n)
	}
	queueEvents(t, s, 300, "ops") // IDs 1…300: more than one page of keys
	for id := uint64(1); id <= 300; id++ {
		if err := s.DeadLetter("ops", id, t0, "410 Gone"); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 300 {
		t.Errorf("after 300 dead letters: DeadLetterCount %d, want 300", n)
	}
	if _, err := s.Requeue(requeueTime, 7, 9); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 298 || n != len(dead) {
		t.Errorf("after requeueing 2: DeadLetterCount %d, want 298 and len(DeadLetters) %d", n, len(dead))
	}
}

// requeueTime is when the tests queue dead letters again.
var requeueTime = time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
