package rtkfake

import (
	"encoding/json"
	"testing"
)

func TestRouteFaults(t *testing.T) {
	s := newServer(t, Options{})
	s.AddRecording("app", Recording{MeetingID: "m"})
	status := func(path string) int {
		t.Helper()
		return get(t, s, path, "").Status
	}
	s.SetRouteFault(RouteRecordings, "app", Fault{Kind: ServerError, Times: 2})
	s.SetRouteFault(RouteLivestreams, "", Fault{Kind: Unauthorized})
	s.SetFault("app", "", Fault{Kind: BadGatewayHTML}) // narrower faults win
	got := []int{
		status(recordingsPath("app", "")), status(recordingsPath("app", "?meeting_id=m")), status(recordingsPath("app", "")),
		status(livestreamsPath("app", "")), status(livestreamsPath("other", "")),
		status(analyticsPath("app", "")), status(analyticsPath("other", "")),
		status(activePath("app", "m")),
	}
	want := []int{500, 500, 502, 401, 401, 502, 200, 502}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
	s.ClearRouteFault(RouteLivestreams, "")
	s.ClearFault("app", "")
	if got := []int{status(livestreamsPath("app", "")), status(recordingsPath("app", ""))}; got[0] != 200 || got[1] != 200 {
		t.Errorf("after clearing: %v, want 200s", got)
	}
	// A meeting's fault covers the recordings asked for by that meeting.
	s.SetFault("app", "m", Fault{Kind: RateLimited, RetryAfter: 3})
	if got := []int{status(recordingsPath("app", "?meeting_id=m")), status(recordingsPath("app", "?meeting_id=n"))}; got[0] != 429 || got[1] != 200 {
		t.Errorf("meeting scope: %v, want [429 200]", got)
	}
	if c := s.Counts(); c.Faulted != 8 || c.Recordings != 6 || c.Livestreams != 3 || c.Analytics != 2 {
		t.Errorf("counts %+v", c)
	}
}

func TestRouteFaultTruncates(t *testing.T) {
	s := newServer(t, Options{})
	s.AddRecording("app", Recording{MeetingID: "m"})
	s.AddLivestream("app", Livestream{MeetingID: "m"})
	for route, path := range map[Route]string{
		RouteRecordings:  recordingsPath("app", ""),
		RouteLivestreams: livestreamsPath("app", ""),
		RouteAnalytics:   analyticsPath("app", ""),
	} {
		t.Run(string(route), func(t *testing.T) {
			s.SetRouteFault(route, "app", Fault{Kind: TruncatedJSON, Times: 1})
			cut := get(t, s, path, "")
			whole := get(t, s, path, "")
			if cut.Status != 200 || json.Valid([]byte(cut.Body)) || whole.Status != 200 || !json.Valid([]byte(whole.Body)) || len(cut.Body) == 0 {
				t.Errorf("truncated %+v, then %+v", cut, whole)
			}
		})
	}
}

func TestNewRoutesCheckTokenAndAccount(t *testing.T) {
	s := newServer(t, Options{})
	for _, route := range []string{"recordings", "livestreams", "analytics/daywise"} {
		t.Run(route, func(t *testing.T) {
			if got := get(t, s, "accounts/"+testAccount+"/realtime/kit/app/"+route, "Bearer nope"); got.Status != 401 {
				t.Errorf("wrong token: status %d", got.Status)
			}
			if got := get(t, s, "accounts/acc-2/realtime/kit/app/"+route, ""); got.Status != 403 {
				t.Errorf("wrong account: status %d", got.Status)
			}
		})
	}
	if c := s.Counts(); c.Rejected != 6 {
		t.Errorf("counts %+v, want 6 rejected", c)
	}
}
