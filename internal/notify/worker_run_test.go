package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// t0 is when the events of the RunDrain and RunOnce tests happen, and the
// time those tests' Worker clocks stand still at.
var t0 = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// outcome is what the tests compare of a pending delivery.
type outcome struct {
	EventID     string
	Attempts    int
	NextAttempt time.Time
	LastError   string // with HOST for the receiver's address
}

// outcomes returns the outcomes of the pending deliveries of notifier.
func outcomes(t *testing.T, st *store.Store, notifier string, rc *receiver) []outcome {
	t.Helper()
	host := strings.TrimPrefix(rc.srv.URL, "http://")
	var out []outcome
	for _, d := range pending(t, st, notifier) {
		out = append(out, outcome{d.EventID, d.Attempts, d.NextAttempt, strings.ReplaceAll(d.LastError, host, "HOST")})
	}
	return out
}

// requestsByID counts the requests a receiver got per webhook-id.
func requestsByID(rc *receiver) map[string]int {
	out := make(map[string]int)
	for _, r := range rc.requests() {
		out[r.Header.Get("Webhook-Id")]++
	}
	return out
}

// runAsync runs run in a goroutine; the returned function waits up to 10s
// for it to return and gives its error.
func runAsync(t *testing.T, run func() error) (wait func() error, done <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	var err error
	go func() {
		defer close(ch)
		err = run()
	}()
	return func() error {
		t.Helper()
		select {
		case <-ch:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("still running after 10s")
			return nil
		}
	}, ch
}

// TestWorkerRunDrain runs on the real clock: the receiver holds the first
// two requests until the test lets them go, after the drain has begun.
func TestWorkerRunDrain(t *testing.T) {
	tests := []struct {
		name   string
		answer int
		want   []outcome
	}{
		{name: "delivered", answer: http.StatusNoContent, want: []outcome{{EventID: "evt_3"}}},
		{name: "failed", answer: http.StatusServiceUnavailable, want: []outcome{
			{"evt_1", 1, t0.Add(900 * time.Millisecond), "post http://HOST: status 503 Service Unavailable"},
			{"evt_2", 1, t0.Add(900 * time.Millisecond), "post http://HOST: status 503 Service Unavailable"},
			{EventID: "evt_3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
					w.WriteHeader(tt.answer)
				case <-r.Context().Done():
				}
			})
			st := openStore(t)
			commitEvents(t, st, t0, []string{"ops"}, "evt_1", "evt_2", "evt_3")
			w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)},
				WorkerOptions{Parallel: 2, Timeout: time.Minute, Rand: half, Now: func() time.Time { return t0 }})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hard, cancelHard := context.WithCancel(context.Background())
			defer cancelHard()
			wait, done := runAsync(t, func() error { return w.RunDrain(ctx, hard) })

			waitFor(t, "two attempts in flight", 10*time.Second, func() bool { return rc.count() == 2 })
			cancel()
			select {
			case <-done:
				t.Fatal("RunDrain returned with attempts in flight")
			default:
			}
			close(release)
			if err := wait(); err != nil {
				t.Fatalf("RunDrain: %v", err)
			}

			if diff := cmp.Diff(map[string]int{"evt_1": 1, "evt_2": 1}, requestsByID(rc)); diff != "" {
				t.Errorf("requests per webhook-id (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, outcomes(t, st, "ops", rc)); diff != "" {
				t.Errorf("outbox after the drain (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkerRunDrainHard: a drain waits for the attempts in flight, whose
// receiver never answers, until hard ends: then RunDrain returns at once,
// the attempts abandoned and their deliveries as they were, even a
// nanosecond before their timeout. Without hard, their own timeout ends
// them at exactly its time, and records them. The receiver is reached over
// in-memory connections inside a synctest bubble, so the clock moves only
// while everything waits.
func TestWorkerRunDrainHard(t *testing.T) {
	const timeout = time.Minute
	tests := []struct {
		name string
		hard bool          // hard ends a nanosecond before the timeout
		took time.Duration // from the drain's start until RunDrain returns
		// want is the outbox after the drain, given the one before and
		// when the drain started.
		want func(before []outcome, start time.Time) []outcome
	}{
		{name: "hard before the timeout", hard: true, took: timeout - time.Nanosecond,
			want: func(before []outcome, _ time.Time) []outcome { return before }},
		// A retryable timeout; the first retry 1s after it, less a tenth of
		// jitter. evt_3 never starts.
		{name: "timeout", took: timeout, want: func(before []outcome, start time.Time) []outcome {
			next := start.Add(timeout + 900*time.Millisecond)
			return []outcome{
				{"evt_1", 1, next, "post http://HOST: timeout"},
				{"evt_2", 1, next, "post http://HOST: timeout"},
				before[2],
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rc, client := newPipeReceiver(t, hangUntilGone)
				st := openStore(t)
				commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1", "evt_2", "evt_3")
				before := outcomes(t, st, "ops", rc)
				w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, client)},
					WorkerOptions{Parallel: 2, Timeout: timeout, Rand: half})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				hard, cancelHard := context.WithCancel(context.Background())
				defer cancelHard()
				start := time.Now()
				wait, done := runAsync(t, func() error { return w.RunDrain(ctx, hard) })

				synctest.Wait()
				if n := rc.count(); n != 2 {
					t.Fatalf("receiver got %d requests, want 2 in flight", n)
				}
				cancel()
				time.Sleep(timeout - time.Nanosecond)
				synctest.Wait()
				select {
				case <-done:
					t.Fatal("RunDrain returned a nanosecond before the timeout of the attempts in flight")
				default:
				}
				if tt.hard {
					cancelHard()
				} else {
					time.Sleep(time.Nanosecond)
				}
				if err := wait(); err != nil {
					t.Fatalf("RunDrain: %v", err)
				}
				if took := time.Since(start); took != tt.took {
					t.Errorf("RunDrain returned after %s, want %s", took, tt.took)
				}

				if diff := cmp.Diff(tt.want(before, start), outcomes(t, st, "ops", rc)); diff != "" {
					t.Errorf("outbox after the drain (-want +got):\n%s", diff)
				}
				if ds := deadLetters(t, st); len(ds) != 0 {
					t.Errorf("dead letters %+v", ds)
				}
				if n := rc.count(); n != 2 {
					t.Errorf("receiver got %d requests, want 2", n)
				}
			})
		})
	}
}

