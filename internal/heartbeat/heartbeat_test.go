package heartbeat

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// token is the secret part of the test URLs; it must never be logged.
const token = "0f1e2d3c-secret-uuid"

// recorder is a transport that notes when, in the bubble's time, each
// request was made and with which method; hang holds requests until their
// context ends.
type recorder struct {
	mu    sync.Mutex
	at    []time.Duration
	meth  []string
	start time.Time
	hang  atomic.Bool
	next  http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.at = append(r.at, time.Since(r.start))
	r.meth = append(r.meth, req.Method)
	r.mu.Unlock()
	if r.hang.Load() {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) times() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.at...)
}

// syncBuffer is a log sink for a Heartbeat's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run starts h inside the bubble and stops it, waiting for it, when the
// test ends.
func run(t *testing.T, h *Heartbeat) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// progress is a Progressed whose answer the test sets, and that notes the
// times it was asked about.
type progress struct {
	mu     sync.Mutex
	ok     bool
	asked  []time.Duration
	origin time.Time
}

func (p *progress) set(ok bool) {
	p.mu.Lock()
	p.ok = ok
	p.mu.Unlock()
}

func (p *progress) Progressed(since time.Time) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, since.Sub(p.origin))
	if !p.ok {
		return false, "watch w: no cycle finished"
	}
	return true, ""
}

func newTest(t *testing.T, srvURL string, opts Options) (*recorder, *progress, *syncBuffer, *prometheus.Registry) {
	t.Helper()
	rec := &recorder{start: time.Now(), next: &http.Transport{DisableKeepAlives: true}}
	p := &progress{ok: true, origin: time.Now()}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	opts.URL = srvURL + "/ping/" + token
	opts.Progressed = p.Progressed
	opts.Client = &http.Client{Transport: rec}
	opts.Logger = zerolog.New(logs)
	opts.Metrics = NewMetrics(reg)
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	run(t, h)
	return rec, p, logs, reg
}

func counts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestHeartbeatEveryInterval(t *testing.T) {
	var paths atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { paths.Store(r.Method + " " + r.URL.Path) }))
	t.Cleanup(srv.Close)
	synctest.Test(t, func(t *testing.T) {
		rec, p, _, reg := newTest(t, srv.URL, Options{Method: http.MethodHead})
		time.Sleep(3*time.Minute - time.Nanosecond)
		if diff := cmp.Diff([]time.Duration{time.Minute, 2 * time.Minute}, rec.times()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if diff := cmp.Diff([]time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}, rec.times()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		// Each interval asks about the interval just over.
		if diff := cmp.Diff([]time.Duration{0, time.Minute, 2 * time.Minute}, p.asked); diff != "" {
			t.Errorf("progress asked since (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]float64{OutcomeSent: 3, OutcomeFailed: 0, OutcomeWithheld: 0}, counts(t, reg)); diff != "" {
			t.Errorf("intervals (-want +got):\n%s", diff)
		}
	})
	if got := paths.Load(); got != "HEAD /ping/"+token {
		t.Errorf("last request %v, want HEAD of the URL", got)
	}
}

func TestHeartbeatWithheldWithoutProgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	synctest.Test(t, func(t *testing.T) {
		rec, p, logs, reg := newTest(t, srv.URL, Options{})
		time.Sleep(time.Minute + time.Second) // sent at 1m
		p.set(false)
		time.Sleep(2 * time.Minute) // withheld at 2m and 3m
		p.set(true)
		time.Sleep(2 * time.Minute) // sent at 4m and 5m
		synctest.Wait()
		want := []time.Duration{time.Minute, 4 * time.Minute, 5 * time.Minute}
		if diff := cmp.Diff(want, rec.times()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]float64{OutcomeSent: 3, OutcomeFailed: 0, OutcomeWithheld: 2}, counts(t, reg)); diff != "" {
			t.Errorf("intervals (-want +got):\n%s", diff)
		}
		if n := strings.Count(logs.String(), "watch w: no cycle finished"); n != 2 {
			t.Errorf("%d withheld intervals logged, want 2:\n%s", n, logs.String())
		}
	})
}

// TestHeartbeatFailures answers 500, then refuses connections, then
// hangs past the timeout: each interval makes one request and no more,
// and the logs name the host but never the URL's token.
func TestHeartbeatFailures(t *testing.T) {
	var status atomic.Int64
	status.Store(http.StatusInternalServerError)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, wantLog string
		hang               bool
	}{
		{name: "500", url: srv.URL, wantLog: "request heartbeat " + srv.URL + ": status 500 Internal Server Error"},
		{name: "refused", url: closed, wantLog: "connection refused"},
		{name: "timeout", url: srv.URL, hang: true, wantLog: "request heartbeat " + srv.URL + ": timeout after 5s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec, _, logs, reg := newTest(t, tt.url, Options{Timeout: 5 * time.Second})
				rec.hang.Store(tt.hang)
				time.Sleep(3*time.Minute + 10*time.Second)
				synctest.Wait()
				want := []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}
				if diff := cmp.Diff(want, rec.times()); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[string]float64{OutcomeSent: 0, OutcomeFailed: 3, OutcomeWithheld: 0}, counts(t, reg)); diff != "" {
					t.Errorf("intervals (-want +got):\n%s", diff)
				}
				if !strings.Contains(logs.String(), tt.wantLog) {
					t.Errorf("logs lack %q:\n%s", tt.wantLog, logs.String())
				}
				if strings.Contains(logs.String(), token) {
					t.Errorf("logs leak the URL's token:\n%s", logs.String())
				}
			})
		})
	}
}

func TestNewRejects(t *testing.T) {
	ok := func(time.Time) (bool, string) { return true, "" }
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"relative url", Options{URL: "hc-ping.com/" + token, Progressed: ok}, "heartbeat: url must be an absolute http:// or https:// URL"},
		{"ftp url", Options{URL: "ftp://hc-ping.com/" + token, Progressed: ok}, "heartbeat: url must be an absolute http:// or https:// URL"},
		{"no progress", Options{URL: "https://hc-ping.com/" + token}, "heartbeat: no progress check"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}
