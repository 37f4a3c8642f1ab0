package rtkfake

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// sdkOptions point the official SDK at the fake, without retries.
func sdkOptions(s *Server) []option.RequestOption {
	return []option.RequestOption{
		option.WithBaseURL(s.URL()), option.WithAPIToken(testToken), option.WithMaxRetries(0), option.WithHTTPClient(s.Client()),
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(TimeFormat, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSDKDecodesRecordings reads the recordings list through the official
// SDK: every field rtkwatchd reads arrives, with its paging.
func TestSDKDecodesRecordings(t *testing.T) {
	s := newServer(t, Options{})
	id := s.AddRecording("app", Recording{MeetingID: "m-1", MeetingTitle: "Town Hall", SessionID: "s-1"}) // t0
	s.AddRecording("app", Recording{ID: "r-orphan"})                                                      // t1
	s.SetRecordingStatus("app", id, RecordingRecording)                                                   // t2
	s.SetRecordingStatus("app", id, RecordingUploaded)                                                    // t3

	var p realtime_kit.RecordingGetRecordingsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	p.SortBy.Value, p.SortBy.Present = realtime_kit.RecordingGetRecordingsParamsSortByInvokedTime, true
	p.SortOrder.Value, p.SortOrder.Present = realtime_kit.RecordingGetRecordingsParamsSortOrderAsc, true
	p.StartTime.Value, p.StartTime.Present = mustTime(t, "2026-03-01T08:00:00.000Z"), true
	p.Status.Value, p.Status.Present = []realtime_kit.RecordingGetRecordingsParamsStatus{
		realtime_kit.RecordingGetRecordingsParamsStatusInvoked, realtime_kit.RecordingGetRecordingsParamsStatusUploaded,
	}, true
	p.PerPage.Value, p.PerPage.Present = 1, true
	p.PageNo.Value, p.PageNo.Present = 1, true
	res, err := realtime_kit.NewRecordingService(sdkOptions(s)...).GetRecordings(t.Context(), "app", p)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || len(res.Data) != 1 || res.Paging.TotalCount != 2 || res.Paging.StartOffset != 0 || res.Paging.EndOffset != 0 {
		t.Fatalf("response %+v", res)
	}
	r := res.Data[0]
	if r.ID != id || r.Status != realtime_kit.RecordingGetRecordingsResponseDataStatusUploaded || !r.Status.IsKnown() ||
		r.Meeting.ID != "m-1" || r.Meeting.Title != "Town Hall" || r.SessionID != "s-1" ||
		!r.InvokedTime.Equal(mustTime(t, "2026-03-01T09:00:00.000Z")) || !r.StartedTime.Equal(mustTime(t, "2026-03-01T09:00:02.000Z")) ||
		!r.StoppedTime.Equal(mustTime(t, "2026-03-01T09:00:03.000Z")) || r.RecordingDuration != 1 || r.DownloadURL == "" {
		t.Errorf("recording %+v", r)
	}

	p.PageNo.Value = 2
	res, err = realtime_kit.NewRecordingService(sdkOptions(s)...).GetRecordings(t.Context(), "app", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || res.Data[0].ID != "r-orphan" || res.Data[0].Meeting.ID != "" || !res.Data[0].JSON.Meeting.IsMissing() {
		t.Errorf("page 2: %+v", res.Data)
	}
}

// TestSDKDecodesLivestreams reads the livestreams list through the official
// SDK. The SDK declares "data" as one livestream; the call succeeds on the
// fake's array, whose elements decode as the SDK's livestream type.
func TestSDKDecodesLivestreams(t *testing.T) {
	s := newServer(t, Options{})
	id := s.AddLivestream("app", Livestream{MeetingID: "m-1", Name: "Town Hall"}) // t0
	s.AddLivestream("app", Livestream{ID: "l-own"})                               // t1
	s.SetLivestreamStatus("app", id, LivestreamLive)                              // t2

	var p realtime_kit.LivestreamGetAllLivestreamsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	p.SortOrder.Value, p.SortOrder.Present = realtime_kit.LivestreamGetAllLivestreamsParamsSortOrderAsc, true
	p.ExcludeMeetings.Value, p.ExcludeMeetings.Present = false, true
	p.StartTime.Value, p.StartTime.Present = mustTime(t, "2026-03-01T08:00:00.000Z"), true
	p.PerPage.Value, p.PerPage.Present = 10, true
	p.PageNo.Value, p.PageNo.Present = 1, true
	res, err := realtime_kit.NewLivestreamService(sdkOptions(s)...).GetAllLivestreams(t.Context(), "app", p)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.Data.ID != "" || !strings.HasPrefix(res.JSON.Data.Raw(), "[") {
		t.Fatalf("response %+v: want success, and data an array rather than the SDK's object", res)
	}
	var page []realtime_kit.LivestreamGetAllLivestreamsResponseData
	if err := json.Unmarshal([]byte(res.JSON.Data.Raw()), &page); err != nil {
		t.Fatal(err)
	}
	var paging struct {
		Paging struct {
			TotalCount int `json:"total_count"`
		} `json:"paging"`
	}
	if err := json.Unmarshal([]byte(res.JSON.RawJSON()), &paging); err != nil || paging.Paging.TotalCount != 2 {
		t.Errorf("paging %+v: %v", paging, err)
	}
	if len(page) != 2 {
		t.Fatalf("page %+v", page)
	}
	l := page[0]
	if l.ID != id || l.MeetingID != "m-1" || l.Name != "Town Hall" || l.Status != realtime_kit.LivestreamGetAllLivestreamsResponseDataStatusLive ||
		!l.Status.IsKnown() || !l.CreatedAt.Equal(mustTime(t, "2026-03-01T09:00:00.000Z")) || !l.UpdatedAt.Equal(mustTime(t, "2026-03-01T09:00:02.000Z")) {
		t.Errorf("livestream %+v", l)
	}
	if own := page[1]; own.ID != "l-own" || own.MeetingID != "" || !own.JSON.MeetingID.IsNull() || own.Status != realtime_kit.LivestreamGetAllLivestreamsResponseDataStatusInvoked {
		t.Errorf("the app's own livestream %+v", own)
	}
}

// TestSDKDecodesAnalytics reads the daywise analytics through the official
// SDK.
func TestSDKDecodesAnalytics(t *testing.T) {
	s := newServer(t, Options{}) // today is 2026-03-01
	s.SetDailyUsage("app", "2026-02-28", DailyUsage{SessionMinutes: 1500.5, Sessions: 3, RecordingMinutes: 60, Recordings: 2})
	s.AddSessionMinutes("app", "2026-03-01", 42)

	var p realtime_kit.AnalyticsGetOrgAnalyticsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	p.StartDate.Value, p.StartDate.Present = "2026-02-28", true
	p.EndDate.Value, p.EndDate.Present = "2026-03-01", true
	res, err := realtime_kit.NewAnalyticsService(sdkOptions(s)...).GetOrgAnalytics(t.Context(), "app", p)
	if err != nil {
		t.Fatal(err)
	}
	st := res.Data.SessionStats
	if !res.Success || len(st.DayStats) != 2 || st.SessionsCount != 3 || st.SessionsMinutesConsumed != 1542.5 {
		t.Fatalf("session stats %+v", st)
	}
	if d := st.DayStats[0]; d.Day != "2026-02-28" || d.TotalSessionMinutes != 1500.5 || d.TotalSessions != 3 {
		t.Errorf("day %+v", d)
	}
	if d := st.DayStats[1]; d.Day != "2026-03-01" || d.TotalSessionMinutes != 42 {
		t.Errorf("today %+v", d)
	}
	if rs := res.Data.RecordingStats; len(rs.DayStats) != 2 || rs.DayStats[0].TotalRecordingMinutes != 60 || rs.RecordingCount != 2 {
		t.Errorf("recording stats %+v", rs)
	}
}

// TestSDKSeesRouteFaults checks that a fault on the new routes reaches the
// SDK as the typed error callers classify.
func TestSDKSeesRouteFaults(t *testing.T) {
	s := newServer(t, Options{})
	s.SetRouteFault(RouteAnalytics, "app", Fault{Kind: RateLimited, RetryAfter: 9})
	s.SetRouteFault(RouteRecordings, "app", Fault{Kind: Forbidden})
	var ap realtime_kit.AnalyticsGetOrgAnalyticsParams
	ap.AccountID.Value, ap.AccountID.Present = testAccount, true
	_, err := realtime_kit.NewAnalyticsService(sdkOptions(s)...).GetOrgAnalytics(t.Context(), "app", ap)
	var apiErr *realtime_kit.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != "9" {
		t.Errorf("analytics: %v, want a 429 with Retry-After 9", err)
	}
	var rp realtime_kit.RecordingGetRecordingsParams
	rp.AccountID.Value, rp.AccountID.Present = testAccount, true
	_, err = realtime_kit.NewRecordingService(sdkOptions(s)...).GetRecordings(t.Context(), "app", rp)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 {
		t.Errorf("recordings: %v, want a 403", err)
	}
}
