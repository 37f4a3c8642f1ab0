package poller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

const (
	testToken   = "tok-S3CRET-9f8e7d6c5b4a"
	testAccount = "acc0123456789abcdef0123456789abcd"
	testApp     = "app-1"
)

// testClock is a clock that moves only when told to; the fake API, the
// client and the poller share it, so that event times and durations are
// exact.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the JSON log lines at level whose fields include every one
// of fields.
func (l *logBuffer) find(t testing.TB, level string, fields map[string]string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["level"] != level {
			continue
		}
		match := true
		for k, v := range fields {
			if m[k] != v {
				match = false
			}
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}

// harness is one fake RealtimeKit API, a real client talking to it over
// loopback, and a real store.
type harness struct {
	t      testing.TB
	clock  *testClock
	fake   *rtkfake.Server
	client *rtkapi.Client
	store  *store.Store
	logs   *logBuffer
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	clock := newTestClock()
	fake := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccount, Now: clock.Now})
	t.Cleanup(fake.Close)
	st, err := store.Open(t.TempDir()+"/state.db", store.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	h := &harness{t: t, clock: clock, fake: fake, store: st, logs: &logBuffer{}}
	h.client = h.newClient(nil)
	return h
}

// newClient returns a client of the fake API whose requests go through rt;
// nil means the client's own transport.
func (h *harness) newClient(rt http.RoundTripper) *rtkapi.Client {
	o := rtkapi.Options{
		BaseURL: h.fake.URL(), AccountID: testAccount, Token: testToken,
		Timeout: 5 * time.Second, Now: h.clock.Now,
	}
	if rt != nil {
		o.HTTPClient = &http.Client{Transport: rt}
	}
	return rtkapi.New(o)
}

// poller returns a Poller over the harness's client and store; mod may
// change its options.
func (h *harness) poller(mod func(*Options)) *Poller {
	o := Options{
		AccountID: testAccount,
		Store:     h.store,
		Logger:    zerolog.New(h.logs),
		Now:       h.clock.Now,
	}
	if mod != nil {
		mod(&o)
	}
	return New(h.client, o)
}

// poll runs one cycle and fails the test on an error.
func (h *harness) poll(p *Poller, w Watch) Cycle {
	h.t.Helper()
	c, err := p.Poll(context.Background(), w)
	if err != nil {
		h.t.Fatalf("Poll(%s): %v", w.Name, err)
	}
	return c
}

// snapshot returns the stored snapshot of one meeting; ok is false when
// there is none.
func (h *harness) snapshot(watch, meeting string) (s diff.Snapshot, ok bool) {
	h.t.Helper()
	b, err := h.store.Snapshot(store.SnapshotKey{Watch: watch, MeetingID: meeting})
	if err != nil {
		h.t.Fatal(err)
	}
	if b == nil {
		return s, false
	}
	if err := json.Unmarshal(b, &s); err != nil {
		h.t.Fatalf("stored snapshot %s/%s: %v", watch, meeting, err)
	}
	return s, true
}

// rawSnapshots returns the stored bytes of every snapshot of a watch.
func (h *harness) rawSnapshots(watch string) map[string][]byte {
	h.t.Helper()
	m, err := h.store.Snapshots(watch)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// outbox returns the pending deliveries as "notifier event-type meeting".
func (h *harness) outbox() []string {
	h.t.Helper()
	ds, err := h.store.OutboxAfter(0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		var ev diff.Event
		if err := json.Unmarshal(d.Body, &ev); err != nil {
			h.t.Fatalf("delivery %d: %v", d.ID, err)
		}
		if ev.Type != d.EventType || ev.Data.ID != d.EventID {
			h.t.Errorf("delivery %d is %s %s, its body %s %s", d.ID, d.EventType, d.EventID, ev.Type, ev.Data.ID)
		}
		out = append(out, d.Notifier+" "+d.EventType+" "+ev.Data.MeetingID)
	}
	slices.Sort(out)
	return out
}

// testWatch returns a watch of the test app over the given meetings, with
// thresholds at 5 and 10 participants (hysteresis 2) and 100 minutes,
// failing after 3 polls, routing every event to "ops".
func testWatch(meetings ...string) Watch {
	routes := make(map[string][]string)
	for _, typ := range diff.WatchEventTypes {
		routes[typ] = []string{"ops"}
	}
	return Watch{
		Name:     "town-hall",
		AppID:    testApp,
		Meetings: meetings,
		Schedule: "@every 30s",
		Rules: diff.Rules{
			ParticipantThresholds: []int{5, 10},
			Hysteresis:            2,
			MinutesThresholds:     []float64{100},
			FailingAfter:          3,
		},
		Routes: routes,
	}
}

// summary describes events in one line each: type, meeting and, for
// threshold events, direction and threshold.
func summary(evs []diff.Event) []string {
	var out []string
	for _, ev := range evs {
		s := ev.Type + " " + ev.Data.MeetingID
		if ev.Data.Threshold != nil {
			if ev.Data.Direction != "" {
				s += " " + ev.Data.Direction
			}
			s += fmt.Sprintf(" %g", *ev.Data.Threshold)
		}
		out = append(out, s)
	}
	return out
}

func participants(n int) func(*rtkfake.Session) {
	return func(s *rtkfake.Session) { s.LiveParticipants = n }
}

// observerFunc adapts a function to Observer.
type observerFunc func(watch string, obs diff.Observation)

func (f observerFunc) Polled(watch string, obs diff.Observation, _ bool, _ time.Duration) {
	f(watch, obs)
}
func (f observerFunc) Emitted(string, diff.Event) {}

// waitFor checks cond every millisecond until it holds, for at most five
// seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// holdTransport holds the requests that match until their context ends,
// and tells of each one's arrival.
type holdTransport struct {
	match   func(*http.Request) bool
	arrived chan struct{}
}

func (h holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !h.match(r) {
		return http.DefaultTransport.RoundTrip(r)
	}
	h.arrived <- struct{}{}
	<-r.Context().Done()
	return nil, r.Context().Err()
}
