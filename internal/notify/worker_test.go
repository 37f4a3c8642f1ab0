package notify

import (
	"context"
	"fmt"
	"net/http"
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
