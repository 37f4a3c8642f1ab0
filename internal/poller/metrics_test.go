package poller

import (
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// gather returns every sample of reg as `name{label="value",…}` → value;
// a histogram contributes its sample count as name_count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			suffix := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+suffix] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()+suffix] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	budget := NewBudget(1000, nil)
	m := NewMetrics(reg, budget)
	p := h.poller(func(o *Options) { o.Observer, o.Budget = m, budget })
	w := testWatch("m1", "m2", "m3")
	all := allLiveWatch()

	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 1})
	h.fake.SetFault(testApp, "m3", rtkfake.Fault{Kind: rtkfake.ServerError})
	for i := range 3 {
		h.clock.Advance(30 * time.Second)
		if i == 1 {
			h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 6})
		}
		h.poll(p, w)
		h.poll(p, all)
	}
	lastGood := h.clock.Now()

	got := gather(t, reg)
	avail := `rtkwatchd_api_budget_available_requests{}`
	if v, ok := got[avail]; !ok || v < 0 || v > 100 {
		t.Errorf("%s = %v (present %v); want between 0 and the burst of 100", avail, v, ok)
	}
	delete(got, avail)
	want := map[string]float64{
		`rtkwatchd_polls_total{outcome="session",watch="town-hall"}`:                       5, // m1 three times, m2 twice
		`rtkwatchd_polls_total{outcome="no_session",watch="town-hall"}`:                    1, // m2's baseline
		`rtkwatchd_polls_total{outcome="server",watch="town-hall"}`:                        3, // m3
		`rtkwatchd_polls_total{outcome="list",watch="everything"}`:                         3, // the list, read whole
		`rtkwatchd_poll_duration_seconds_count{watch="town-hall"}`:                         9,
		`rtkwatchd_poll_duration_seconds_count{watch="everything"}`:                        3,
		`rtkwatchd_events_total{type="session.started",watch="town-hall"}`:                 1,
		`rtkwatchd_events_total{type="participants.threshold_crossed",watch="town-hall"}`:  1,
		`rtkwatchd_events_total{type="watch.failing",watch="town-hall"}`:                   1,
		`rtkwatchd_events_total{type="session.started",watch="everything"}`:                1,
		`rtkwatchd_events_total{type="participants.threshold_crossed",watch="everything"}`: 1,
		`rtkwatchd_last_good_poll_timestamp_seconds{watch="town-hall"}`:                    unixSeconds(lastGood),
		`rtkwatchd_last_good_poll_timestamp_seconds{watch="everything"}`:                   unixSeconds(lastGood),
		`rtkwatchd_api_paused_until_timestamp_seconds{}`:                                   0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	// A failed poll moves no last-good time; a 429 shows as the pause.
	h.clock.Advance(30 * time.Second)
	h.fake.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 60, Times: 1})
	h.poll(p, all)
	got = gather(t, reg)
	if v := got[`rtkwatchd_last_good_poll_timestamp_seconds{watch="everything"}`]; v != unixSeconds(lastGood) {
		t.Errorf("last good poll = %v after a failure; want %v", v, unixSeconds(lastGood))
	}
	if v := got[`rtkwatchd_polls_total{outcome="rate_limited",watch="everything"}`]; v != 1 {
		t.Errorf("rate_limited polls = %v; want 1", v)
	}
	paused := got[`rtkwatchd_api_paused_until_timestamp_seconds{}`]
	if want := unixSeconds(budget.PausedUntil()); paused == 0 || math.Abs(paused-want) > 1e-3 {
		t.Errorf("paused until %v; want %v", paused, want)
	}
}

func TestMetricsWithoutBudget(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg, nil)
	for name := range gather(t, reg) {
		if strings.HasPrefix(name, "rtkwatchd_api_") {
			t.Errorf("budget metric %s registered without a budget", name)
		}
	}
}

func TestMetricsForget(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	at := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	for _, w := range []string{"kept", "removed"} {
		m.Polled(w, diff.Observation{Kind: diff.ObservedNoSession, At: at}, false, time.Millisecond)
		m.Emitted(w, diff.Event{Type: diff.TypeSessionStarted})
		m.UnknownMeetings(w, 2)
	}
	m.Forget("removed")
	for name := range gather(t, reg) {
		if strings.Contains(name, `watch="removed"`) {
			t.Errorf("series %s survived Forget", name)
		}
	}
	if got := gather(t, reg)[`rtkwatchd_polls_total{outcome="no_session",watch="kept"}`]; got != 1 {
		t.Errorf("kept watch's polls = %v, want 1", got)
	}
	if got := gather(t, reg)[`rtkwatchd_unknown_meetings{watch="kept"}`]; got != 2 {
		t.Errorf("kept watch's unknown meetings = %v, want 2", got)
	}
	// A watch that comes back (a reload that adds it again) starts over,
	// in series that are exported.
	m.Polled("removed", diff.Observation{Kind: diff.ObservedNoSession, At: at}, false, time.Millisecond)
	got := gather(t, reg)
	if n := got[`rtkwatchd_polls_total{outcome="no_session",watch="removed"}`]; n != 1 {
		t.Errorf("a watch polled again after Forget: polls = %v, want 1", n)
	}
	if _, ok := got[`rtkwatchd_last_good_poll_timestamp_seconds{watch="removed"}`]; !ok {
		t.Error("a watch polled again after Forget has no last-good-poll series")
	}
}
