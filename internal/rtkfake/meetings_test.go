package rtkfake

import (
	"fmt"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
	"github.com/google/go-cmp/cmp"
)

// TestSDKDecodesMeetings reads an app's meetings list through the official
// SDK, page by page: every meeting once, in ID order, with its paging.
func TestSDKDecodesMeetings(t *testing.T) {
	s := newServer(t, Options{})
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("m-%d", i)
		want = append(want, id)
		if i%2 == 0 {
			s.CreateMeeting("app", id)
		} else {
			s.StartSession("app", id, Session{})
		}
	}
	s.CreateMeeting("other-app", "m-x")
	svc := realtime_kit.NewMeetingService(sdkOptions(s)...)
	var got []string
	for page := 1; page <= 3; page++ {
		var p realtime_kit.MeetingGetParams
		p.AccountID.Value, p.AccountID.Present = testAccount, true
		p.PageNo.Value, p.PageNo.Present = float64(page), true
		p.PerPage.Value, p.PerPage.Present = 2, true
		res, err := svc.Get(t.Context(), "app", p)
		if err != nil {
			t.Fatal(err)
		}
		start := 2 * (page - 1)
		end := min(start+2, 5) - 1
		if !res.Success || res.Paging.TotalCount != 5 || int(res.Paging.StartOffset) != start || int(res.Paging.EndOffset) != end {
			t.Fatalf("page %d: success %v, paging %+v; want 5 in all, %d to %d", page, res.Success, res.Paging, start, end)
		}
		for _, m := range res.Data {
			got = append(got, m.ID)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("meetings (-want +got):\n%s", diff)
	}
	if n := s.RouteRequests(RouteMeetings, "app"); n != 3 {
		t.Errorf("%d requests counted; want 3", n)
	}
}
