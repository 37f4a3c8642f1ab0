package poller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// meetingIDs returns n distinct meeting ids.
func meetingIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%04d", i)
	}
	return ids
}

func TestMakePlan(t *testing.T) {
	tests := []struct {
		name  string
		watch config.Watch
		want  WatchPlan
	}{
		{
			name:  "every 30s, two meetings",
			watch: config.Watch{Schedule: "@every 30s", Meetings: meetingIDs(2)},
			want:  WatchPlan{PollsPer5m: 10, RequestsPerPoll: 2, RequestsPer5m: 20},
		},
		{
			name:  "six fields: every 10 seconds",
			watch: config.Watch{Schedule: "*/10 * * * * *", Meetings: meetingIDs(1)},
			want:  WatchPlan{PollsPer5m: 30, RequestsPerPoll: 1, RequestsPer5m: 30},
		},
		{
			name:  "every minute",
			watch: config.Watch{Schedule: "* * * * *", Meetings: meetingIDs(3)},
			want:  WatchPlan{PollsPer5m: 5, RequestsPerPoll: 3, RequestsPer5m: 15},
		},
		{
			name:  "weekdays at nine",
			watch: config.Watch{Schedule: "0 9 * * 1-5", Meetings: meetingIDs(1)},
			want:  WatchPlan{PollsPer5m: 1, RequestsPerPoll: 1, RequestsPer5m: 1},
		},
		{
			name:  "sundays only",
			watch: config.Watch{Schedule: "*/30 * * * * 0", Meetings: meetingIDs(1)},
			want:  WatchPlan{PollsPer5m: 10, RequestsPerPoll: 1, RequestsPer5m: 10},
		},
		{
			name:  "once a year",
			watch: config.Watch{Schedule: "0 0 1 7 *", Meetings: meetingIDs(1)},
			want:  WatchPlan{PollsPer5m: 1, RequestsPerPoll: 1, RequestsPer5m: 1},
		},
		{
			name:  "leap days",
			watch: config.Watch{Schedule: "0 12 29 2 *", Meetings: meetingIDs(1)},
			want:  WatchPlan{PollsPer5m: 1, RequestsPerPoll: 1, RequestsPer5m: 1},
		},
		{
			name:  "all live: one page a poll",
			watch: config.Watch{Schedule: "@every 30s", AllLive: true},
			want:  WatchPlan{PollsPer5m: 10, RequestsPerPoll: 1, RequestsPer5m: 10},
		},
		{
			name:  "below the list threshold: meeting by meeting",
			watch: config.Watch{Schedule: "@every 1m", Meetings: meetingIDs(ListMinMeetings - 1)},
			want:  WatchPlan{PollsPer5m: 5, RequestsPerPoll: 9, RequestsPer5m: 45},
		},
		{
			name:  "at the list threshold: one page",
			watch: config.Watch{Schedule: "@every 1m", Meetings: meetingIDs(ListMinMeetings)},
			want:  WatchPlan{PollsPer5m: 5, RequestsPerPoll: 1, ViaList: true, RequestsPer5m: 5},
		},
		{
			name:  "2,000 meetings via the list",
			watch: config.Watch{Schedule: "@every 30s", Meetings: meetingIDs(2000)},
			want:  WatchPlan{PollsPer5m: 10, RequestsPerPoll: 20, ViaList: true, RequestsPer5m: 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.watch.Name = "w"
			tt.want.Watch = "w"
			cfg := &config.Config{API: config.API{RequestsPer5m: 1000}, Watches: []config.Watch{tt.watch}}
			got, err := MakePlan(cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := Plan{Watches: []WatchPlan{tt.want}, RequestsPer5m: tt.want.RequestsPer5m, Budget: 1000}
			// Check has its own test: TestMakePlanCheck.
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Plan{}, "Check")); diff != "" {
				t.Errorf("MakePlan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanOver(t *testing.T) {
	cfg := &config.Config{
		API: config.API{RequestsPer5m: 1000},
		Watches: []config.Watch{
			{Name: "busy", Schedule: "*/5 * * * * *", Meetings: meetingIDs(15)}, // 60 polls × 1 page
			{Name: "many", Schedule: "@every 10s", Meetings: meetingIDs(9)},     // 30 polls × 9
			{Name: "app", Schedule: "@every 2s", AllLive: true},                 // 150 polls × 1
		},
	}
	p, err := MakePlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.RequestsPer5m != 60+270+150 || p.Over() != 480-1000 {
		t.Errorf("plan of %d requests, over by %d; want 480, -520", p.RequestsPer5m, p.Over())
	}
	cfg.API.RequestsPer5m = 400
	if p, _ := MakePlan(cfg); p.Over() != 80 {
		t.Errorf("over by %d with a budget of 400; want 80", p.Over())
	}
}

func TestMakePlanBadSchedule(t *testing.T) {
	cfg := &config.Config{Watches: []config.Watch{{Name: "broken", Schedule: "@evry 1m", Meetings: meetingIDs(1)}}}
	_, err := MakePlan(cfg)
	if err == nil || !strings.Contains(err.Error(), "watch broken") {
		t.Fatalf("MakePlan = %v; want an error naming watch broken", err)
	}
}

// TestMakePlanSignals checks what the app-wide reads add: one list read
// per app and signal at the pace of the busiest watch that shares it, and
// one analytics read per usage block with thresholds.
func TestMakePlanSignals(t *testing.T) {
	cfg := &config.Config{
		API: config.API{RequestsPer5m: 1000},
		Watches: []config.Watch{
			{Name: "a", AppID: "app-1", Meetings: meetingIDs(1), Schedule: "@every 1m", Recordings: true},
			{Name: "b", AppID: "app-1", AllLive: true, Schedule: "@every 30s", Recordings: true, Livestreams: true},
			{Name: "c", AppID: "app-2", Meetings: meetingIDs(2), Schedule: "@every 2m", Recordings: true},
			{Name: "d", AppID: "app-2", Meetings: meetingIDs(1), Schedule: "@every 10s"},
		},
		Usage: []config.Usage{
			{AppID: "app-1", Schedule: "@every 10m", DailyMinutes: []float64{100}},
			{AppID: "app-3", Schedule: "@every 1m", PricePerParticipantMinute: 0.1}, // reads nothing
			{AppID: "app-2", Schedule: "*/5 * * * * *", MonthlyMinutes: []float64{100}},
		},
	}
	p, err := MakePlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []SignalPlan{
		{AppID: "app-1", Signal: "recordings", Watches: []string{"a", "b"}, Schedule: "@every 30s", PollsPer5m: 10, RequestsPer5m: 10},
		{AppID: "app-1", Signal: "livestreams", Watches: []string{"b"}, Schedule: "@every 30s", PollsPer5m: 10, RequestsPer5m: 10},
		{AppID: "app-2", Signal: "recordings", Watches: []string{"c"}, Schedule: "@every 2m", PollsPer5m: 3, RequestsPer5m: 3},
		{AppID: "app-1", Signal: "usage", Schedule: "@every 10m", PollsPer5m: 1, RequestsPer5m: 1},
		{AppID: "app-2", Signal: "usage", Schedule: "*/5 * * * * *", PollsPer5m: 60, RequestsPer5m: 60},
	}
	if d := cmp.Diff(want, p.Signals); d != "" {
		t.Errorf("signals (-want +got):\n%s", d)
	}
	// Watches: 5 + 10 + 2×3 (2 meetings, @every 2m: 3 polls) + 30; signals: 84.
	if got, want := p.RequestsPer5m, 5+10+6+30+84; got != want {
		t.Errorf("RequestsPer5m = %d, want %d", got, want)
	}
}

// TestPeakPer5mEvery counts the most activations of an `@every` schedule
// that five minutes can hold, around the edges of five minutes, and holds
// the count to the simulated one where the simulation's phase reaches it.
func TestPeakPer5mEvery(t *testing.T) {
	for _, c := range []struct {
		every     time.Duration
		want      int
		simulated bool // the simulated day finds the same peak
	}{
		{time.Second, 300, true}, {7 * time.Second, 43, true}, {59 * time.Second, 6, true},
		{100 * time.Second, 3, true}, {150 * time.Second, 2, true}, {299 * time.Second, 2, false},
		{5 * time.Minute, 1, true}, {301 * time.Second, 1, true}, {7 * time.Minute, 1, true},
		{time.Hour, 1, true}, {25 * time.Hour, 1, true},
	} {
		s := cron.Every(c.every)
		if got := peakPer5m(s); got != c.want {
			t.Errorf("@every %s: peak %d in five minutes, want %d", c.every, got, c.want)
		}
		if sim := simulatedPeakPer5m(s); c.simulated && sim != c.want {
			t.Errorf("@every %s: simulated peak %d, want %d", c.every, sim, c.want)
		}
	}
}

// BenchmarkMakePlan250 is the plan of 250 watches `@every 1s`, which the
// daemon computes at start and on every reload.
func BenchmarkMakePlan250(b *testing.B) {
	cfg := &config.Config{API: config.API{RequestsPer5m: 1200}}
	for i := range 250 {
		cfg.Watches = append(cfg.Watches, config.Watch{Name: fmt.Sprintf("w%03d", i), AppID: "app", Schedule: "@every 1s",
			Meetings: []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"}})
	}
	for b.Loop() {
		if _, err := MakePlan(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
