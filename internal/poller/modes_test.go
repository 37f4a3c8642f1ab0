package poller

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// cycleRequests are the requests one cycle made.
type cycleRequests struct{ sessions, active int }

// requestsSince returns the requests the fake saw since before.
func requestsSince(h *harness, before rtkfake.Counts) cycleRequests {
	now := h.fake.Counts()
	return cycleRequests{now.Sessions - before.Sessions, now.ActiveSession - before.ActiveSession}
}

// TestAllLivePagingModes tries an all-live watch as a new user's account
// might: 250 sessions live for a while, read 100 a page from a server that
// pages each way a server may. In every mode no session is missed, none is
// called ended or started that did not end or start, and a cycle makes at
// most the pages needed plus one request, plus, for each session that
// really ended, one to confirm it and one for its final numbers; or, when
// the list cannot be read whole, every cycle fails (and says so) instead of
// reading on.
func TestAllLivePagingModes(t *testing.T) {
	tests := []struct {
		name  string
		mode  rtkfake.PagingMode
		pages int  // pages the list takes
		fails bool // the list cannot be read whole
	}{
		{name: "as documented", pages: 3},
		{name: "per_page capped at 25", mode: rtkfake.PagingMode{MaxPerPage: 25}, pages: 10},
		{name: "page_no from 0", mode: rtkfake.PagingMode{ZeroBased: true}, pages: 3},
		{name: "no paging object", mode: rtkfake.PagingMode{NoPagingObject: true}, pages: 3},
		{name: "page_no ignored", mode: rtkfake.PagingMode{IgnorePageNo: true}, pages: 1, fails: true},
		{name: "no order without a sort", mode: rtkfake.PagingMode{ShuffleUnsorted: true}, pages: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for i := range 250 {
				h.fake.StartSession(testApp, fmt.Sprintf("m%03d", i), rtkfake.Session{LiveParticipants: 1})
				h.clock.Advance(time.Second)
			}
			h.clock.Advance(time.Hour) // live for a while before rtkwatchd starts
			h.fake.SetPaging(tt.mode)
			w := allLiveWatch()
			p := h.poller(nil)

			ended := 0 // of m000 to m249, over every cycle so far
			cycle := func(name string, before func(), want []string, ends int) {
				t.Helper()
				ended += ends
				h.clock.Advance(30 * time.Second)
				if before != nil {
					before()
				}
				counts := h.fake.Counts()
				c := h.poll(p, w)
				got := requestsSince(h, counts)
				t.Logf("%s: %d sessions-list and %d active-session requests", name, got.sessions, got.active)
				if diff := cmp.Diff(want, summary(c.Events)); diff != "" {
					t.Errorf("%s: events (-want +got):\n%s", name, diff)
				}
				for _, ev := range c.Events {
					if ev.Type == diff.TypeSessionEnded && (ev.Data.Final == nil || ev.Data.Final.Status != diff.StatusEnded) {
						t.Errorf("%s: %s has final numbers %+v; want the ENDED session", name, ev.Data.MeetingID, ev.Data.Final)
					}
				}
				if limit := tt.pages + 1 + 2*ends; got.sessions+got.active > limit {
					t.Errorf("%s: %d requests; want at most %d", name, got.sessions+got.active, limit)
				}
				if tt.fails {
					return
				}
				for id, live := range map[string]bool{"m000": true, "m124": true, "m249": true} {
					if s, _ := h.snapshot(w.Name, id); (s.Session != nil) != live {
						t.Errorf("%s: %s stored as %+v", name, id, s.Session)
					}
				}
				stored := 0
				for i := range 250 {
					if s, _ := h.snapshot(w.Name, fmt.Sprintf("m%03d", i)); s.Session != nil {
						stored++
					}
				}
				if live := 250 - ended; stored != live {
					t.Errorf("%s: %d sessions stored as live; want %d", name, stored, live)
				}
			}
			if tt.fails {
				cycle("baseline", nil, nil, 0)
				cycle("again", nil, nil, 0)
				cycle("a third failure", nil, []string{"watch.failing *"}, 0)
				return
			}
			cycle("baseline", nil, nil, 0)
			cycle("steady", nil, nil, 0)
			cycle("one ends, one starts", func() {
				h.fake.EndSession(testApp, "m100")
				h.fake.StartSession(testApp, "new", rtkfake.Session{LiveParticipants: 1})
			}, []string{"session.ended m100", "session.started new"}, 1)
			cycle("steady again", nil, nil, 0)
			for id, live := range map[string]bool{"m100": false, "new": true} {
				if s, _ := h.snapshot(w.Name, id); (s.Session != nil) != live {
					t.Errorf("at the end: %s stored as %+v; want live %v", id, s.Session, live)
				}
			}
		})
	}
}

