package poller

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// allLiveWatch returns testWatch's rules for every live session of the app.
func allLiveWatch() Watch {
	w := testWatch()
	w.Name = "everything"
	w.AllLive = true
	return w
}

// listStep is one cycle of a list-mode scenario.
type listStep struct {
	name   string
	before func()
	want   []string
	check  func(t *testing.T, c Cycle)
}

// runSteps polls w once per step, after the step's before, and compares
// the events.
func runSteps(t *testing.T, h *harness, p *Poller, w Watch, steps []listStep) {
	t.Helper()
	for _, st := range steps {
		h.clock.Advance(30 * time.Second)
		if st.before != nil {
			st.before()
		}
		c := h.poll(p, w)
		if diff := cmp.Diff(st.want, summary(c.Events)); diff != "" {
			t.Fatalf("%s: events (-want +got):\n%s", st.name, diff)
		}
		if st.check != nil {
			st.check(t, c)
		}
	}
}

func TestPollAllLive(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 20})
	w := allLiveWatch()
	p := h.poller(nil)

	runSteps(t, h, p, w, []listStep{
		{name: "first list is a baseline", check: func(t *testing.T, c Cycle) {
			if c.Polls != 3 {
				t.Errorf("%d polls; want the list and two meetings", c.Polls)
			}
			for _, m := range []string{WatchMeetingID, "m1", "m2"} {
				if s, _ := h.snapshot(w.Name, m); !s.Baselined {
					t.Errorf("%s not baselined: %+v", m, s)
				}
			}
			if s, _ := h.snapshot(w.Name, "m2"); s.Session == nil || !slices.Equal(s.ParticipantsUp, []int{5, 10}) {
				t.Errorf("m2 = %+v; want its session with both thresholds up", s)
			}
		}},
		{
			name:   "a new meeting starts",
			before: func() { h.fake.StartSession(testApp, "m3", rtkfake.Session{LiveParticipants: 12}) },
			want: []string{
				"session.started m3",
				"participants.threshold_crossed m3 up 5",
				"participants.threshold_crossed m3 up 10",
			},
		},
		{
			name:   "a meeting drops out of the list",
			before: func() { h.fake.EndSession(testApp, "m2") },
			want:   []string{"session.ended m2"},
			check: func(t *testing.T, c Cycle) {
				if n := h.fake.ActiveSessionRequests(testApp, "m2"); n != 1 {
					t.Errorf("m2 asked %d times before its end was reported; want 1", n)
				}
				d := c.Events[0].Data
				if d.Final == nil || d.Final.Status != diff.StatusEnded || d.DurationSeconds == nil || *d.DurationSeconds != 90 {
					t.Errorf("session.ended final %+v, duration %v; want the ended session, 90s", d.Final, d.DurationSeconds)
				}
			},
		},
		{name: "quiet: idle meetings are not rewritten", check: func(t *testing.T, c Cycle) {
			if c.Polls != 3 {
				t.Errorf("%d polls; want the list, m1 and m3", c.Polls)
			}
			if n := h.fake.ActiveSessionRequests(testApp, "m2"); n != 1 {
				t.Errorf("idle m2 asked again: %d requests", n)
			}
		}},
		{
			name:   "an idle meeting starts again",
			before: func() { h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 1}) },
			want:   []string{"session.started m2"},
		},
		{
			name:   "and ends",
			before: func() { h.fake.EndSession(testApp, "m2") },
			want:   []string{"session.ended m2"},
		},
		{
			name:   "idle for longer than ForgetIdleAfter: forgotten",
			before: func() { h.clock.Advance(ForgetIdleAfter) },
			check: func(t *testing.T, c Cycle) {
				if _, ok := h.rawSnapshots(w.Name)["m2"]; ok {
					t.Error("m2's snapshot is still stored")
				}
			},
		},
		{
			name:   "a forgotten meeting that comes back is new",
			before: func() { h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 1}) },
			want:   []string{"session.started m2"},
			check: func(t *testing.T, c Cycle) {
				if seq := c.Events[0].Data.Sequence; seq != 1 {
					t.Errorf("sequence %d; want 1, a fresh start", seq)
				}
			},
		},
	})
	if n := h.fake.Counts().ActiveSession; n != 2 {
		t.Errorf("%d active-session requests in all; want only m2's two confirmations", n)
	}
}

