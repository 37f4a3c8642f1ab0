package notify

// The tests of receivers that never answer. Each reaches its receiver over
// in-memory connections (newPipeReceiver) inside a synctest bubble, so the
// bubble's clock moves while the receiver hangs and a timeout ends the
// hang at exactly its time: the tests prove those times to the nanosecond
// and wait for no real time.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWebhookTimeout: a receiver that never answers makes Notify return at
// exactly its context's deadline, not a nanosecond before or after, with a
// retryable timeout free of the URL's secrets. The receiver is reached over
// in-memory connections inside a synctest bubble, so the deadline is the
// bubble's and the test waits for no real time.
func TestWebhookTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang, client := newPipeReceiver(t, hangUntilGone)
		w := newTestWebhook(t, "ops", hang.srv.URL+"/hook/s3cr3t?sig=p4ss", client)
		const timeout = 10 * time.Second // the bubble's: no real time passes
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		var got Result
		done := make(chan struct{})
		go func() {
			defer close(done)
			got = w.Notify(ctx, Message{EventID: "evt_1", Body: []byte(`{}`)})
		}()
		defer func() { cancel(); <-done }()

		time.Sleep(timeout - time.Nanosecond)
		synctest.Wait()
		if n := hang.count(); n != 1 {
			t.Fatalf("receiver got %d requests, want 1", n)
		}
		select {
		case <-done:
			t.Fatalf("Notify returned %+v a nanosecond before the deadline", got)
		default:
		}

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		select {
		case <-done:
			checkTransportError(t, got, "post "+hang.srv.URL+": timeout")
		default:
			t.Fatal("Notify still waits at the deadline")
		}
	})
}

// TestWorkerRetriesHangingReceiver: the worker's timeout ends an attempt
// whose receiver never answers, at exactly the timeout and not before; the
// failure is retried on the schedule, and the retry, answered, delivers the
// event under the same webhook-id. The receiver is reached over in-memory
// connections inside a synctest bubble, so the clock moves only while
// everything waits: the hanging request always arrives before the timeout
// and the answered one always beats it, however busy the machine.
func TestWorkerRetriesHangingReceiver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc, client := newPipeReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				hangUntilGone(n, w, r)
			}
		})
		st := openStore(t)
		start := time.Now()
		commitEvents(t, st, start, []string{"ops"}, "evt_1")
		log := &attemptLog{Notifier: newTestWebhook(t, "ops", rc.srv.URL, client)}
		const timeout = 10 * time.Second
		startWorker(t, NewWorker(st, []Notifier{log}, WorkerOptions{Timeout: timeout, Rand: half}))

		time.Sleep(timeout - time.Nanosecond)
		synctest.Wait() // the first attempt hangs
		if n := rc.count(); n != 1 {
			t.Fatalf("receiver got %d requests before the timeout, want 1", n)
		}
		ds := pending(t, st, "ops")
		if len(ds) != 1 {
			t.Fatalf("a nanosecond before the timeout the outbox holds %d deliveries, want 1", len(ds))
		}
		if ds[0].Attempts != 0 {
			t.Fatalf("a nanosecond before the timeout %d attempts are recorded (%q), want none: the first still waits", ds[0].Attempts, ds[0].LastError)
		}

		time.Sleep(time.Nanosecond)
		synctest.Wait() // the timeout has ended the first attempt
		ds = pending(t, st, "ops")
		if len(ds) != 1 {
			t.Fatalf("at the timeout the outbox holds %d deliveries, want 1", len(ds))
		}
		type outcome struct {
			Attempts    int
			NextAttempt time.Time
			LastError   string
		}
		// A retryable timeout; the first retry 1s after it, less a tenth of
		// jitter.
		want := outcome{1, start.Add(timeout + 900*time.Millisecond), "post " + rc.srv.URL + ": timeout"}
		if diff := cmp.Diff(want, outcome{ds[0].Attempts, ds[0].NextAttempt, ds[0].LastError}); diff != "" {
			t.Errorf("the delivery after the timeout (-want +got):\n%s", diff)
		}

		time.Sleep(time.Hour)
		if diff := cmp.Diff([]time.Duration{timeout + 900*time.Millisecond}, log.gaps()); diff != "" {
			t.Errorf("gaps between attempts (-want +got):\n%s", diff)
		}
		var ids []string
		for _, r := range rc.requests() {
			ids = append(ids, r.Header.Get("Webhook-Id"))
		}
		if diff := cmp.Diff([]string{"evt_1", "evt_1"}, ids); diff != "" {
			t.Errorf("webhook-ids received (-want +got):\n%s", diff)
		}
		if ds := pending(t, st, "ops"); len(ds) != 0 {
			t.Errorf("outbox still holds %+v", ds)
		}
		if ds := deadLetters(t, st); len(ds) != 0 {
			t.Errorf("dead letters %+v", ds)
		}
	})
}

