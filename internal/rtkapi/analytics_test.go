package rtkapi

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestDaywiseUsage reads the fake's analytics over a date range.
func TestDaywiseUsage(t *testing.T) {
	srv := newFake(t, rtkfake.Options{Now: func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }})
	srv.SetDailyUsage(testApp, "2026-03-01", rtkfake.DailyUsage{SessionMinutes: 1500.5, Sessions: 3})
	srv.AddSessionMinutes(testApp, "2026-03-02", 42)
	srv.AddSessionMinutes(testApp, "2026-02-28", 1) // before the range
	c := newTestClient(t, srv.URL(), nil)
	got, err := c.DaywiseUsage(t.Context(), testApp, "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{Days: []UsageDay{{Day: "2026-03-01", Minutes: 1500.5}, {Day: "2026-03-02", Minutes: 42}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}

	srv.SetRouteFault(rtkfake.RouteAnalytics, testApp, rtkfake.Fault{Kind: rtkfake.Forbidden, Times: 1})
	if _, err := c.DaywiseUsage(t.Context(), testApp, "", ""); asError(t, err).Kind != KindAuth {
		t.Errorf("403: %v", err)
	}
	if _, err := c.DaywiseUsage(t.Context(), "", "", ""); asError(t, err).Kind != KindClient {
		t.Errorf("empty app: %v", err)
	}
}

// TestDaywiseUsageBodies checks odd days (left out and named) and bodies
// that fail the read.
func TestDaywiseUsageBodies(t *testing.T) {
	tests := []struct {
		name, body string
		want       Usage
		wantErr    string
	}{
		{
			name: "odd days",
			body: `{"success":true,"data":{"session_stats":{"day_stats":[
				{"day":"2026-03-01","total_session_minutes":10},
				{"day":"2026-03-02","total_session_minutes":"60"},
				{"day":"2026-03-03"},
				{"total_session_minutes":5},
				{"day":"2099-01-01","total_session_minutes":-5},
				{"day":20260304,"total_session_minutes":1}
			]}}}`,
			want: Usage{
				Days: []UsageDay{{Day: "2026-03-01", Minutes: 10}, {Day: "2099-01-01", Minutes: -5}},
				Problems: []string{
					`data.session_stats.day_stats[1].total_session_minutes is "60", not a number`,
					"data.session_stats.day_stats[2].total_session_minutes is missing",
					"data.session_stats.day_stats[3].day is missing",
					"data.session_stats.day_stats[5].day is 20260304, not a string",
				},
			},
		},
		{name: "no days", body: `{"success":true,"data":{"session_stats":{"day_stats":[]}}}`, want: Usage{Days: []UsageDay{}}},
		{name: "no session stats", body: `{"success":true,"data":{"recording_stats":{}}}`, wantErr: "no data.session_stats"},
		{name: "no data", body: `{"success":true}`, wantErr: "no data.session_stats"},
		{name: "day_stats not a list", body: `{"success":true,"data":{"session_stats":{"day_stats":{}}}}`, wantErr: "data.session_stats.day_stats is an object, not an array"},
		{name: "day_stats missing", body: `{"success":true,"data":{"session_stats":{}}}`, wantErr: "no data.session_stats.day_stats"},
		{name: "not successful", body: `{"success":false,"data":{"session_stats":{"day_stats":[]}}}`, wantErr: "success is not true"},
		{name: "session_stats a string", body: `{"success":true,"data":{"session_stats":"x"}}`, wantErr: "data.session_stats is a string, not an object"},
		{name: "minutes out of range", body: `{"success":true,"data":{"session_stats":{"day_stats":[{"day":"2026-03-01","total_session_minutes":1e400}]}}}`,
			want: Usage{Days: []UsageDay{}, Problems: []string{"data.session_stats.day_stats[0].total_session_minutes is 1e400, beyond any float64"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serveBody(t, tt.body)
			got, err := newTestClient(t, srv.URL, nil).DaywiseUsage(t.Context(), testApp, "", "")
			if tt.wantErr != "" {
				if e := asError(t, err); e.Kind != KindDecode || !strings.Contains(e.Message, tt.wantErr) {
					t.Errorf("error %+v, want a decode error with %q", e, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}