// TestAllLiveShiftDuringFirstRead: 101 sessions live for hours, 100 a
// page, and one ends right after page 1 of the very first read is served,
// so that the 101st moves onto page 1 and the first read misses it. The
// next cycle finds it: a late baseline, never a session.started.
func TestAllLiveShiftDuringFirstRead(t *testing.T) {
	for _, mode := range []rtkfake.PagingMode{{}, {NoPagingObject: true}} {
		t.Run(fmt.Sprintf("paging object %v", !mode.NoPagingObject), func(t *testing.T) {
			h := newHarness(t)
			for i := range 101 {
				h.fake.StartSession(testApp, fmt.Sprintf("m%03d", i), rtkfake.Session{LiveParticipants: 20})
				h.clock.Advance(time.Second)
			}
			h.clock.Advance(3 * time.Hour)
			first := true
			mode.AfterPage = func(_ string, page int) {
				if page == 1 && first {
					first = false
					h.fake.EndSession(testApp, "m000")
				}
			}
			h.fake.SetPaging(mode)
			w := allLiveWatch()
			p := h.poller(nil)
			runSteps(t, h, p, w, []listStep{
				{name: "baseline, which misses m100", check: func(t *testing.T, c Cycle) {
					if _, ok := h.snapshot(w.Name, "m100"); ok {
						t.Fatal("the first read saw m100; the test needs it missed")
					}
				}},
				{name: "m100 found: a late baseline; m000 really ended", want: []string{"session.ended m000"}, check: func(t *testing.T, c Cycle) {
					if s, _ := h.snapshot(w.Name, "m100"); s.Session == nil || !s.Baselined || s.Sequence != 0 {
						t.Errorf("m100 = %+v; want its session, silently", s)
					}
				}},
				{name: "and steady"},
			})
		})
	}
}

// TestExplicitShiftDuringFirstRead: the same for an explicit watchlist
// read through the list: the meeting the first read missed is asked
// directly before "no session" is stored for it.
func TestExplicitShiftDuringFirstRead(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := range 101 {
		ids = append(ids, fmt.Sprintf("m%03d", i))
		h.fake.StartSession(testApp, ids[i], rtkfake.Session{LiveParticipants: 20})
		h.clock.Advance(time.Second)
	}
	h.clock.Advance(3 * time.Hour)
	first := true
	h.fake.SetPaging(rtkfake.PagingMode{AfterPage: func(_ string, page int) {
		if page == 1 && first {
			first = false
			h.fake.EndSession(testApp, "m000")
		}
	}})
	w := testWatch(ids...)
	p := h.poller(nil)
	var last rtkfake.Counts
	mark := func() { last = h.fake.Counts() }
	runSteps(t, h, p, w, []listStep{
		{name: "baseline: m100 missed by the list, asked directly", check: func(t *testing.T, c Cycle) {
			if n := h.fake.Counts().ActiveSession; n != 1 || h.fake.ActiveSessionRequests(testApp, "m100") != 1 {
				t.Errorf("%d active-session requests; want one, for m100", n)
			}
			if s, _ := h.snapshot(w.Name, "m100"); s.Session == nil {
				t.Errorf("m100 = %+v; want its session", s)
			}
		}},
		{name: "m000 really ended; nothing for m100", want: []string{"session.ended m000"}},
		{name: "steady: one page, 100 live", before: mark, check: func(t *testing.T, c Cycle) {
			if got := requestsSince(h, last); got != (cycleRequests{sessions: 1}) {
				t.Errorf("%+v requests; want one page of the list", got)
			}
		}},
	})
}