func TestPollAllLiveListFailure(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := allLiveWatch()
	p := h.poller(nil)
	h.poll(p, w)
	meetings := func() map[string][]byte {
		m := h.rawSnapshots(w.Name)
		delete(m, WatchMeetingID)
		return m
	}
	before := meetings()

	h.fake.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 3})
	h.fake.EndSession(testApp, "m1")
	h.fake.StartSession(testApp, "m2", rtkfake.Session{})
	unchanged := func(t *testing.T, c Cycle) {
		if c.Polls != 1 || c.Failures != 1 {
			t.Errorf("%d polls, %d failures; want the list's one failure", c.Polls, c.Failures)
		}
		if diff := cmp.Diff(before, meetings()); diff != "" {
			t.Errorf("a failed list changed meetings (-want +got):\n%s", diff)
		}
	}
	runSteps(t, h, p, w, []listStep{
		{name: "failure 1", check: unchanged},
		{name: "failure 2", check: unchanged},
		{name: "failure 3", want: []string{"watch.failing *"}, check: func(t *testing.T, c Cycle) {
			unchanged(t, c)
			d := c.Events[0].Data
			if d.StatusCode == nil || *d.StatusCode != 500 || d.ConsecutiveFailures == nil || *d.ConsecutiveFailures != 3 || d.SessionID != "" {
				t.Errorf("watch.failing = %+v; want status 500 after 3 failures, no session", d)
			}
			if s, _ := h.snapshot(w.Name, WatchMeetingID); !s.Failing || s.ConsecutiveFailures != 3 {
				t.Errorf("watch record = %+v; want failing after 3", s)
			}
		}},
		{name: "recovered", want: []string{"watch.recovered *", "session.ended m1", "session.started m2"}},
	})
	if n := h.fake.ActiveSessionRequests(testApp, "m1"); n != 1 {
		t.Errorf("m1 asked %d times; want once, after the list recovered", n)
	}
}

func TestPollAllLivePages(t *testing.T) {
	tests := []struct {
		sessions, requests int
	}{
		{0, 1},
		{99, 1},
		{100, 1}, // a full page, and total_count says that is all
		{101, 2},
		{250, 3},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.sessions), func(t *testing.T) {
			// In a synctest bubble the clock stands still while a goroutine
			// waits on the network, as the fake API's listener always does:
			// the budget refills by nothing between pages, and its tokens
			// count exactly the requests charged, however slow the machine.
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				for i := range tt.sessions {
					h.fake.StartSession(testApp, fmt.Sprintf("m%03d", i), rtkfake.Session{})
				}
				// A burst of 1000: requests too many show as a wrong
				// count, not as a wait for a refill that never comes.
				budget := NewBudget(10_000, nil)
				start := time.Now()
				p := h.poller(func(o *Options) { o.Budget = budget })
				w := allLiveWatch()
				c := h.poll(p, w)
				if n := h.fake.SessionsRequests(testApp); n != tt.requests {
					t.Errorf("%d sessions requests; want %d", n, tt.requests)
				}
				if c.Polls != tt.sessions+1 || len(c.Events) != 0 {
					t.Errorf("%d polls, events %v; want %d and none", c.Polls, summary(c.Events), tt.sessions+1)
				}
				if n := len(h.rawSnapshots(w.Name)); n != tt.sessions+1 {
					t.Errorf("%d snapshots; want %d", n, tt.sessions+1)
				}
				// Every page is charged to the budget.
				want := float64(1000 - tt.requests)
				if got := budget.Available(); got != want {
					t.Errorf("budget has %.2f requests left; want %g", got, want)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("the bubble's clock moved %v during the poll; the budget's count is exact only if it stands still", d)
				}
			})
		})
	}
}

// pageHook runs a function once, just before the sessions list's page 2
// is requested, to change the fake between two pages.
type pageHook struct {
	base http.RoundTripper
	mu   sync.Mutex
	fn   func()
}

func (p *pageHook) arm(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn = fn
}

func (p *pageHook) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if page, _ := strconv.ParseFloat(q.Get("page_no"), 64); page == 2 && q.Get("status") == "LIVE" {
		p.mu.Lock()
		fn := p.fn
		p.fn = nil
		p.mu.Unlock()
		if fn != nil {
			fn()
		}
	}
	return p.base.RoundTrip(r)
}

func TestPollAllLivePaginationRace(t *testing.T) {
	h := newHarness(t)
	hook := &pageHook{base: http.DefaultTransport}
	h.client = h.newClient(hook)
	for _, m := range []string{"m1", "m2", "m3"} {
		h.fake.StartSession(testApp, m, rtkfake.Session{})
		h.clock.Advance(time.Second) // list order: m1, m2, m3
	}
	w := allLiveWatch()
	p := h.poller(func(o *Options) { o.PerPage = 2 })

	runSteps(t, h, p, w, []listStep{
		{name: "baseline over two pages"},
		{
			// m1 ends after page 1 was read: m3 moves up to page 1 and
			// is missing from the list, although it is still live.
			name:   "a live session missing from the list",
			before: func() { hook.arm(func() { h.fake.EndSession(testApp, "m1") }) },
			check: func(t *testing.T, c Cycle) {
				if n := h.fake.ActiveSessionRequests(testApp, "m3"); n != 1 {
					t.Errorf("m3 asked %d times; want once", n)
				}
				if s, _ := h.snapshot(w.Name, "m3"); s.Session == nil {
					t.Errorf("m3 lost its session: %+v", s)
				}
			},
		},
		{name: "the real end is seen next", want: []string{"session.ended m1"}},
	})
}