// TestWorkerRunOnce checks that one pass attempts every due delivery once,
// even when a failed one is due again at once (a clock that jumps a minute
// at every reading), records each failure for a later Run, leaves
// deliveries that are not due alone, and returns by itself.
func TestWorkerRunOnce(t *testing.T) {
	tests := []struct {
		name     string
		rand     func() float64
		tick     bool      // the clock jumps a minute at every reading
		wantNext time.Time // zero with tick: any time after t0
	}{
		{name: "retry due at once", rand: func() float64 { return 0 }, tick: true},
		{name: "retry later", rand: half, wantNext: t0.Add(900 * time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				if id := r.Header.Get("Webhook-Id"); id == "evt_2" || id == "evt_4" {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			})
			down := newReceiver(t, status(http.StatusInternalServerError, ""))
			st := openStore(t)
			commitEvents(t, st, t0, []string{"ops", "down"}, "evt_1", "evt_2", "evt_3", "evt_4", "evt_5")
			commitEvents(t, st, t0, []string{"ops"}, "evt_6")
			later := pending(t, st, "ops")[5]
			laterAt := t0.Add(1000 * time.Hour)
			if err := st.RecordAttempt(later.Notifier, later.ID, 1, laterAt, "earlier"); err != nil {
				t.Fatal(err)
			}
			now := func() time.Time { return t0 }
			if tt.tick {
				var readings atomic.Int64
				now = func() time.Time { return t0.Add(time.Duration(readings.Add(1)) * time.Minute) }
			}
			w := NewWorker(st, []Notifier{
				newTestWebhook(t, "ops", ops.srv.URL, nil),
				newTestWebhook(t, "down", down.srv.URL, nil),
			}, WorkerOptions{Rand: tt.rand, Now: now})
			// anyAfter zeroes the retry times after t0 of a ticking clock's
			// outcomes, which depend on the order of the attempts.
			anyAfter := func(os []outcome) []outcome {
				for i := range os {
					if tt.tick && os[i].NextAttempt.After(t0) && !os[i].NextAttempt.Equal(laterAt) {
						os[i].NextAttempt = time.Time{}
					}
				}
				return os
			}

			wait, _ := runAsync(t, func() error { return w.RunOnce(context.Background()) })
			if err := wait(); err != nil {
				t.Fatalf("RunOnce: %v", err)
			}

			each := map[string]int{"evt_1": 1, "evt_2": 1, "evt_3": 1, "evt_4": 1, "evt_5": 1}
			if diff := cmp.Diff(each, requestsByID(ops)); diff != "" {
				t.Errorf("ops requests per webhook-id (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(each, requestsByID(down)); diff != "" {
				t.Errorf("down requests per webhook-id (-want +got):\n%s", diff)
			}
			e503 := "post http://HOST: status 503 Service Unavailable"
			want := []outcome{
				{"evt_2", 1, tt.wantNext, e503}, {"evt_4", 1, tt.wantNext, e503}, {"evt_6", 1, laterAt, "earlier"},
			}
			if diff := cmp.Diff(want, anyAfter(outcomes(t, st, "ops", ops))); diff != "" {
				t.Errorf("ops outbox (-want +got):\n%s", diff)
			}
			var wantDown []outcome
			for i := 1; i <= 5; i++ {
				wantDown = append(wantDown, outcome{fmt.Sprintf("evt_%d", i), 1, tt.wantNext, "post http://HOST: status 500 Internal Server Error"})
			}
			if diff := cmp.Diff(wantDown, anyAfter(outcomes(t, st, "down", down))); diff != "" {
				t.Errorf("down outbox (-want +got):\n%s", diff)
			}
			if err := w.RunOnce(context.Background()); err == nil {
				t.Error("second RunOnce succeeded, want an error")
			}
		})
	}
}

