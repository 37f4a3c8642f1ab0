package rtkfake

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func analyticsPath(app, query string) string {
	return "accounts/" + testAccount + "/realtime/kit/" + app + "/analytics/daywise" + query
}

func TestAnalyticsWire(t *testing.T) {
	s := newServer(t, Options{})
	s.SetDailyUsage("app", "2026-02-28", DailyUsage{SessionMinutes: 10.5, Sessions: 2, RecordingMinutes: 4, Recordings: 1})
	s.AddSessionMinutes("app", "2026-03-01", 7)
	s.AddSessionMinutes("app", "2026-03-01", 0.25)
	s.SetDailyUsage("app", "2026-03-02", DailyUsage{SessionMinutes: 99}) // after end_date
	got := get(t, s, analyticsPath("app", "?start_date=2026-02-27&end_date=2026-03-01"), "")
	want := `{"success":true,"data":{"recording_stats":{"day_stats":[` +
		`{"day":"2026-02-27","total_recording_minutes":0,"total_recordings":0},` +
		`{"day":"2026-02-28","total_recording_minutes":4,"total_recordings":1},` +
		`{"day":"2026-03-01","total_recording_minutes":0,"total_recordings":0}],` +
		`"recording_count":1,"recording_minutes_consumed":4},` +
		`"session_stats":{"day_stats":[` +
		`{"day":"2026-02-27","total_session_minutes":0,"total_sessions":0},` +
		`{"day":"2026-02-28","total_session_minutes":10.5,"total_sessions":2},` +
		`{"day":"2026-03-01","total_session_minutes":7.25,"total_sessions":0}],` +
		`"sessions_count":2,"sessions_minutes_consumed":17.75}}}`
	if diff := cmp.Diff(response{200, "application/json", want, ""}, got); diff != "" {
		t.Errorf("analytics (-want +got):\n%s", diff)
	}
	if u := s.DailyUsage("app", "2026-03-01"); u.SessionMinutes != 7.25 {
		t.Errorf("DailyUsage = %+v", u)
	}
}

func TestAnalyticsDefaultRange(t *testing.T) {
	s := newServer(t, Options{}) // today is 2026-03-01
	var body struct {
		Data struct {
			SessionStats struct {
				DayStats []struct{ Day string } `json:"day_stats"`
			} `json:"session_stats"`
		}
	}
	got := get(t, s, analyticsPath("app", ""), "")
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
		t.Fatal(err)
	}
	days := body.Data.SessionStats.DayStats
	if len(days) != 31 || days[0].Day != "2026-01-30" || days[30].Day != "2026-03-01" {
		t.Errorf("default range: %d days, %v", len(days), days)
	}
	if got := s.RouteRequests(RouteAnalytics, "app"); got != 1 || s.Counts().Analytics != 1 {
		t.Errorf("RouteRequests = %d, counts %+v", got, s.Counts())
	}
}

func TestSetDailyUsageBadDay(t *testing.T) {
	s := newServer(t, Options{})
	for name, f := range map[string]func(){
		"SetDailyUsage":     func() { s.SetDailyUsage("app", "2026-3-1", DailyUsage{}) },
		"AddSessionMinutes": func() { s.AddSessionMinutes("app", "today", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("a day that is not a date did not panic")
				}
			}()
			f()
		})
	}
}
