package poller

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestCheckMeetingsByList: from ListMinMeetings meetings of an app on,
// the check reads the app's meetings list, 100 a page, and asks directly
// only the meetings the list did not show; it stops reading once the
// pages left would cost as much as asking the rest directly.
func TestCheckMeetingsByList(t *testing.T) {
	tests := []struct {
		name     string
		others   int      // meetings of the app that no watch names
		watched  int      // meetings watched, all existing
		late     int      // more, listed after every other meeting
		typos    []string // watched meetings that do not exist
		fault    bool     // the list's first page fails
		noPaging bool     // the list sends no paging object
		pages    int      // list requests
		byID     int      // meeting requests
		problems []string // meetings called unknown
	}{
		{name: "fewer than ListMinMeetings", watched: ListMinMeetings - 1, pages: 0, byID: ListMinMeetings - 1},
		{name: "ListMinMeetings", watched: ListMinMeetings, pages: 1, byID: 0},
		{name: "2,000 of 2,000", watched: 2000, pages: 20, byID: 0},
		{name: "2,000 of 2,500, two typos", others: 500, watched: 1998, typos: []string{"nope-1", "nope-2"},
			pages: 20, byID: 2, problems: []string{"nope-1", "nope-2"}},
		// Page 1 shows w000-w009 (the fake lists in ID order) and says
		// 5,010 in all: 50 pages more to find z000-z009, asked directly.
		{name: "20 of 5,010", others: 4990, watched: 10, late: 10, pages: 1, byID: 10},
		// The edge: 10 pages left cost as much as 10 meetings; 9 less.
		{name: "20 of 1,010", others: 990, watched: 10, late: 10, pages: 1, byID: 10},
		{name: "20 of 1,000", others: 980, watched: 10, late: 10, pages: 10, byID: 0},
		// Without a paging object a full page is followed by the next,
		// as long as it costs less than the meetings left, and a short
		// page ends the list.
		{name: "250 of 250, no paging object", watched: 250, noPaging: true, pages: 3, byID: 0},
		{name: "250 of 300, two typos, no paging object", others: 50, watched: 248, typos: []string{"nope-1", "nope-2"},
			noPaging: true, pages: 3, byID: 2, problems: []string{"nope-1", "nope-2"}},
		{name: "20 of 5,010, no paging object", others: 4990, watched: 10, late: 10, noPaging: true, pages: 10, byID: 10},
		{name: "the list fails", watched: 50, fault: true, pages: 1, byID: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var ids []string
			for i := range tt.watched {
				ids = append(ids, fmt.Sprintf("w%03d", i))
				h.fake.CreateMeeting(testApp, ids[i])
			}
			for i := range tt.late {
				ids = append(ids, fmt.Sprintf("z%03d", i))
				h.fake.CreateMeeting(testApp, ids[len(ids)-1])
			}
			for i := range tt.others {
				h.fake.CreateMeeting(testApp, fmt.Sprintf("x%04d", i))
			}
			ids = append(ids, tt.typos...)
			if tt.fault {
				h.fake.SetRouteFault(rtkfake.RouteMeetings, testApp, rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
			}
			h.fake.SetPaging(rtkfake.PagingMode{NoPagingObject: tt.noPaging})
			p := h.poller(func(o *Options) { o.Budget = NewBudget(1<<20, nil) })
			var known KnownMeetings
			problems, err := p.CheckMeetings(t.Context(), []Watch{testWatch(ids...)}, &known)
			if err != nil {
				t.Fatal(err)
			}
			var unknown []string
			for _, pr := range problems {
				if !pr.Unknown() {
					t.Errorf("%s: %v; want it answered", pr.MeetingID, pr.Err)
				}
				unknown = append(unknown, pr.MeetingID)
			}
			if diff := cmp.Diff(tt.problems, unknown); diff != "" {
				t.Errorf("unknown meetings (-want +got):\n%s", diff)
			}
			pages, byID := h.fake.RouteRequests(rtkfake.RouteMeetings, testApp), h.fake.Counts().Meetings
			if pages != tt.pages || byID != tt.byID {
				t.Errorf("%d list pages and %d meetings asked; want %d and %d", pages, byID, tt.pages, tt.byID)
			}
			for _, id := range ids[:tt.watched+tt.late] {
				if !known.has(testApp, id) {
					t.Fatalf("%s not known to exist after the check", id)
				}
			}
		})
	}
}
