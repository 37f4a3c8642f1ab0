package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// gate is a receiver's respond that holds every request until open is
// called, and keeps track of how many it held at once, overall and per
// webhook-id.
type gate struct {
	once   sync.Once
	opened chan struct{}
	answer func(r *http.Request) int

	mu       sync.Mutex
	inFlight int
	max      int
	byID     map[string]int
	overlaps []string // webhook-ids that had two requests in flight at once
}

func newGate(answer func(r *http.Request) int) *gate {
	return &gate{opened: make(chan struct{}), answer: answer, byID: make(map[string]int)}
}

func (g *gate) open() { g.once.Do(func() { close(g.opened) }) }

func (g *gate) respond(_ int, w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Webhook-Id")
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	if g.byID[id]++; g.byID[id] > 1 {
		g.overlaps = append(g.overlaps, id)
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.byID[id]--
		g.mu.Unlock()
	}()
	select {
	case <-g.opened:
	case <-r.Context().Done():
		return
	}
	if g.answer != nil {
		w.WriteHeader(g.answer(r))
	}
}

// held returns how many requests the gate holds now. Each one counts
// itself before it waits, and cannot leave before open (or its attempt's
// timeout): once held reaches n, n were in flight at once for certain.
func (g *gate) held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight
}

// maxInFlight returns the most requests the gate held at once.
func (g *gate) maxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

func TestWorkerParallel(t *testing.T) {
	tests := []struct {
		name      string
		parallel  int
		slack     bool
		want      int
		wantOrder bool
	}{
		{name: "webhook, default", want: 8},
		{name: "webhook, 3", parallel: 3, want: 3},
		{name: "webhook, 1 keeps order", parallel: 1, want: 1, wantOrder: true},
		{name: "slack says 1", slack: true, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(nil)
			rc := newReceiver(t, g.respond)
			t.Cleanup(g.open) // before the receiver closes
			st := openStore(t)
			var ids []string
			for i := range 20 {
				ids = append(ids, fmt.Sprintf("evt_%02d", i))
			}
			commitEvents(t, st, time.Now(), []string{"ops"}, ids...)
			var n Notifier = newTestWebhook(t, "ops", rc.srv.URL, nil)
			if tt.slack {
				s, err := NewSlack(SlackOptions{Name: "ops", URL: rc.srv.URL, Limiter: rate.NewLimiter(rate.Inf, 1)})
				if err != nil {
					t.Fatal(err)
				}
				n = s
			}
			startWorker(t, NewWorker(st, []Notifier{n}, WorkerOptions{Parallel: tt.parallel}))

			// The gate, not the receiver's count, says when they are all
			// held: a request is counted on arrival, before it reaches the
			// gate, and one opened too early would pass straight through.
			waitFor(t, fmt.Sprintf("%d requests in flight", tt.want), 10*time.Second, func() bool { return g.held() >= tt.want })
			g.open()
			waitFor(t, "an empty outbox", 10*time.Second, func() bool { return len(pending(t, st, "ops")) == 0 })

			if got := g.maxInFlight(); got != tt.want {
				t.Errorf("at most %d requests in flight, want %d", got, tt.want)
			}
			if rc.count() != len(ids) {
				t.Errorf("receiver got %d requests, want %d", rc.count(), len(ids))
			}
			if tt.wantOrder {
				var got []string
				for _, r := range rc.requests() {
					got = append(got, r.Header.Get("Webhook-Id"))
				}
				if diff := cmp.Diff(ids, got); diff != "" {
					t.Errorf("order of arrival (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestWorkerNeverOverlapsAttempts retries every event once, at once (no
// jitter), with eight attempts in flight: the retry of a delivery never
// starts before its first attempt has finished.
func TestWorkerNeverOverlapsAttempts(t *testing.T) {
	var mu sync.Mutex
	seen := make(map[string]bool)
	g := newGate(func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("Webhook-Id")
		if !seen[id] {
			seen[id] = true
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	g.open()
	rc := newReceiver(t, g.respond)
	st := openStore(t)
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("evt_%02d", i))
	}
	commitEvents(t, st, time.Now(), []string{"ops"}, ids...)
	startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)},
		WorkerOptions{Rand: func() float64 { return 0 }}))

	waitFor(t, "an empty outbox", 10*time.Second, func() bool { return len(pending(t, st, "ops")) == 0 })
	g.mu.Lock()
	overlaps := g.overlaps
	g.mu.Unlock()
	if len(overlaps) != 0 {
		t.Errorf("deliveries with two attempts in flight at once: %v", overlaps)
	}
	want := make(map[string]int)
	for _, id := range ids {
		want[id] = 2
	}
	if diff := cmp.Diff(want, requestsByID(rc)); diff != "" {
		t.Errorf("requests per webhook-id (-want +got):\n%s", diff)
	}
}

// TestWorkerOrdersEventsOfOneMeeting runs eight attempts in flight over the
// events of three meetings, the first of which fails once: each meeting's
// events arrive in order and one at a time, while the meetings overlap.
func TestWorkerOrdersEventsOfOneMeeting(t *testing.T) {
	var mu sync.Mutex
	failed := false
	g := newGate(func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Webhook-Id") == "a-0" && !failed {
			failed = true
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	rc := newReceiver(t, g.respond)
	t.Cleanup(g.open)
	st := openStore(t)
	ev := testEvents()[diff.TypeSessionStarted]
	var updates []store.Update
	want := map[string][]string{}
	for i := range 5 {
		for _, m := range []string{"a", "b", "c"} {
			ev.Data.ID, ev.Data.MeetingID = fmt.Sprintf("%s-%d", m, i), "meeting-"+m
			updates = append(updates, store.Update{
				Key: store.SnapshotKey{Watch: ev.Data.Watch, MeetingID: ev.Data.MeetingID}, Snapshot: []byte(`{}`),
				Events: []store.NewEvent{{ID: ev.Data.ID, Type: ev.Type, CreatedAt: time.Now(), Body: eventBody(t, ev), Notifiers: []string{"ops"}}},
			})
			want[ev.Data.MeetingID] = append(want[ev.Data.MeetingID], ev.Data.ID)
		}
	}
	if err := st.Commit(updates); err != nil {
		t.Fatal(err)
	}
	startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)}, WorkerOptions{Parallel: 8, Rand: func() float64 { return 0 }}))

	waitFor(t, "one request per meeting in flight", 10*time.Second, func() bool { return g.held() >= 3 })
	g.open()
	waitFor(t, "an empty outbox", 10*time.Second, func() bool { return len(pending(t, st, "ops")) == 0 })
	if got := g.maxInFlight(); got != 3 {
		t.Errorf("at most %d requests in flight, want one per meeting (3)", got)
	}

	got := map[string][]string{}
	for _, r := range rc.requests() {
		var e diff.Event
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatal(err)
		}
		if e.Data.ID == "a-0" && len(got[e.Data.MeetingID]) == 1 {
			continue // the retry of the failed first attempt
		}
		got[e.Data.MeetingID] = append(got[e.Data.MeetingID], e.Data.ID)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("arrival order per meeting (-want +got):\n%s", d)
	}
}
