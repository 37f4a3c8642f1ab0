package poller

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// routesConfig has three notifiers, one taking every event and two with
// events filters, and two watches: one notifying all of them (no notify
// list), one a subset.
const routesConfig = `
api:
  account_id: acc0123456789abcdef0123456789abcd
  token: not-a-real-token
notifiers:
  - name: ops
    type: webhook
    url: https://hooks.example.com/rtk
    secret: whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
  - name: slack
    type: slack
    url: https://hooks.slack.com/services/T0/B0/x
    events: [session.started, session.ended, watch.failing]
  - name: audit
    type: webhook
    url: https://audit.example.com/in
    secret: whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
    events: [watch.failing, watch.recovered]
watches:
  - name: all
    app_id: app-1
    meetings: [m1]
    schedule: "*/10 * * * * *"
    thresholds: {participants: [10, 5], hysteresis: 1, minutes_consumed: [60]}
    failing_after: 2
  - name: subset
    app_id: app-1
    meetings: [m1, m2]
    all_live: true
    notify: [audit, slack]
`

func loadRoutesConfig(t *testing.T) *config.Config {
	t.Helper()
	return loadTestConfig(t, routesConfig)
}

// loadTestConfig loads a config document, which needs no environment.
func loadTestConfig(t *testing.T, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Load(strings.NewReader(doc), config.LoadOptions{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

func TestWatches(t *testing.T) {
	got := Watches(loadRoutesConfig(t))
	want := []Watch{
		{
			Name:     "all",
			AppID:    testApp,
			Meetings: []string{"m1"},
			Schedule: "*/10 * * * * *",
			Rules: diff.Rules{
				ParticipantThresholds: []int{5, 10},
				Hysteresis:            1,
				MinutesThresholds:     []float64{60},
				FailingAfter:          2,
				RecoverAfter:          1,
			},
			Routes: map[string][]string{
				diff.TypeSessionStarted:        {"ops", "slack"},
				diff.TypeSessionEnded:          {"ops", "slack"},
				diff.TypeParticipantsThreshold: {"ops"},
				diff.TypeMinutesThreshold:      {"ops"},
				diff.TypeWatchFailing:          {"ops", "slack", "audit"},
				diff.TypeWatchRecovered:        {"ops", "audit"},
				diff.TypeDurationCrossed:       {"ops"},
				diff.TypeSessionIdle:           {"ops"},
				diff.TypeRecordingStarted:      {"ops"},
				diff.TypeRecordingUploaded:     {"ops"},
				diff.TypeRecordingErrored:      {"ops"},
				diff.TypeLivestreamStarted:     {"ops"},
				diff.TypeLivestreamStopped:     {"ops"},
				diff.TypeLivestreamErrored:     {"ops"},
				diff.TypeUsageThreshold:        {"ops"},
			},
		},
		{
			Name:     "subset",
			AppID:    testApp,
			Meetings: []string{"m1", "m2"},
			AllLive:  true,
			Schedule: config.DefaultSchedule,
			Rules:    diff.Rules{FailingAfter: config.DefaultFailingAfter, RecoverAfter: config.DefaultRecoverAfter},
			Routes: map[string][]string{
				diff.TypeSessionStarted: {"slack"},
				diff.TypeSessionEnded:   {"slack"},
				diff.TypeWatchFailing:   {"audit", "slack"},
				diff.TypeWatchRecovered: {"audit"},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Watches (-want +got):\n%s", diff)
	}
}

func TestWatchesFlapping(t *testing.T) {
	cfg, err := config.Load(strings.NewReader(`
api: {account_id: acc0123456789abcdef0123456789abcd, token: not-a-real-token}
watches:
  - {name: flappy, app_id: app-1, meetings: [m1], failing_ratio: 0.5, recover_after: 3, remind_every: 1h}
`), config.LoadOptions{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	want := diff.Rules{FailingAfter: config.DefaultFailingAfter, FailingRatio: 0.5, RecoverAfter: 3, RemindEvery: time.Hour}
	if diff := cmp.Diff(want, Watches(cfg)[0].Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

func TestWatchesNoNotifiers(t *testing.T) {
	cfg := &config.Config{Watches: []config.Watch{{Name: "quiet", AppID: "a", Meetings: []string{"m"}}}}
	ws := Watches(cfg)
	if len(ws) != 1 || len(ws[0].Routes) != 0 {
		t.Fatalf("Watches = %+v; want one watch without routes", ws)
	}
}

// TestRoutesReachOutbox polls the configured watches through a session's
// life and checks which notifiers each committed event was queued for.
func TestRoutesReachOutbox(t *testing.T) {
	h := newHarness(t)
	ws := Watches(loadRoutesConfig(t))
	p := h.poller(nil)
	cycle := func(before func()) {
		t.Helper()
		h.clock.Advance(10 * time.Second)
		if before != nil {
			before()
		}
		for _, w := range ws {
			h.poll(p, w)
		}
	}
	cycle(nil) // baselines
	cycle(func() { h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 6, MinutesConsumed: 61}) })
	cycle(func() { h.fake.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.Forbidden, Times: 2}) })
	cycle(func() { h.fake.EndSession(testApp, "m1") })

	want := []string{
		// watch "all": every notifier it names, as far as each wants the type
		"audit watch.failing m1",
		"audit watch.recovered m1",
		"ops minutes.threshold_crossed m1",
		"ops participants.threshold_crossed m1",
		"ops session.ended m1",
		"ops session.started m1",
		"ops watch.failing m1",
		"ops watch.recovered m1",
		"slack session.ended m1",
		"slack session.started m1",
		"slack watch.failing m1",
		// watch "subset" (all_live: its list fails as a whole): never ops
		"audit watch.failing *",
		"audit watch.recovered *",
		"slack session.ended m1",
		"slack session.started m1",
		"slack watch.failing *",
	}
	got := h.outbox()
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), got); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}
