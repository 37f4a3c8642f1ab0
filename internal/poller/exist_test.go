package poller

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestCheckMeetings: each distinct meeting is asked once, through the
// budget; the unknown ones and those that could not be asked are named
// under every watch that has them; a later check asks only about the
// meetings not known to exist.
func TestCheckMeetings(t *testing.T) {
	// In a synctest bubble the clock stands still while a goroutine waits
	// on the network, as the fake API's listener always does: the budget
	// refills by nothing between requests, and its tokens count exactly the
	// requests charged, however slow the machine.
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.fake.StartSession(testApp, "live", rtkfake.Session{})
		h.fake.CreateMeeting(testApp, "idle")
		h.fake.CreateMeeting("app-2", "idle")
		h.fake.CreateMeeting(testApp, "broken")
		h.fake.SetFault(testApp, "broken", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
		// A burst of 1000, so that the check's spare requests (half the
		// burst) are there however many it asks for: requests too many
		// show as a wrong count, not as a wait for a refill that never
		// comes.
		budget := NewBudget(10_000, nil)
		start := time.Now()
		p := h.poller(func(o *Options) { o.Budget = budget })
		w1 := testWatch("live", "nope", "idle", "broken")
		w2 := testWatch("nope", "live")
		w2.Name = "second"
		w3 := testWatch("idle", "gone")
		w3.Name, w3.AppID = "other-app", "app-2"
		var known KnownMeetings

		problems, err := p.CheckMeetings(t.Context(), []Watch{w1, w2, w3}, &known)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Watch, App, Meeting string
			Unknown             bool
			Kind                rtkapi.Kind
		}
		rows := func(ps []MeetingProblem) []row {
			var out []row
			for _, p := range ps {
				r := row{Watch: p.Watch, App: p.AppID, Meeting: p.MeetingID, Unknown: p.Unknown()}
				var e *rtkapi.Error
				if errors.As(p.Err, &e) {
					r.Kind = e.Kind
				}
				out = append(out, r)
			}
			return out
		}
		want := []row{
			{"town-hall", testApp, "nope", true, ""},
			{"town-hall", testApp, "broken", false, rtkapi.KindServer},
			{"second", testApp, "nope", true, ""},
			{"other-app", "app-2", "gone", true, ""},
		}
		if diff := cmp.Diff(want, rows(problems)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		if n := h.fake.Counts().Meetings; n != 6 {
			t.Errorf("%d meeting requests; want one per distinct meeting, 6", n)
		}
		if got := budget.Available(); got != 1000-6 {
			t.Errorf("budget has %.2f requests left; want each request charged (994)", got)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the bubble's clock moved %v during the check; the budget's count is exact only if it stands still", d)
		}

		// Again, as on a reload: the meetings known to exist are not asked.
		problems, err = p.CheckMeetings(t.Context(), []Watch{w1, w2, w3}, &known)
		if err != nil {
			t.Fatal(err)
		}
		if n := h.fake.Counts().Meetings; n != 6+3 {
			t.Errorf("%d meeting requests in all; want 3 more (nope, broken, gone)", n-6)
		}
		if len(problems) != 3 || problems[0].MeetingID != "nope" || problems[1].MeetingID != "nope" || problems[2].MeetingID != "gone" {
			t.Errorf("second check: %+v; want nope twice and gone (broken answers now)", rows(problems))
		}
	})
}

func TestCheckMeetingsCancelled(t *testing.T) {
	h := newHarness(t)
	p := h.poller(nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var known KnownMeetings
	problems, err := p.CheckMeetings(ctx, []Watch{testWatch("a", "b")}, &known)
	if !errors.Is(err, context.Canceled) || len(problems) != 0 || h.fake.Counts().Meetings != 0 {
		t.Errorf("problems %v, error %v, %d requests; want none, the context's error", problems, err, h.fake.Counts().Meetings)
	}
}
