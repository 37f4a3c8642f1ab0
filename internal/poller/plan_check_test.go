package poller

import (
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// TestMakePlanCheck: the one-off cost of checking the explicit meetings,
// per app: one request per meeting below ListMinMeetings, else one page
// of the meetings list per 100 (at most two per meeting).
func TestMakePlanCheck(t *testing.T) {
	w := func(app string, meetings []string) config.Watch {
		return config.Watch{Name: app, AppID: app, Schedule: "@every 30s", Meetings: meetings}
	}
	tests := []struct {
		name    string
		watches []config.Watch
		want    CheckPlan
	}{
		{name: "no explicit meetings", watches: []config.Watch{{Schedule: "@every 30s", AllLive: true, AppID: "a"}}},
		{name: "just under ListMinMeetings", watches: []config.Watch{w("a", meetingIDs(ListMinMeetings-1))},
			want: CheckPlan{Meetings: 9, Requests: 9, MaxRequests: 9}},
		{name: "ListMinMeetings", watches: []config.Watch{w("a", meetingIDs(ListMinMeetings))},
			want: CheckPlan{Meetings: 10, Requests: 1, MaxRequests: 20}},
		{name: "100 and 101", watches: []config.Watch{w("a", meetingIDs(100)), w("b", meetingIDs(101))},
			want: CheckPlan{Meetings: 201, Requests: 1 + 2, MaxRequests: 200 + 202}},
		{name: "2,000 in one app, named twice", watches: []config.Watch{w("a", meetingIDs(2000)), w("a", meetingIDs(20))},
			want: CheckPlan{Meetings: 2000, Requests: 20, MaxRequests: 4000}},
		{name: "apps apart", watches: []config.Watch{w("a", meetingIDs(5)), w("b", meetingIDs(5))},
			want: CheckPlan{Meetings: 10, Requests: 10, MaxRequests: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Watches = tt.watches
			p, err := MakePlan(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Check != tt.want {
				t.Errorf("check %+v; want %+v", p.Check, tt.want)
			}
		})
	}
}
