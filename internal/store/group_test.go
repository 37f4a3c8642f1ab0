package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// holdGroup starts a write that blocks inside its transaction until the
// returned release is called, so that writes started meanwhile queue up
// for the next group. It returns once the blocking write holds the
// transaction.
func holdGroup(t *testing.T, s *Store) (release func()) {
	t.Helper()
	inside, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.write(func(*queue) error {
			close(inside)
			<-unblock
			return nil
		})
	}()
	<-inside
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unblock)
			if err := <-done; err != nil {
				t.Errorf("blocking write: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// waitQueued polls until n writes wait for the next group, or fails.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		s.group.mu.Lock()
		got := len(s.group.queue)
		s.group.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%d writes queued after 10s, want %d", got, n)
		case <-tick.C:
		}
	}
}

func TestGroupCommitSharesOneTransaction(t *testing.T) {
	s := mustOpen(t)
	release := holdGroup(t, s)
	const n = 20
	var mu sync.Mutex
	seen := make(map[*queue]int) // transaction views, by how many writes saw them last
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var last *queue
			if err := s.write(func(q *queue) error { last = q; return nil }); err != nil {
				t.Error(err)
			}
			mu.Lock()
			seen[last]++
			mu.Unlock()
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	if len(seen) != 1 {
		t.Errorf("%d writes ran in %d transactions, want 1: %v", n, len(seen), seen)
	}
}

// TestGroupCommitResults checks that writes sharing a transaction each get
// their own result: one write's ErrNotFound neither fails nor undoes the
// others, and two writes to the same delivery behave as if made one after
// the other.
func TestGroupCommitResults(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 6, "ops") // 1…6
	release := holdGroup(t, s)

	next := t0.Add(time.Minute)
	calls := []struct {
		name string
		call func() error
	}{
		{"MarkDelivered(1)", func() error { return s.MarkDelivered("ops", 1) }},
		{"MarkDelivered(99)", func() error { return s.MarkDelivered("ops", 99) }},
		{"RecordAttempt(2)", func() error { return s.RecordAttempt("ops", 2, 1, next, "503") }},
		{"DeadLetter(3)", func() error { return s.DeadLetter("ops", 3, t0, "410") }},
		{"RecordAttempt(98)", func() error { return s.RecordAttempt("ops", 98, 1, next, "503") }},
		{"MarkDelivered(4) first", func() error { return s.MarkDelivered("ops", 4) }},
		{"MarkDelivered(4) again", func() error { return s.MarkDelivered("ops", 4) }},
		{"DeadLetter(97)", func() error { return s.DeadLetter("ops", 97, t0, "x") }},
		{"MarkDelivered(5)", func() error { return s.MarkDelivered("ops", 5) }},
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { errs[i] = c.call() })
	}
	waitQueued(t, s, len(calls))
	release()
	wg.Wait()

	got := make(map[string]string)
	for i, c := range calls {
		switch {
		case errs[i] == nil:
			got[c.name] = "ok"
		case errors.Is(errs[i], ErrNotFound):
			got[c.name] = "not found"
		default:
			got[c.name] = errs[i].Error()
		}
	}
	// Which of the two MarkDelivered(4) comes first is up to the race.
	if got["MarkDelivered(4) first"] == "not found" {
		got["MarkDelivered(4) first"], got["MarkDelivered(4) again"] = got["MarkDelivered(4) again"], got["MarkDelivered(4) first"]
	}
	want := map[string]string{
		"MarkDelivered(1)": "ok", "MarkDelivered(99)": "not found", "RecordAttempt(2)": "ok",
		"DeadLetter(3)": "ok", "RecordAttempt(98)": "not found", "MarkDelivered(4) first": "ok",
		"MarkDelivered(4) again": "not found", "DeadLetter(97)": "not found", "MarkDelivered(5)": "ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if err := errs[1]; err == nil || err.Error() != "mark delivery 99 of ops delivered: no such delivery" {
		t.Errorf("MarkDelivered(99) = %v", err)
	}

	s = reopen(t, s)
	out, dead := listAll(t, s)
	type state struct {
		Outbox, Dead []uint64
		Attempts2    int
		Next2        time.Time
	}
	gotState := state{Outbox: ids(out), Dead: ids(dead)}
	if len(out) > 0 {
		gotState.Attempts2, gotState.Next2 = out[0].Attempts, out[0].NextAttempt
	}
	if diff := cmp.Diff(state{Outbox: []uint64{2, 6}, Dead: []uint64{3}, Attempts2: 1, Next2: next}, gotState); diff != "" {
		t.Errorf("state after the group, reopened (-want +got):\n%s", diff)
	}
}

// TestGroupCommitConcurrent runs many writers without coordination, for
// the race detector and to check that nothing is lost or doubled.
func TestGroupCommitConcurrent(t *testing.T) {
	s := mustOpen(t)
	const n = 300
	queueEvents(t, s, n, "ops") // 1…n
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	for id := uint64(1); id <= n; id++ {
		wg.Go(func() {
			switch id % 3 {
			case 0:
				errs[id] = s.MarkDelivered("ops", id)
			case 1:
				errs[id] = s.RecordAttempt("ops", id, 1, t0, "503")
			default:
				errs[id] = s.DeadLetter("ops", id, t0, "410")
			}
		})
	}
	wg.Wait()
	for id, err := range errs {
		if err != nil {
			t.Errorf("write of %d: %v", id, err)
		}
	}
	out, dead := listAll(t, s)
	got := fmt.Sprintf("%d in the outbox, all attempted: %v; %d dead", len(out),
		!slices.ContainsFunc(out, func(d Delivery) bool { return d.Attempts != 1 }), len(dead))
	if want := "100 in the outbox, all attempted: true; 100 dead"; got != want {
		t.Errorf("after %d concurrent writes: %s, want %s", n, got, want)
	}
}
