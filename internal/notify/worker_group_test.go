package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// groupWait and groupMax are the grouping of the tests' Slack notifier.
const (
	groupWait = 30 * time.Second
	groupMax  = 20
)

// newGroupingSlack returns a Slack notifier "chat" that groups events,
// with a client for the bubble; at, when not nil, records its requests.
func newGroupingSlack(t testing.TB, url string, g Group, at *arrivals) *Slack {
	t.Helper()
	c := bubbleClient()
	if at != nil {
		c.Transport = at.recording(c.Transport)
	}
	s, err := NewSlack(SlackOptions{Name: "chat", URL: url, Client: c, Group: g})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slackSections counts the events a Slack message shows: its sections, or
// 1 for a message about one event.
func slackSections(t *testing.T, body []byte) int {
	t.Helper()
	var msg slackMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Blocks[0].Text.Text, ":bell: ") {
		return 1
	}
	return len(msg.Blocks) - 2
}

// arrivals records when a client sent each request, on the clock of the
// bubble the client runs in.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

// recording wraps a transport so that it records each request's time.
func (a *arrivals) recording(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		a.mu.Lock()
		a.at = append(a.at, time.Now())
		a.mu.Unlock()
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// since returns when each request arrived, after start.
func (a *arrivals) since(start time.Time) []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []time.Duration
	for _, at := range a.at {
		out = append(out, at.Sub(start).Round(time.Second))
	}
	return out
}

// TestGroupTwelveEvents: twelve events within the wait are one Slack
// message, sent when the wait of the first is over; the webhook beside it
// delivers each at once.
func TestGroupTwelveEvents(t *testing.T) {
	var slackAt, hookAt arrivals
	slack := newReceiver(t, nil)
	hook := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		var ids []string
		for i := range 12 {
			ids = append(ids, fmt.Sprint("evt_", i))
		}
		both := []string{"chat", "ops"}
		commitEvents(t, st, start, both, ids[:6]...)
		hc := bubbleClient()
		hc.Transport = hookAt.recording(hc.Transport)
		w := NewWorker(st, []Notifier{newGroupingSlack(t, slack.srv.URL, Group{groupWait, groupMax}, &slackAt), newTestWebhook(t, "ops", hook.srv.URL, hc)}, WorkerOptions{})
		startWorker(t, w)
		time.Sleep(10 * time.Second)
		commitEvents(t, st, time.Now(), both, ids[6:]...)
		w.Wake()
		time.Sleep(groupWait - 10*time.Second - time.Millisecond)
		synctest.Wait()
		if n := slack.count(); n != 0 {
			t.Fatalf("slack got %d messages before the wait was over", n)
		}
		if n := hook.count(); n != 12 {
			t.Errorf("the webhook got %d of the 12 events before the group's wait was over: grouping delayed it", n)
		}
		time.Sleep(time.Minute)
		reqs := slack.requests()
		if len(reqs) != 1 || slackSections(t, reqs[0].Body) != 12 {
			t.Fatalf("slack got %d messages, want one of the 12 events", len(reqs))
		}
		if got := slackAt.since(start); got[0] != groupWait {
			t.Errorf("the group went out at +%s, want +%s, when the first event's wait was over", got[0], groupWait)
		}
		for _, d := range hookAt.since(start) {
			if d >= 10*time.Second+time.Second {
				t.Errorf("a webhook delivery at +%s: grouping delayed it", d)
			}
		}
		if ds := pending(t, st, "chat"); len(ds) != 0 {
			t.Errorf("chat's outbox holds %d deliveries after the group went out", len(ds))
		}
	})
}

// TestGroupMaxAndWindows: a full group goes out at once; what is left
// waits for its wait; events queued after the first's wait start another
// group; a lone event goes out as itself.
func TestGroupMaxAndWindows(t *testing.T) {
	var at arrivals
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		var ids []string
		for i := range 25 {
			ids = append(ids, fmt.Sprint("evt_", i))
		}
		commitEvents(t, st, start, []string{"chat"}, ids...)
		w := NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, 10}, &at)}, WorkerOptions{})
		startWorker(t, w)
		time.Sleep(2 * time.Minute)
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_lone")
		w.Wake()
		time.Sleep(2 * time.Minute)

		var sizes []int
		for _, r := range rc.requests() {
			sizes = append(sizes, slackSections(t, r.Body))
		}
		wantSizes := []int{10, 10, 5, 1}
		wantAt := []time.Duration{0, time.Second, groupWait, 2*time.Minute + groupWait}
		if fmt.Sprint(sizes) != fmt.Sprint(wantSizes) || fmt.Sprint(at.since(start)) != fmt.Sprint(wantAt) {
			t.Errorf("messages of %v events at %v, want %v at %v", sizes, at.since(start), wantSizes, wantAt)
		}
		if r := rc.requests()[3]; !bytes.Contains(r.Body, []byte(`"text":"`+":large_green_circle: Session started")) {
			t.Errorf("the lone event did not go out as a message of its own:\n%s", r.Body)
		}
	})
}

