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

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// commitMeeting queues one session.started event per id, all about one
// meeting, for the notifier ops.
func commitMeeting(t testing.TB, st *store.Store, created time.Time, meeting string, ids ...string) {
	t.Helper()
	ev := testEvents()[diff.TypeSessionStarted]
	var evs []store.NewEvent
	for _, id := range ids {
		ev.Data.ID, ev.Data.MeetingID = id, meeting
		evs = append(evs, store.NewEvent{ID: id, Type: ev.Type, CreatedAt: created, Body: eventBody(t, ev), Notifiers: []string{"ops"}})
	}
	if err := st.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "town-hall", MeetingID: meeting}, Snapshot: []byte(`{}`), Events: evs}}); err != nil {
		t.Fatal(err)
	}
}

// backlog queues n events of meeting-a (a-000, a-001, …) and then one of
// meeting-b (b-0), and returns the delivery of b-0.
func backlog(t testing.TB, st *store.Store, created time.Time, n int) store.Delivery {
	t.Helper()
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("a-%03d", i))
	}
	commitMeeting(t, st, created, "meeting-a", ids...)
	commitMeeting(t, st, created, "meeting-b", "b-0")
	ds := pending(t, st, "ops")
	return ds[len(ds)-1]
}

// rejectMeetingA answers 503 to the events of meeting-a, 200 to the rest.
func rejectMeetingA(_ int, w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Webhook-Id"), "a-") {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// timedLog wraps a Notifier and records when each event was attempted.
type timedLog struct {
	Notifier
	mu sync.Mutex
	at map[string][]time.Time
}

func (l *timedLog) Notify(ctx context.Context, m Message) Result {
	l.mu.Lock()
	if l.at == nil {
		l.at = make(map[string][]time.Time)
	}
	l.at[m.EventID] = append(l.at[m.EventID], time.Now())
	l.mu.Unlock()
	return l.Notifier.Notify(ctx, m)
}

// times returns when the event id was attempted.
func (l *timedLog) times(id string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.at[id]...)
}

// TestWorkerLooksPastHeldMeeting queues 300 events of one meeting, more
// than one page, whose first fails or waits for its retry, and then an
// event of another meeting: that event goes out as soon as it is due,
// while the first meeting's later events, on both pages, stay held.
func TestWorkerLooksPastHeldMeeting(t *testing.T) {
	tests := []struct {
		name      string
		firstNext time.Duration // the first event's retry, from the start; 0: due
		bNext     time.Duration // b-0's retry, from the start; 0: due
		sleep     time.Duration
		want      map[string]int
	}{
		// a-000 fails at 0s and 0.9s (jitter at 0.5: retries after 0.9s,
		// 3.6s, …); b-0 goes out at once. Its attempt began with a-000's, not
		// after its failure, so it drains nothing.
		{name: "first fails", sleep: time.Second, want: map[string]int{"a-000": 2, "b-0": 1}},
		// Nothing is due at first; the lane waits for b-0 (30s), not for
		// its poll interval (1m) or a-000 (1h).
		{name: "first waits for its retry", firstNext: time.Hour, bNext: 30 * time.Second, sleep: 45 * time.Second,
			want: map[string]int{"b-0": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, rejectMeetingA)
			synctest.Test(t, func(t *testing.T) {
				st := openStore(t)
				start := time.Now()
				b := backlog(t, st, start, 300)
				if tt.firstNext > 0 {
					first := pending(t, st, "ops")[0]
					if err := st.RecordAttempt(first.Notifier, first.ID, 1, start.Add(tt.firstNext), "earlier"); err != nil {
						t.Fatal(err)
					}
				}
				if tt.bNext > 0 {
					// No attempts: a retry's success would drain a-000 at once.
					if err := st.RecordAttempt(b.Notifier, b.ID, 0, start.Add(tt.bNext), ""); err != nil {
						t.Fatal(err)
					}
				}
				log := &timedLog{Notifier: newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}
				startWorker(t, NewWorker(st, []Notifier{log}, WorkerOptions{Rand: half}))
				time.Sleep(tt.sleep)

				if diff := cmp.Diff(tt.want, requestsByID(rc)); diff != "" {
					t.Errorf("requests per webhook-id (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]time.Time{start.Add(tt.bNext)}, log.times("b-0")); diff != "" {
					t.Errorf("attempts at b-0 (-want +got):\n%s", diff)
				}
				if n := len(pending(t, st, "ops")); n != 300 {
					t.Errorf("%d deliveries pending, want meeting-a's 300", n)
				}
			})
		})
	}
}

// TestWorkerRunOnceLooksPastHeldMeeting checks the same for RunOnce: each
// due delivery is attempted once, a-000 although its retry is due at once.
func TestWorkerRunOnceLooksPastHeldMeeting(t *testing.T) {
	rc := newReceiver(t, rejectMeetingA)
	st := openStore(t)
	backlog(t, st, t0, 300)
	w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)},
		WorkerOptions{Rand: func() float64 { return 0 }, Now: func() time.Time { return t0 }})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if diff := cmp.Diff(map[string]int{"a-000": 1, "b-0": 1}, requestsByID(rc)); diff != "" {
		t.Errorf("requests per webhook-id (-want +got):\n%s", diff)
	}
	ds := pending(t, st, "ops")
	if len(ds) != 300 || ds[0].EventID != "a-000" || ds[0].Attempts != 1 || ds[1].Attempts != 0 {
		t.Errorf("outbox after RunOnce: %d deliveries, first %s with %d attempts; want meeting-a's 300, a-000 attempted once",
			len(ds), ds[0].EventID, ds[0].Attempts)
	}
}

// TestWorkerPassReadsAtMostMaxPages holds one meeting's backlog deeper than
// a pass reads: a pass stops after maxPassPages pages, so the event queued
// behind it waits (the documented limit).
func TestWorkerPassReadsAtMostMaxPages(t *testing.T) {
	rc := newReceiver(t, nil)
	st := openStore(t)
	backlog(t, st, t0, maxPassPages*pendingBatch)
	first := pending(t, st, "ops")[0]
	if err := st.RecordAttempt(first.Notifier, first.ID, 1, t0.Add(time.Hour), "earlier"); err != nil {
		t.Fatal(err)
	}
	outbox := &flakyOutbox{Store: st}
	w := NewWorker(outbox, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, nil)},
		WorkerOptions{Now: func() time.Time { return t0 }})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if n := outbox.pageReads(); n != maxPassPages {
		t.Errorf("RunOnce read %d pages, want %d", n, maxPassPages)
	}
	if n := rc.count(); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}
