package notify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// startWorker runs w until the returned stop is called or the test ends.
func startWorker(t testing.TB, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// newTestWebhook returns a webhook notifier signed with testSecret1.
func newTestWebhook(t testing.TB, name, url string, client *http.Client) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookOptions{Name: name, URL: url, Secrets: []string{testSecret1}, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// attemptLog wraps a Notifier and records when each attempt began.
type attemptLog struct {
	Notifier
	mu sync.Mutex
	at []time.Time
}

func (a *attemptLog) Notify(ctx context.Context, m Message) Result {
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.mu.Unlock()
	return a.Notifier.Notify(ctx, m)
}

// times returns when each attempt began.
func (a *attemptLog) times() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at...)
}

// gaps returns the time between consecutive attempts.
func (a *attemptLog) gaps() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(a.at); i++ {
		out = append(out, a.at[i].Sub(a.at[i-1]))
	}
	return out
}

func half() float64 { return 0.5 }

func TestWorkerRetriesUntilDelivered(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1")
		log := &attemptLog{Notifier: newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}
		startWorker(t, NewWorker(st, []Notifier{log}, WorkerOptions{Rand: half}))

		time.Sleep(time.Hour) // the bubble's clock: every retry happens meanwhile

		// Jitter at 0.5 takes a tenth off 1s, 4s, 16s.
		if diff := cmp.Diff([]time.Duration{900 * time.Millisecond, 3600 * time.Millisecond, 14400 * time.Millisecond}, log.gaps()); diff != "" {
			t.Errorf("gaps between attempts (-want +got):\n%s", diff)
		}
		reqs := rc.requests()
		if len(reqs) != 4 {
			t.Fatalf("receiver got %d requests, want 4", len(reqs))
		}
		lib, _ := standardwebhooks.NewWebhook(testSecret1)
		times := log.times()
		for i, r := range reqs {
			if id := r.Header.Get("Webhook-Id"); id != "evt_1" {
				t.Errorf("request %d: webhook-id %q, want evt_1", i+1, id)
			}
			if err := lib.VerifyIgnoringTimestamp(r.Body, r.Header); err != nil {
				t.Errorf("request %d: %v", i+1, err)
			}
			if got, want := r.Header.Get("Webhook-Timestamp"), fmt.Sprint(times[i].Unix()); got != want {
				t.Errorf("request %d: webhook-timestamp %s, want the attempt's time %s", i+1, got, want)
			}
		}
		if ds := pending(t, st, "ops"); len(ds) != 0 {
			t.Errorf("outbox still holds %+v", ds)
		}
		if ds := deadLetters(t, st); len(ds) != 0 {
			t.Errorf("dead letters %+v", ds)
		}
	})
}

