package poller

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// usageWatch is the job of a usage block of the test app: 1,000 minutes a
// day, 5,000 a month, at 0.002 a participant minute.
func usageWatch() Watch {
	return Watch{
		Name: UsageWatchName(testApp), AppID: testApp, Schedule: "@every 10m",
		Usage:  &diff.UsageRules{DailyMinutes: []float64{1000}, MonthlyMinutes: []float64{5000}, PricePerParticipantMinute: 0.002, FailingAfter: 1},
		Routes: map[string][]string{diff.TypeUsageThreshold: {"ops"}, diff.TypeWatchFailing: {"ops"}, diff.TypeWatchRecovered: {"ops"}},
	}
}

// TestUsageScenario plays a usage block against the fake: a silent
// baseline already past the daily threshold, the month crossed, a restart
// that repeats nothing, a new UTC day, and a failed read that is the usage
// signal's own.
func TestUsageScenario(t *testing.T) {
	h := newHarness(t) // 2026-03-02 10:00 UTC
	w := usageWatch()
	p := h.poller(nil)
	type step struct {
		name    string
		advance time.Duration
		before  func(f *rtkfake.Server)
		want    []string
	}
	steps := []step{
		{name: "baseline: today is past its threshold already", before: func(f *rtkfake.Server) {
			f.AddSessionMinutes(testApp, "2026-03-01", 3000)
			f.AddSessionMinutes(testApp, "2026-03-02", 1200)
			f.AddSessionMinutes(testApp, "2026-02-28", 9000) // last month's
		}},
		{name: "the month crosses 5,000", advance: 10 * time.Minute, before: func(f *rtkfake.Server) {
			f.AddSessionMinutes(testApp, "2026-03-02", 800)
		}, want: []string{"usage.threshold_crossed month 2026-03-01 5000 5000 10"}},
		{name: "restart", advance: 10 * time.Minute, before: func(*rtkfake.Server) { p = h.poller(nil) }},
		{name: "a new UTC day: its first read crosses at once", advance: 14 * time.Hour, before: func(f *rtkfake.Server) {
			f.AddSessionMinutes(testApp, "2026-03-03", 1000.5)
		}, want: []string{"usage.threshold_crossed day 2026-03-03 1000 1000.5 2.001"}},
		{name: "the analytics fail", advance: 10 * time.Minute, before: func(f *rtkfake.Server) {
			f.SetRouteFault(rtkfake.RouteAnalytics, testApp, rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
		}, want: []string{"watch.failing usage * signal=usage"}},
		{name: "and recover", advance: 10 * time.Minute, want: []string{"watch.recovered usage * signal=usage"}},
	}
	for _, st := range steps {
		h.clock.Advance(st.advance)
		if st.before != nil {
			st.before(h.fake)
		}
		c := h.poll(p, w)
		var got []string
		for _, ev := range c.Events {
			d := ev.Data
			if d.Watch != UsageEventWatch || d.MeetingID != WatchMeetingID || d.AppID != testApp {
				t.Errorf("%s: event %s is about %s/%s of app %s", st.name, ev.Type, d.Watch, d.MeetingID, d.AppID)
			}
			s := ev.Type + " "
			if d.Signal != "" {
				s += d.Watch + " " + d.MeetingID + " signal=" + d.Signal
			} else {
				s += d.Period + " " + d.PeriodStart + " " + fmtNum(*d.ThresholdMinutes) + " " + fmtNum(*d.Minutes) + " " + fmtNum(*d.EstimatedCost)
			}
			got = append(got, s)
		}
		if d := cmp.Diff(st.want, got); d != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, d)
		}
	}
	if n := h.fake.RouteRequests(rtkfake.RouteAnalytics, testApp); n != len(steps) {
		t.Errorf("%d analytics requests, want one per cycle (%d)", n, len(steps))
	}
	if got := h.rawSnapshots(UsageWatchName(testApp)); len(got) != 1 || got[UsageMeetingID] == nil {
		t.Errorf("stored under the usage job: %v, want its state alone", got)
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// TestUsageLeftOut checks the bad days of an analytics answer: a day in
// the future, negative minutes, a day that does not decode: logged,
// counted once, never an event (the future day's minutes would cross the
// threshold).
func TestUsageLeftOut(t *testing.T) {
	body := `{"success":true,"data":{"session_stats":{"day_stats":[
		{"day":"2026-03-02","total_session_minutes":10},
		{"day":"2026-03-03","total_session_minutes":5000},
		{"day":"2026-03-01","total_session_minutes":-4000},
		{"day":"2026-02-28","total_session_minutes":"lots"}
	]}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
	t.Cleanup(srv.Close)
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	client := rtkapi.New(rtkapi.Options{BaseURL: srv.URL + "/client/v4/", AccountID: testAccount, Token: testToken, Timeout: 5 * time.Second})
	p := New(client, Options{AccountID: testAccount, Store: h.store, Logger: h.poller(nil).opts.Logger, Now: h.clock.Now, Signals: m})
	w := usageWatch()
	for range 3 {
		if c := h.poll(p, w); len(c.Events) != 0 || c.Failures != 0 {
			t.Errorf("events %q, %d failures", signalSummary(c.Events), c.Failures)
		}
		h.clock.Advance(10 * time.Minute)
	}
	wantSamples(t, reg, map[string]float64{
		`rtkwatchd_entries_left_out_total{reason="future_day",signal="usage"}`:  1,
		`rtkwatchd_entries_left_out_total{reason="bad_minutes",signal="usage"}`: 1,
		`rtkwatchd_entries_left_out_total{reason="undecodable",signal="usage"}`: 1,
	})
	if logs := h.logs.find(t, "warn", map[string]string{"reason": "future_day", "id": "2026-03-03"}); len(logs) != 1 {
		t.Errorf("%d warnings of the future day, want 1", len(logs))
	}
}