// TestWorkerIsolatesNotifiers: while one receiver hangs, the other gets
// all its events at once. The hanging one has 8 attempts in flight (the
// default Parallel) until their timeout ends them, at exactly its time and
// not a nanosecond before, and the next 8 start then. Stopping abandons
// the attempts in flight: their deliveries stay as they were. The
// receivers are reached over in-memory connections inside a synctest
// bubble, so the clock moves only while everything waits.
func TestWorkerIsolatesNotifiers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow, slowClient := newPipeReceiver(t, hangUntilGone)
		fast, fastClient := newPipeReceiver(t, nil)
		st := openStore(t)
		start := time.Now()
		var ids []string
		for i := range 20 {
			ids = append(ids, fmt.Sprintf("evt_%02d", i))
		}
		commitEvents(t, st, start, []string{"slow", "fast"}, ids...)
		const timeout = time.Minute
		w := NewWorker(st, []Notifier{
			newTestWebhook(t, "slow", slow.srv.URL, slowClient),
			newTestWebhook(t, "fast", fast.srv.URL, fastClient),
		}, WorkerOptions{Timeout: timeout, Rand: half})
		stop := startWorker(t, w)

		synctest.Wait()
		if n, left := fast.count(), len(pending(t, st, "fast")); n != 20 || left != 0 {
			t.Fatalf("at once the fast receiver got %d requests and %d are pending, want 20 and none", n, left)
		}
		var got []string
		for _, r := range fast.requests() {
			got = append(got, r.Header.Get("Webhook-Id"))
		}
		slices.Sort(got) // up to 8 in flight at once may arrive in any order
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("fast receiver's events (-want +got):\n%s", diff)
		}
		untouched := outcomes(t, st, "slow", slow)

		time.Sleep(timeout - time.Nanosecond)
		synctest.Wait()
		if n := slow.count(); n != 8 {
			t.Errorf("a nanosecond before the timeout the slow receiver got %d requests, want 8 (the default Parallel, all still hanging)", n)
		}
		if diff := cmp.Diff(untouched, outcomes(t, st, "slow", slow)); diff != "" {
			t.Errorf("slow outbox a nanosecond before the timeout (-want +got):\n%s", diff)
		}

		// At the timeout the first 8 are recorded for a retry 1s later, less
		// a tenth of jitter, and the next 8 start.
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := slow.count(); n != 16 {
			t.Errorf("at the timeout the slow receiver got %d requests, want 16", n)
		}
		want := slices.Clone(untouched)
		for i := range 8 {
			want[i] = outcome{ids[i], 1, start.Add(timeout + 900*time.Millisecond), "post http://HOST: timeout"}
		}
		if diff := cmp.Diff(want, outcomes(t, st, "slow", slow)); diff != "" {
			t.Errorf("slow outbox at the timeout (-want +got):\n%s", diff)
		}

		// Stopping abandons the 8 attempts in flight.
		stop()
		if diff := cmp.Diff(want, outcomes(t, st, "slow", slow)); diff != "" {
			t.Errorf("slow outbox after stop (-want +got):\n%s", diff)
		}
		if n := fast.count(); n != 20 {
			t.Errorf("the fast receiver got %d requests in all, want 20", n)
		}
	})
}
