package rtkapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// heldTransport answers every request with a live session once the test
// lets it go; it counts the requests it holds. It runs inside a synctest
// bubble, where a goroutine blocked on its channel is durably blocked.
type heldTransport struct {
	arrived atomic.Int32
	holding atomic.Int32
	peak    atomic.Int32
	release chan struct{}
}

func (t *heldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.arrived.Add(1)
	n := t.holding.Add(1)
	for p := t.peak.Load(); n > p && !t.peak.CompareAndSwap(p, n); p = t.peak.Load() {
	}
	defer t.holding.Add(-1)
	select {
	case <-t.release:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	body := `{"success":true,"data":{"id":"s-1","associated_id":"m-1","status":"LIVE","live_participants":3,"minutes_consumed":1,"started_at":"2026-03-01T09:00:01.000Z"}}`
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

// TestGateBoundsRequestsInFlight: two clients sharing a gate of 3 have
// exactly 3 requests in flight while 10 are asked for, and one more goes
// out for each that comes back.
func TestGateBoundsRequestsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bound, calls = 3, 10
		tr := &heldTransport{release: make(chan struct{})}
		gate := NewGate(bound)
		clients := make([]*Client, 2)
		for i := range clients {
			clients[i] = New(Options{BaseURL: "http://api.test/client/v4/", AccountID: testAccount, Token: testToken,
				Timeout: time.Minute, HTTPClient: &http.Client{Transport: tr}, Gate: gate})
		}
		var wg sync.WaitGroup
		var failed atomic.Int32
		for i := range calls {
			wg.Go(func() {
				if _, err := clients[i%2].ActiveSession(t.Context(), testApp, "m-1"); err != nil {
					failed.Add(1)
				}
			})
		}
		synctest.Wait()
		if got := tr.arrived.Load(); got != bound {
			t.Fatalf("%d requests sent while every caller waits, want %d", got, bound)
		}
		if got := gate.InFlight(); got != bound {
			t.Errorf("gate reports %d in flight, want %d", got, bound)
		}
		tr.release <- struct{}{}
		synctest.Wait()
		if got, holding := tr.arrived.Load(), tr.holding.Load(); got != bound+1 || holding != bound {
			t.Fatalf("after one answer: %d sent, %d held; want %d sent, %d held", got, holding, bound+1, bound)
		}
		close(tr.release)
		wg.Wait()
		if n := failed.Load(); n != 0 {
			t.Errorf("%d calls failed", n)
		}
		if p := tr.peak.Load(); p != bound {
			t.Errorf("peak of %d requests in flight, want %d", p, bound)
		}
		if got := gate.InFlight(); got != 0 {
			t.Errorf("gate reports %d in flight once every call returned, want 0", got)
		}
	})
}

// TestGateWaitIsNotTheDeadline: a request that waits for a slot longer
// than the timeout still gets its whole timeout once sent; a caller that
// gives up while waiting gets a timeout failure and sends nothing.
func TestGateWaitIsNotTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &heldTransport{release: make(chan struct{})}
		gate := NewGate(1)
		c := New(Options{BaseURL: "http://api.test/client/v4/", AccountID: testAccount, Token: testToken,
			Timeout: time.Second, HTTPClient: &http.Client{Transport: tr}, Gate: gate})
		first := make(chan error, 1)
		go func() {
			_, err := c.ActiveSession(t.Context(), testApp, "m-1")
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			_, err := c.ActiveSession(t.Context(), testApp, "m-1")
			second <- err
		}()
		ctx, cancel := context.WithCancel(t.Context())
		third := make(chan error, 1)
		go func() {
			_, err := c.ActiveSession(ctx, testApp, "m-1")
			third <- err
		}()
		synctest.Wait()
		cancel()
		if e := asError(t, <-third); e.Kind != KindTimeout {
			t.Errorf("caller that gave up while waiting: %+v, want a timeout failure", e)
		}
		// The first request times out after its second; the second was
		// waiting all that time, and is sent only now, with a whole second.
		if e := asError(t, <-first); e.Kind != KindTimeout {
			t.Fatalf("first request: %+v, want a timeout", e)
		}
		synctest.Wait()
		if got := tr.arrived.Load(); got != 2 {
			t.Fatalf("%d requests sent, want 2 (the third caller gave up)", got)
		}
		time.Sleep(time.Second - time.Nanosecond) // the bubble's clock: no real wait
		tr.release <- struct{}{}
		if err := <-second; err != nil {
			t.Errorf("second request, answered within its own second: %v", err)
		}
	})
}