func TestWorkerHonoursRetryAfter(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		commitEvents(t, st, start, []string{"ops"}, "evt_1")
		log := &attemptLog{Notifier: newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}
		startWorker(t, NewWorker(st, []Notifier{log}, WorkerOptions{Rand: half}))

		synctest.Wait() // the first attempt has failed; the lane sleeps
		ds := pending(t, st, "ops")
		if len(ds) != 1 {
			t.Fatalf("outbox holds %d deliveries, want 1", len(ds))
		}
		if ds[0].Attempts != 1 || !ds[0].NextAttempt.Equal(start.Add(120*time.Second)) ||
			!strings.Contains(ds[0].LastError, "status 429 Too Many Requests") {
			t.Errorf("after a 429 with Retry-After 120: %+v", ds[0])
		}

		time.Sleep(time.Hour)
		if diff := cmp.Diff([]time.Duration{120 * time.Second}, log.gaps()); diff != "" {
			t.Errorf("gaps between attempts (-want +got):\n%s", diff)
		}
		if ds := pending(t, st, "ops"); len(ds) != 0 {
			t.Errorf("outbox still holds %+v", ds)
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

func TestWorkerDeadLetters(t *testing.T) {
	tests := []struct {
		name         string
		respond      func(int, http.ResponseWriter, *http.Request)
		opts         WorkerOptions
		wantRequests int
		wantErr      string // with HOST for the receiver's address
		wantAge      time.Duration
	}{
		{name: "410 at once", respond: status(http.StatusGone, ""), wantRequests: 1,
			wantErr: "post http://HOST: status 410 Gone"},
		{name: "400 at once", respond: status(http.StatusBadRequest, "no such event type"), wantRequests: 1,
			wantErr: "post http://HOST: status 400 Bad Request: no such event type"},
		// The first retry after 0.9s (1s less a tenth of jitter), the last
		// attempt at max age. The circuit stays closed, so nothing probes.
		{name: "max attempts", respond: status(http.StatusBadGateway, ""), opts: WorkerOptions{MaxAttempts: 3, CircuitAfter: 48 * time.Hour},
			wantRequests: 3, wantErr: "post http://HOST: status 502 Bad Gateway (gave up after 3 attempts)", wantAge: 24 * time.Hour},
		// Delays of the 4s base (more than the time left shared among 14
		// retries) less a tenth of jitter: 0, 3.6, 7.2, then 10.8 cut to the
		// max-age deadline, 10.
		{name: "max age", respond: status(http.StatusServiceUnavailable, ""),
			opts:         WorkerOptions{MaxAge: 10 * time.Second, BaseBackoff: 4 * time.Second},
			wantRequests: 4, wantErr: "post http://HOST: status 503 Service Unavailable (gave up after max age 10s)", wantAge: 10 * time.Second},
		{name: "retry-after past max age", respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, opts: WorkerOptions{MaxAge: time.Minute}, wantRequests: 1,
			wantErr: "post http://HOST: status 429 Too Many Requests (retry-after 1h0m0s is past max age 1m0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.respond)
			host := strings.TrimPrefix(rc.srv.URL, "http://")
			synctest.Test(t, func(t *testing.T) {
				st := openStore(t)
				created := time.Now()
				commitEvents(t, st, created, []string{"ops"}, "evt_1")
				opts := tt.opts
				opts.Rand = half
				startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}, opts))
				time.Sleep(25 * time.Hour)

				if got := rc.count(); got != tt.wantRequests {
					t.Errorf("receiver got %d requests, want %d", got, tt.wantRequests)
				}
				if ds := pending(t, st, "ops"); len(ds) != 0 {
					t.Errorf("outbox still holds %+v", ds)
				}
				dead := deadLetters(t, st)
				if len(dead) != 1 {
					t.Fatalf("%d dead letters, want 1", len(dead))
				}
				d := dead[0]
				got := struct {
					Event, Err string
					Attempts   int
					Age        time.Duration
				}{d.EventID, strings.ReplaceAll(d.LastError, host, "HOST"), d.Attempts, d.DeadAt.Sub(d.CreatedAt)}
				want := struct {
					Event, Err string
					Attempts   int
					Age        time.Duration
				}{"evt_1", tt.wantErr, tt.wantRequests, tt.wantAge}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("dead letter (-want +got):\n%s", diff)
				}
			})
		})
	}
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

func TestWorkerWake(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())},
			WorkerOptions{PollInterval: time.Hour})
		startWorker(t, w)
		synctest.Wait() // idle: the outbox is empty

		start := time.Now()
		commitEvents(t, st, start, []string{"ops"}, "evt_1")
		w.Wake()
		synctest.Wait()
		if rc.count() != 1 || time.Since(start) != 0 {
			t.Errorf("after Wake: %d requests after %s, want 1 at once", rc.count(), time.Since(start))
		}
	})
}

func TestWorkerBrokenSlack(t *testing.T) {
	rc := newReceiver(t, status(http.StatusNotFound, "channel_not_found"))
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"slack"}, "evt_1", "evt_2", "evt_3")
		s, err := NewSlack(SlackOptions{Name: "slack", URL: rc.srv.URL + "/services/T0/B0/s3cr3t", Client: bubbleClient()})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		var logs syncBuffer
		startWorker(t, NewWorker(st, []Notifier{s}, WorkerOptions{Metrics: NewMetrics(reg), Logger: zerolog.New(&logs)}))
		time.Sleep(time.Hour)

		if rc.count() != 1 {
			t.Errorf("receiver got %d requests, want 1: a broken notifier sends nothing more", rc.count())
		}
		dead := deadLetters(t, st)
		if len(dead) != 3 {
			t.Fatalf("%d dead letters, want 3", len(dead))
		}
		for _, d := range dead {
			if !strings.Contains(d.LastError, "channel_not_found") || strings.Contains(d.LastError, "s3cr3t") {
				t.Errorf("dead letter %s: last error %q", d.EventID, d.LastError)
			}
		}
		want := map[string]float64{
			`rtkwatchd_deliveries_total{notifier="slack",outcome="dead"}`: 3,
			`rtkwatchd_delivery_duration_seconds{notifier="slack"}`:       3,
			`rtkwatchd_notifier_broken{notifier="slack"}`:                 1,
			`rtkwatchd_notifier_circuit_open{notifier="slack"}`:           0,
		}
		if diff := cmp.Diff(want, gather(t, reg)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		if strings.Contains(logs.String(), "s3cr3t") {
			t.Errorf("logs leak the Slack URL:\n%s", logs.String())
		}
	})
}