// TestWorkerRunOnceBeyondOneBatch checks that RunOnce does not stop at the
// first batch a lane reads while deliveries leave the outbox.
func TestWorkerRunOnceBeyondOneBatch(t *testing.T) {
	rc := newReceiver(t, nil)
	st := openStore(t)
	var ids []string
	for i := range pendingBatch + 44 {
		ids = append(ids, fmt.Sprintf("evt_%03d", i))
	}
	commitEvents(t, st, t0, []string{"ops"}, ids...)
	w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)}, WorkerOptions{})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if n := len(pending(t, st, "ops")); n != 0 {
		t.Errorf("%d deliveries left in the outbox, want 0", n)
	}
	got := requestsByID(rc)
	if len(got) != len(ids) {
		t.Errorf("receiver got %d distinct events, want %d", len(got), len(ids))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
}

// TestWorkerRunOnceStoreError checks that RunOnce reports an outbox it
// cannot read, naming the notifier.
func TestWorkerRunOnceStoreError(t *testing.T) {
	rc := newReceiver(t, nil)
	st := openStore(t)
	commitEvents(t, st, t0, []string{"ops"}, "evt_1")
	outbox := &flakyOutbox{Store: st, pendingFails: 1}
	w := NewWorker(outbox, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)}, WorkerOptions{})
	err := w.RunOnce(context.Background())
	if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "notifier ops: ") {
		t.Errorf("RunOnce: %v; want the notifier and the store's error", err)
	}
	if len(pending(t, st, "ops")) != 1 || rc.count() != 0 {
		t.Errorf("after a failed read: %d pending, %d requests; want 1 and 0", len(pending(t, st, "ops")), rc.count())
	}
}

// TestRequeuedDeadLetterGetsFreshAge: a dead letter older than max_age that
// `deliveries retry` queues again gets a whole run of attempts, not one.
func TestRequeuedDeadLetterGetsFreshAge(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	st := openStore(t)
	commitEvents(t, st, time.Now().Add(-48*time.Hour), []string{"ops"}, "evt_old")
	id := pending(t, st, "ops")[0].ID
	if err := st.DeadLetter("ops", id, time.Now(), "given up yesterday"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Requeue(time.Now(), id); err != nil {
		t.Fatal(err)
	}
	startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)},
		WorkerOptions{MaxAge: 24 * time.Hour, BaseBackoff: time.Millisecond, Rand: func() float64 { return 0 }}))
	waitFor(t, "an empty outbox", 10*time.Second, func() bool { return len(pending(t, st, "ops")) == 0 })
	if dead := deadLetters(t, st); len(dead) != 0 {
		t.Errorf("dead letters %+v; want the retried delivery delivered", dead)
	}
	if n := rc.count(); n != 2 {
		t.Errorf("receiver got %d requests; want a failure, then the retry", n)
	}
}