// TestReadBodyLane: a body of up to smallBody bytes never waits; a larger
// one, of a known size or not, waits for the lane that another large body
// holds, and gets it once that one is released.
func TestReadBodyLane(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		known bool
		large bool
	}{
		{"small, unknown size", smallBody, false, false},
		{"small, known size", smallBody, true, false},
		{"one byte over, unknown size", smallBody + 1, false, true},
		{"one byte over, known size", smallBody + 1, true, true},
		{"far over", 3 * smallBody, false, true},
	}
	type result struct {
		body    []byte
		release func()
		err     error
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := NewGate(4)
				_, holder, err := g.readBody(t.Context(), bytes.NewReader(make([]byte, 2*smallBody)), -1)
				if err != nil {
					t.Fatal(err)
				}
				defer holder()
				size := int64(-1)
				if tt.known {
					size = int64(tt.size)
				}
				body := bytes.Repeat([]byte("x"), tt.size)
				done := make(chan result, 1)
				go func() {
					b, r, err := g.readBody(t.Context(), bytes.NewReader(body), size)
					done <- result{b, r, err}
				}()
				synctest.Wait()
				var got result
				select {
				case got = <-done:
					if tt.large {
						t.Errorf("a body of %d bytes was read while another large body held the lane", tt.size)
					}
				default:
					if !tt.large {
						t.Errorf("a body of %d bytes waits for the lane of large bodies", tt.size)
					}
					holder()
					got = <-done
				}
				if got.err != nil || !bytes.Equal(got.body, body) {
					t.Fatalf("read %d bytes, %v; want the %d of the body", len(got.body), got.err, len(body))
				}
				got.release()
				got.release() // twice is harmless
				holder()
				_, r, err := g.readBody(t.Context(), bytes.NewReader(body), -1)
				if err != nil {
					t.Fatalf("the lane was not given back: %v", err)
				}
				r()
			})
		})
	}
}

// TestReadBodyFailures: a failed read holds nothing; neither does a wait
// for the lane that ctx ends.
func TestReadBodyFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGate(2)
		boom := errors.New("boom")
		r := io.MultiReader(bytes.NewReader(make([]byte, 2*smallBody)), errReader{boom})
		if b, _, err := g.readBody(t.Context(), r, -1); !errors.Is(err, boom) || b != nil {
			t.Fatalf("got %d bytes, %v; want none and the read error", len(b), err)
		}
		if _, _, err := g.readBody(t.Context(), bytes.NewReader(nil), MaxResponseBytes+1); !errors.Is(err, errResponseTooLarge) {
			t.Fatalf("declared size over the limit: %v, want errResponseTooLarge", err)
		}
		_, holder, err := g.readBody(t.Context(), bytes.NewReader(make([]byte, 2*smallBody)), -1)
		if err != nil {
			t.Fatalf("the lane was kept by a failed read: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, _, err := g.readBody(ctx, bytes.NewReader(make([]byte, 2*smallBody)), -1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting for a held lane past the deadline: %v", err)
		}
		holder()
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestGateOneLargeBodyAtOnce: four requests for 1 MiB sessions, at once,
// all succeed, and never hold more than one large body at a time.
func TestGateOneLargeBodyAtOnce(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	meta := `{"blob":"` + strings.Repeat("m", 1<<20) + `"}`
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 5, Meta: []byte(meta)})
	ct := &openBodies{rt: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(ct.rt.(*http.Transport).CloseIdleConnections)
	c := newTestClient(t, srv.URL(), func(o *Options) {
		o.HTTPClient, o.Timeout = &http.Client{Transport: ct}, 30*time.Second
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if s, err := c.ActiveSession(t.Context(), testApp, "m-1"); err != nil || len(s.Meta) != len(meta) {
				t.Errorf("got %d bytes of meta, %v; want %d", len(s.Meta), err, len(meta))
			}
		})
	}
	wg.Wait()
	if p := ct.peak.Load(); p != 1 {
		t.Errorf("%d bodies past %d bytes read at once, want 1", p, smallBody)
	}
}

// openBodies counts the response bodies that have yielded more than
// smallBody+1 bytes (what a small buffer holds) and are not closed yet.
type openBodies struct {
	rt          http.RoundTripper
	large, peak atomic.Int32
}

func (t *openBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.rt.RoundTrip(req)
	if err == nil {
		res.Body = &sizedBody{rc: res.Body, owner: t}
	}
	return res, err
}

type sizedBody struct {
	rc    io.ReadCloser
	owner *openBodies
	n     int
	large bool
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += n
	if b.n > smallBody+1 && !b.large {
		b.large = true
		v := b.owner.large.Add(1)
		for p := b.owner.peak.Load(); v > p && !b.owner.peak.CompareAndSwap(p, v); p = b.owner.peak.Load() {
		}
	}
	return n, err
}

func (b *sizedBody) Close() error {
	if b.large {
		b.large = false
		b.owner.large.Add(-1)
	}
	return b.rc.Close()
}

// TestGateFreeAfterEveryCall: whatever a call makes of a large body, a
// decoded answer or a decode failure, it gives back its slot and the lane
// of large bodies.
func TestGateFreeAfterEveryCall(t *testing.T) {
	body := `{"success":true,"data":{"sessions":[],"pad":"` + strings.Repeat("p", 2*smallBody) + `"},"paging":{"total_count":0,"start_offset":1,"end_offset":0}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	gate := NewGate(2)
	c := newTestClient(t, srv.URL+"/client/v4/", func(o *Options) { o.Gate, o.Timeout = gate, 30*time.Second })
	calls := map[string]func() error{
		"ActiveSession": func() error { _, err := c.ActiveSession(t.Context(), testApp, "m-1"); return err },
		"SessionsPage":  func() error { _, err := c.SessionsPage(t.Context(), testApp, ListQuery{PageNo: 1}); return err },
		"Meeting":       func() error { return c.Meeting(t.Context(), testApp, "m-1") },
	}
	for name, call := range calls {
		err := call()
		if len(gate.large) != 0 || gate.InFlight() != 0 {
			t.Errorf("%s (%v): the gate holds %d large bodies and %d requests once it returned, want none", name, err, len(gate.large), gate.InFlight())
		}
	}
}