func TestPollExplicitViaList(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := 1; i <= 12; i++ {
		ids = append(ids, fmt.Sprintf("e%02d", i))
	}
	w := testWatch(ids...)
	h.fake.StartSession(testApp, "e03", rtkfake.Session{LiveParticipants: 2})
	p := h.poller(func(o *Options) { o.PerPage = 2 })

	// requests reports the requests since the previous call.
	var last rtkfake.Counts
	requests := func() (sessions, active int) {
		c := h.fake.Counts()
		sessions, active = c.Sessions-last.Sessions, c.ActiveSession-last.ActiveSession
		last = c
		return sessions, active
	}
	wantRequests := func(sessions, active int) func(*testing.T, Cycle) {
		return func(t *testing.T, c Cycle) {
			t.Helper()
			if s, a := requests(); s != sessions || a != active {
				t.Errorf("%d sessions and %d active-session requests; want %d and %d", s, a, sessions, active)
			}
		}
	}
	runSteps(t, h, p, w, []listStep{
		{name: "baseline through one list page", check: func(t *testing.T, c Cycle) {
			wantRequests(1, 0)(t, c)
			if c.Polls != 12 {
				t.Errorf("%d polls; want the 12 meetings", c.Polls)
			}
			for _, id := range ids {
				s, _ := h.snapshot(w.Name, id)
				if !s.Baselined || (s.Session != nil) != (id == "e03") {
					t.Errorf("%s = %+v; want a baseline, live only for e03", id, s)
				}
			}
		}},
		{
			name:   "start",
			before: func() { h.fake.StartSession(testApp, "e05", rtkfake.Session{LiveParticipants: 6}) },
			want:   []string{"session.started e05", "participants.threshold_crossed e05 up 5"},
			check:  wantRequests(1, 0), // a full page, and total_count says that is all
		},
		{
			name:   "end, confirmed by the meeting, final numbers from the ended list",
			before: func() { h.fake.EndSession(testApp, "e03") },
			want:   []string{"session.ended e03"},
			check: func(t *testing.T, c Cycle) {
				wantRequests(1+1, 1)(t, c)
				if c.Events[0].Data.Final == nil {
					t.Error("session.ended has no final numbers")
				}
			},
		},
		{
			name: "the app gets busy: the list takes 7 pages",
			before: func() {
				for i := range 12 {
					h.fake.StartSession(testApp, fmt.Sprintf("other-%02d", i), rtkfake.Session{})
				}
			},
			check: wantRequests(7, 0),
		},
		{
			name:   "falls back to polling meeting by meeting",
			before: func() { h.fake.UpdateSession(testApp, "e05", participants(11)) },
			want:   []string{"participants.threshold_crossed e05 up 10"},
			check: func(t *testing.T, c Cycle) {
				wantRequests(0, 12)(t, c)
				for _, id := range ids {
					if n := h.fake.ActiveSessionRequests(testApp, id); n != 1+b2i(id == "e03") {
						t.Errorf("%s asked %d times", id, n)
					}
				}
				if c.Polls != 12 {
					t.Errorf("%d polls; want 12", c.Polls)
				}
			},
		},
	})
	// Meeting by meeting until the reprobe cycle, which asks the list again.
	for i := 2; i < reprobeEvery; i++ {
		if _, err := p.Poll(t.Context(), w); err != nil {
			t.Fatal(err)
		}
	}
	requests()
	if _, err := p.Poll(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if s, a := requests(); s != 7 || a != 0 {
		t.Errorf("reprobe cycle made %d sessions and %d active-session requests; want 7 and 0", s, a)
	}
	if rec, ok := h.rawSnapshots(w.Name)[WatchMeetingID]; ok {
		t.Errorf("watch record = %s; an explicit watchlist keeps none", rec)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPollExplicitViaListFailure: when the sessions list fails, each meeting
// of an explicit watchlist counts the failure, as when polled one by one.
func TestPollExplicitViaListFailure(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := 1; i <= 10; i++ {
		ids = append(ids, fmt.Sprintf("f%02d", i))
	}
	w := testWatch(ids...)
	w.Rules.FailingAfter = 2
	p := h.poller(nil)
	var failing, recovered []string
	for _, id := range ids {
		failing = append(failing, "watch.failing "+id)
		recovered = append(recovered, "watch.recovered "+id)
	}
	runSteps(t, h, p, w, []listStep{
		{name: "baseline"},
		{name: "first failure", before: func() { h.fake.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.ServerError}) }},
		{name: "second failure: every meeting is failing", want: failing, check: func(t *testing.T, c Cycle) {
			if n := h.fake.Counts().ActiveSession; n != 0 {
				t.Errorf("%d active-session requests; want the list only", n)
			}
		}},
		{name: "recovery", before: func() { h.fake.ClearFault(testApp, "") }, want: recovered},
	})
	if rec, ok := h.rawSnapshots(w.Name)[WatchMeetingID]; ok {
		t.Errorf("watch record = %s; an explicit watchlist keeps none", rec)
	}
}
