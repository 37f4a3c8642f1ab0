package poller

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// meetingSeries returns the per-meeting samples of reg.
func meetingSeries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	out := make(map[string]float64)
	for k, v := range gather(t, reg) {
		if strings.HasPrefix(k, "rtkwatchd_meeting_") {
			out[k] = v
		}
	}
	return out
}

func TestMeetingGauges(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	g := NewMeetingGauges(reg)
	g.SetLimit(true, 6) // two meetings' worth
	p := h.poller(func(o *Options) { o.Gauges = g })
	w := testWatch("m1", "m2", "m3")
	w.Recordings = true

	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 10.5})
	h.poll(p, w)
	want := map[string]float64{
		`rtkwatchd_meeting_live_participants{meeting="m1",watch="town-hall"}`: 3,
		`rtkwatchd_meeting_minutes_consumed{meeting="m1",watch="town-hall"}`:  10.5,
		`rtkwatchd_meeting_session_live{meeting="m1",watch="town-hall"}`:      1,
		`rtkwatchd_meeting_live_participants{meeting="m2",watch="town-hall"}`: 0,
		`rtkwatchd_meeting_minutes_consumed{meeting="m2",watch="town-hall"}`:  0,
		`rtkwatchd_meeting_session_live{meeting="m2",watch="town-hall"}`:      0,
		`rtkwatchd_meeting_series_dropped_total{}`:                            1, // m3
	}
	if d := cmp.Diff(want, meetingSeries(t, reg)); d != "" {
		t.Fatalf("after the first poll (-want +got):\n%s", d)
	}

	// A failed poll leaves the gauges as they were.
	h.clock.Advance(30 * time.Second)
	h.fake.UpdateSession(testApp, "m1", participants(40))
	h.fake.SetFault(testApp, "m1", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
	h.poll(p, w)
	want[`rtkwatchd_meeting_series_dropped_total{}`] = 2
	if d := cmp.Diff(want, meetingSeries(t, reg)); d != "" {
		t.Errorf("after a failed poll (-want +got):\n%s", d)
	}

	// m2 leaves the watch (a reload): its series go, which makes room for m3.
	w.Meetings = []string{"m1", "m3"}
	g.Retain(Keeps([]Watch{w}))
	h.clock.Advance(30 * time.Second)
	h.poll(p, w)
	for _, k := range slices.Collect(maps.Keys(want)) {
		if strings.Contains(k, `"m2"`) {
			delete(want, k)
		}
	}
	want[`rtkwatchd_meeting_live_participants{meeting="m1",watch="town-hall"}`] = 40
	want[`rtkwatchd_meeting_live_participants{meeting="m3",watch="town-hall"}`] = 0
	want[`rtkwatchd_meeting_minutes_consumed{meeting="m3",watch="town-hall"}`] = 0
	want[`rtkwatchd_meeting_session_live{meeting="m3",watch="town-hall"}`] = 0
	if d := cmp.Diff(want, meetingSeries(t, reg)); d != "" {
		t.Errorf("after m2 left (-want +got):\n%s", d)
	}

	// The session ends.
	h.clock.Advance(30 * time.Second)
	h.fake.EndSession(testApp, "m1")
	h.poll(p, w)
	want[`rtkwatchd_meeting_live_participants{meeting="m1",watch="town-hall"}`] = 0
	want[`rtkwatchd_meeting_minutes_consumed{meeting="m1",watch="town-hall"}`] = 0
	want[`rtkwatchd_meeting_session_live{meeting="m1",watch="town-hall"}`] = 0
	if d := cmp.Diff(want, meetingSeries(t, reg)); d != "" {
		t.Errorf("after the end (-want +got):\n%s", d)
	}

	// Turned off by a reload: every series goes, and none comes back.
	g.SetLimit(false, 6)
	h.clock.Advance(30 * time.Second)
	h.poll(p, w)
	if d := cmp.Diff(map[string]float64{`rtkwatchd_meeting_series_dropped_total{}`: 2}, meetingSeries(t, reg)); d != "" {
		t.Errorf("turned off (-want +got):\n%s", d)
	}
}

// TestMeetingGaugesForgotten checks that an all_live watch's forgotten
// meeting loses its series, and that the watch's own records never get
// any.
func TestMeetingGaugesForgotten(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	g := NewMeetingGauges(reg)
	g.SetLimit(true, 5000)
	p := h.poller(func(o *Options) { o.Gauges = g })
	w := allLiveWatch()
	w.Recordings = true
	h.poll(p, w)
	h.clock.Advance(30 * time.Second)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 2})
	h.poll(p, w)
	h.clock.Advance(30 * time.Second)
	h.fake.EndSession(testApp, "m1")
	h.poll(p, w)
	const dropped = `rtkwatchd_meeting_series_dropped_total{}`
	if got := meetingSeries(t, reg); len(got) != 4 || got[dropped] != 0 || got[`rtkwatchd_meeting_session_live{meeting="m1",watch="everything"}`] != 0 {
		t.Fatalf("series %v, want m1's three only", got)
	}
	h.clock.Advance(ForgetIdleAfter + time.Minute)
	h.poll(p, w)
	if got := meetingSeries(t, reg); len(got) != 1 {
		t.Errorf("series %v after m1 was forgotten, want none but the counter", got)
	}
}
