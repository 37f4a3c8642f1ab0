package poller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// healthConfig has a watch with every health rule, and a usage block of
// its app with a price.
const healthConfig = `
api:
  account_id: acc0123456789abcdef0123456789abcd
  token: not-a-real-token
notifiers:
  - name: ops
    type: webhook
    url: https://hooks.example.com/rtk
    secret: whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
  - name: money
    type: slack
    url: https://hooks.slack.com/services/T0/B0/x
    events: [usage.threshold_crossed, session.ended]
watches:
  - name: town-hall
    app_id: app-1
    meetings: [m1]
    thresholds: {duration: [1h], participants: [50]}
    idle: {participants: 0, for: 15m}
    recordings: true
    failing_after: 2
    notify: [ops]
  - name: other-app
    app_id: app-2
    all_live: true
    livestreams: true
usage:
  - app_id: app-1
    daily_minutes: [1000]
    price_per_participant_minute: 0.002
    notify: [money]
  - app_id: app-2
    price_per_participant_minute: 0.001
`

func loadHealthConfig(t *testing.T) *config.Config {
	t.Helper()
	return loadTestConfig(t, healthConfig)
}

// TestWatchesHealth checks that the health keys reach the rules: duration,
// idle, the price of the app's usage block, the lists, and one job per
// usage block that reads something, routed by the block's notify list.
func TestWatchesHealth(t *testing.T) {
	ws := Watches(loadHealthConfig(t))
	if len(ws) != 3 {
		t.Fatalf("got %d watches, want the two and the one usage block with thresholds", len(ws))
	}
	th := ws[0]
	wantRules := diff.Rules{
		ParticipantThresholds: []int{50}, FailingAfter: 2, RecoverAfter: config.DefaultRecoverAfter,
		DurationThresholds:        []time.Duration{time.Hour},
		Idle:                      diff.IdleRule{Participants: 0, For: 15 * time.Minute},
		PricePerParticipantMinute: 0.002,
	}
	if d := cmp.Diff(wantRules, th.Rules); d != "" {
		t.Errorf("town-hall rules (-want +got):\n%s", d)
	}
	if !th.Recordings || th.Livestreams || th.Usage != nil {
		t.Errorf("town-hall reads recordings %v, livestreams %v, usage %v", th.Recordings, th.Livestreams, th.Usage)
	}
	if got := th.Routes[diff.TypeRecordingErrored]; !cmp.Equal(got, []string{"ops"}) {
		t.Errorf("recording.errored goes to %q, want ops", got)
	}
	if o := ws[1]; o.Rules.PricePerParticipantMinute != 0.001 || !o.Livestreams || o.Recordings {
		t.Errorf("other-app: %+v", o)
	}
	u := ws[2]
	want := Watch{
		Name: "usage:app-1", AppID: "app-1", Schedule: config.DefaultUsageSchedule,
		Usage:  &diff.UsageRules{DailyMinutes: []float64{1000}, PricePerParticipantMinute: 0.002, FailingAfter: config.DefaultFailingAfter, RecoverAfter: config.DefaultRecoverAfter},
		Routes: map[string][]string{diff.TypeUsageThreshold: {"money"}},
	}
	if d := cmp.Diff(want, u); d != "" {
		t.Errorf("usage job (-want +got):\n%s", d)
	}
}

// TestSessionHealthScenario plays the session rules that the config feeds
// (duration, idle, the price on session.ended) against the fake, with a
// restart in the middle that repeats nothing.
func TestSessionHealthScenario(t *testing.T) {
	h := newHarness(t)
	w := Watches(loadHealthConfig(t))[0]
	w.Recordings = false
	w.AppID = testApp
	p := h.poller(nil)
	type step struct {
		name    string
		advance time.Duration
		before  func(f *rtkfake.Server)
		want    []string
	}
	quiet := func(f *rtkfake.Server) {
		f.UpdateSession(testApp, "m1", func(s *rtkfake.Session) { s.LiveParticipants, s.MinutesConsumed = 0, 120 })
	}
	steps := []step{
		{name: "baseline"},
		{name: "a session starts", before: func(f *rtkfake.Server) {
			f.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 1})
		}, want: []string{"session.started"}},
		{name: "everyone leaves: the idle stretch starts", advance: 30 * time.Minute, before: quiet},
		{name: "15 minutes less a second", advance: 15*time.Minute - time.Second},
		{name: "15 minutes", advance: time.Second, want: []string{"session.idle idle_seconds=900"}},
		{name: "restart", advance: time.Minute, before: func(*rtkfake.Server) { p = h.poller(nil) }},
		{name: "an hour less a second", advance: 14*time.Minute - time.Second},
		{name: "an hour", advance: time.Second, want: []string{"session.duration_crossed threshold_seconds=3600 duration_seconds=3600"}},
		{name: "the session ends", advance: time.Minute, before: func(f *rtkfake.Server) { f.EndSession(testApp, "m1") },
			want: []string{"session.ended estimated_cost=0.24"}},
	}
	for _, st := range steps {
		h.clock.Advance(st.advance)
		if st.before != nil {
			st.before(h.fake)
		}
		var got []string
		for _, ev := range h.poll(p, w).Events {
			s := ev.Type
			d := ev.Data
			switch ev.Type {
			case diff.TypeSessionIdle:
				s += " idle_seconds=" + fmtNum(float64(*d.IdleSeconds))
			case diff.TypeDurationCrossed:
				s += " threshold_seconds=" + fmtNum(float64(*d.ThresholdSeconds)) + " duration_seconds=" + fmtNum(float64(*d.DurationSeconds))
			case diff.TypeSessionEnded:
				s += " estimated_cost=" + fmtNum(*d.EstimatedCost)
			}
			got = append(got, s)
		}
		if d := cmp.Diff(st.want, got); d != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, d)
		}
	}
}
