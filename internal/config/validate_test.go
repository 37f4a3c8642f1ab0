package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// validConfig returns a valid Config built in code.
func validConfig() Config {
	c := Default()
	c.API.AccountID = "023e105f4ecef8ad9ca31a8372d0c353"
	c.API.Token = NewSecret(testToken)
	c.Notifiers = []Notifier{
		{Name: "ops", Type: TypeWebhook, URL: NewSecret("https://hooks.example.com/rtk"), Secrets: []Secret{NewSecret(testWebhookSecret)}},
		{Name: "chat", Type: TypeSlack, URL: NewSecret(testSlackURL)},
	}
	c.Watches = []Watch{{
		Name: "town-hall", AppID: "app-1", Meetings: []string{"meeting-1"},
		Schedule: DefaultSchedule, FailingAfter: DefaultFailingAfter, RecoverAfter: DefaultRecoverAfter,
	}}
	return c
}

func TestValidateValid(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v (%T), want nil", err, err)
	}
}

func TestValidateSortsThresholds(t *testing.T) {
	c := validConfig()
	c.Watches[0].Thresholds = Thresholds{Participants: []int{100, 5, 50}, Hysteresis: 4, MinutesConsumed: []float64{10, 1.5}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Thresholds{Participants: []int{5, 50, 100}, Hysteresis: 4, MinutesConsumed: []float64{1.5, 10}}
	if diff := cmp.Diff(want, c.Watches[0].Thresholds); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
}

// TestValidateCollectsEverything checks that Validate reports every
// problem of a Config built in code, each with its path and no line.
func TestValidateCollectsEverything(t *testing.T) {
	c := validConfig()
	c.API.BaseURL = "/client/v4"
	c.API.Timeout = 0
	c.Admin.Listen = "127.0.0.1:http"
	c.Notifiers[0].Headers = map[string]Secret{"Content-Type": NewSecret("text/plain"), "X-Ok": NewSecret("fine")}
	c.Notifiers[1].Events = []string{"session.ended", "nope"}
	c.Delivery.MaxAge = -time.Second
	c.Delivery.DeadLetterRetention = 0
	c.Watches = append(c.Watches, Watch{
		Name: "lobby", AppID: "app-1", AllLive: true, Schedule: "@every 1m", FailingAfter: 1, RecoverAfter: 1,
		Thresholds: Thresholds{Participants: []int{10, 0}, Hysteresis: 50, MinutesConsumed: []float64{-1}},
		Notify:     []string{"chat", "pager"},
	})
	err := c.Validate()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate() = %v (%T), want Errors", err, err)
	}
	var got []string
	for _, e := range errs {
		if e.Line != 0 {
			t.Errorf("%v: line %d, want none for a Config built in code", e, e.Line)
		}
		got = append(got, e.Error())
	}
	want := []string{
		"api.base_url: must be an absolute http:// or https:// URL",
		"api.timeout: must be > 0",
		"admin.listen: port must be a number from 0 to 65535, got \"http\"",
		"notifiers[0].headers.Content-Type: set by rtkwatchd; it cannot be overridden",
		"notifiers[1].events[1]: unknown event type \"nope\"; known: session.started, session.ended, participants.threshold_crossed, minutes.threshold_crossed, watch.failing, watch.recovered, " +
			"session.duration_crossed, session.idle, recording.started, recording.uploaded, recording.errored, " +
			"livestream.started, livestream.stopped, livestream.errored, usage.threshold_crossed, notifier.failing, notifier.recovered",
		"delivery.max_age: must be > 0",
		"delivery.dead_letter_retention: must be > 0",
		"watches[1].thresholds.participants[1]: must be > 0",
		"watches[1].thresholds.minutes_consumed[0]: must be a finite number > 0",
		"watches[1].notify[1]: unknown notifier \"pager\"",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), strings.Join(want, "\n"); got != want {
		t.Errorf("Error() = %q, want one problem per line", got)
	}
}

// TestValidateHysteresis checks hysteresis against the smallest threshold
// whatever order the thresholds are given in.
func TestValidateHysteresis(t *testing.T) {
	tests := []struct {
		participants []int
		hysteresis   int
		want         string
	}{
		{[]int{10, 5}, 4, ""},
		{[]int{10, 5}, 5, "watches[0].thresholds.hysteresis: must be smaller than the smallest participants threshold (5)"},
		{nil, 7, ""},
		{[]int{3}, -1, "watches[0].thresholds.hysteresis: must be >= 0"},
	}
	for _, tt := range tests {
		c := validConfig()
		c.Watches[0].Thresholds = Thresholds{Participants: tt.participants, Hysteresis: tt.hysteresis}
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("participants %v hysteresis %d: Validate() = %q, want %q", tt.participants, tt.hysteresis, got, tt.want)
		}
	}
}