// TestGroupWindowEdge: an event queued exactly the wait after the first
// is not in its group; one queued a nanosecond earlier is.
func TestGroupWindowEdge(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  []int
	}{
		{groupWait - time.Nanosecond, []int{2}},
		{groupWait, []int{1, 1}},
	} {
		t.Run(tt.after.String(), func(t *testing.T) {
			rc := newReceiver(t, nil)
			synctest.Test(t, func(t *testing.T) {
				st := openStore(t)
				start := time.Now()
				commitEvents(t, st, start, []string{"chat"}, "evt_1")
				commitEvents(t, st, start.Add(tt.after), []string{"chat"}, "evt_2")
				startWorker(t, NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{}))
				time.Sleep(time.Hour)
				var sizes []int
				for _, r := range rc.requests() {
					sizes = append(sizes, slackSections(t, r.Body))
				}
				if fmt.Sprint(sizes) != fmt.Sprint(tt.want) {
					t.Errorf("messages of %v events, want %v", sizes, tt.want)
				}
			})
		})
	}
}

// TestGroupRetriedWhole: a group whose attempt fails is retried with the
// same content, byte for byte, though more events arrived meanwhile;
// those go out in a group of their own after it.
func TestGroupRetriedWhole(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_1", "evt_2", "evt_3")
		w := NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{Rand: half})
		startWorker(t, w)
		time.Sleep(groupWait)
		synctest.Wait()
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_4", "evt_5")
		w.Wake()
		time.Sleep(time.Hour)

		reqs := rc.requests()
		if len(reqs) != 3 {
			t.Fatalf("slack got %d messages, want 3: the group, its retry, the later group", len(reqs))
		}
		if !bytes.Equal(reqs[0].Body, reqs[1].Body) || slackSections(t, reqs[1].Body) != 3 {
			t.Errorf("the retry differs from the first attempt:\n%s\n%s", reqs[0].Body, reqs[1].Body)
		}
		if slackSections(t, reqs[2].Body) != 2 {
			t.Errorf("the later events went out as %d, want a group of 2", slackSections(t, reqs[2].Body))
		}
	})
}

// TestGroupSurvivesCrash: the daemon dies after the receiver took a group
// but before the outbox learnt it (MarkDelivered never lands). The next
// worker on the same file sends the same group, byte for byte, and then
// it is gone from the outbox: at least once, for every event in it.
func TestGroupSurvivesCrash(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_1", "evt_2", "evt_3")
		crashing := &flakyOutbox{Store: st, markFails: 1 << 30}
		stop := startWorker(t, NewWorker(crashing, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{}))
		time.Sleep(groupWait + time.Minute)
		stop() // the crash: the attempt's outcome never reaches the store
		if rc.count() != 1 {
			t.Fatalf("slack got %d messages before the crash, want 1", rc.count())
		}
		ds := pending(t, st, "chat")
		if len(ds) != 1 || ds[0].EventType != GroupEventType || ds[0].EventID != "grp_evt_1" {
			t.Fatalf("outbox after the crash: %+v, want the one group", ds)
		}

		startWorker(t, NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{}))
		time.Sleep(time.Minute)
		reqs := rc.requests()
		if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) {
			t.Fatalf("after the restart slack got %d messages; want the same group again", len(reqs))
		}
		if ds := pending(t, st, "chat"); len(ds) != 0 {
			t.Errorf("outbox after the restart: %+v", ds)
		}
	})
}

// TestGroupDeadLetterAndRequeue: a group the receiver refuses becomes one
// dead letter holding its events; queued again, the same group goes out.
func TestGroupDeadLetterAndRequeue(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_1", "evt_2")
		w := NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{})
		startWorker(t, w)
		time.Sleep(time.Hour)
		dead := deadLetters(t, st)
		if len(dead) != 1 || dead[0].EventType != GroupEventType || !strings.Contains(dead[0].LastError, "status 400") {
			t.Fatalf("dead letters %+v, want the group", dead)
		}
		if _, err := st.Requeue(time.Now(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		w.Wake()
		time.Sleep(time.Minute)
		reqs := rc.requests()
		if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) {
			t.Errorf("slack got %d messages; want the same group twice", len(reqs))
		}
	})
}

// TestGroupRunOnce: `once` sends what it has as groups at once: no later
// pass would come back for them.
func TestGroupRunOnce(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"chat"}, "evt_1", "evt_2", "evt_3")
		w := NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{groupWait, groupMax}, nil)}, WorkerOptions{})
		if err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests()
		if len(reqs) != 1 || slackSections(t, reqs[0].Body) != 3 {
			t.Fatalf("slack got %d messages, want one group of 3", len(reqs))
		}
	})
}

// TestGroupForANotifierThatNoLongerGroups: a group stays a group when a
// reload turns grouping off, and a notifier of a type that cannot send
// one makes it a dead letter that says why.
func TestGroupForANotifierThatNoLongerGroups(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"chat", "ops"}, "evt_1", "evt_2")
		for _, n := range []string{"chat", "ops"} {
			ds := pending(t, st, n)
			if _, err := st.Combine(n, []uint64{ds[0].ID, ds[1].ID}, store.Combined{EventID: "grp_evt_1", EventType: GroupEventType,
				Body: encodeGroup([][]byte{ds[0].Body, ds[1].Body})}); err != nil {
				t.Fatal(err)
			}
		}
		startWorker(t, NewWorker(st, []Notifier{newGroupingSlack(t, rc.srv.URL, Group{}, nil), newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}, WorkerOptions{}))
		time.Sleep(time.Minute)
		reqs := rc.requests()
		if len(reqs) != 1 || slackSections(t, reqs[0].Body) != 2 {
			t.Errorf("got %d requests, want the one group through Slack", len(reqs))
		}
		dead := deadLetters(t, st)
		if len(dead) != 1 || dead[0].Notifier != "ops" || !strings.Contains(dead[0].LastError, "notifier ops cannot send a group of events") {
			t.Errorf("dead letters %+v, want ops' group, saying why", dead)
		}
	})
}
