package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestValidateHealthEdges checks each rule of the health and usage keys at
// its exact edge, both ways.
func TestValidateHealthEdges(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" for valid
	}{
		{"duration 1s", func(c *Config) { c.Watches[0].Thresholds.Duration = []time.Duration{time.Second} }, ""},
		{"duration 0s", func(c *Config) { c.Watches[0].Thresholds.Duration = []time.Duration{0} },
			"watches[0].thresholds.duration[0]: must be > 0"},
		{"duration 1s+1ns", func(c *Config) { c.Watches[0].Thresholds.Duration = []time.Duration{time.Second + 1} },
			"watches[0].thresholds.duration[0]: must be whole seconds, got 1.000000001s"},
		{"idle for 1s", func(c *Config) { c.Watches[0].Idle = Idle{For: time.Second} }, ""},
		{"idle for 999ms", func(c *Config) { c.Watches[0].Idle = Idle{For: 999 * time.Millisecond} },
			"watches[0].idle.for: must be whole seconds, got 999ms"},
		{"idle participants 0", func(c *Config) { c.Watches[0].Idle = Idle{Participants: 0, For: time.Minute} }, ""},
		{"idle participants -1", func(c *Config) { c.Watches[0].Idle = Idle{Participants: -1, For: time.Minute} },
			"watches[0].idle.participants: must be >= 0"},
		{"idle off", func(c *Config) { c.Watches[0].Idle = Idle{} }, ""},
		{"idle for 0s with participants", func(c *Config) { c.Watches[0].Idle = Idle{Participants: 1} },
			"watches[0].idle.for: must be > 0 (0s, with participants 0, turns idle off)"},
		{"max_series 3", func(c *Config) { c.Metrics = Metrics{Meetings: true, MaxSeries: 3} }, ""},
		{"max_series 2", func(c *Config) { c.Metrics = Metrics{Meetings: true, MaxSeries: 2} },
			"metrics.max_series: must be >= 3 (the gauges of one meeting)"},
		{"max_series 0 without meetings", func(c *Config) { c.Metrics = Metrics{MaxSeries: 0} }, ""},
		{"usage price only", func(c *Config) {
			c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m", PricePerParticipantMinute: 1e-9}}
		}, ""},
		{"usage price 0 and a threshold", func(c *Config) {
			c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m", MonthlyMinutes: []float64{1e-9}}}
		}, ""},
		{"usage nothing", func(c *Config) { c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m"}} },
			"usage[0]: set daily_minutes, monthly_minutes or price_per_participant_minute"},
		{"usage threshold 0", func(c *Config) {
			c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m", DailyMinutes: []float64{0}}}
		},
			"usage[0].daily_minutes[0]: must be a finite number > 0"},
		{"usage price below 0", func(c *Config) {
			c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m", DailyMinutes: []float64{1}, PricePerParticipantMinute: -1e-9}}
		}, "usage[0].price_per_participant_minute: must be a finite number >= 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mod(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestValidateSortsHealthThresholds checks that Validate sorts duration and
// usage thresholds ascending.
func TestValidateSortsHealthThresholds(t *testing.T) {
	c := validConfig()
	c.Watches[0].Thresholds.Duration = []time.Duration{8 * time.Hour, 2 * time.Hour}
	c.Usage = []Usage{{AppID: "app-1", Schedule: "@every 1m", DailyMinutes: []float64{9, 3}, MonthlyMinutes: []float64{90, 30}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Hour, 8 * time.Hour}, c.Watches[0].Thresholds.Duration); diff != "" {
		t.Errorf("duration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{3, 9}, c.Usage[0].DailyMinutes); diff != "" {
		t.Errorf("daily_minutes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{30, 90}, c.Usage[0].MonthlyMinutes); diff != "" {
		t.Errorf("monthly_minutes (-want +got):\n%s", diff)
	}
}

// TestLoadHealthDefaults checks the defaults of the new keys: a usage
// block's schedule, metrics.max_series, and no idle rule without a block.
func TestLoadHealthDefaults(t *testing.T) {
	doc := "api: {account_id: abc, token: t}\nwatches: [{name: w, app_id: a, all_live: true}]\n" +
		"usage: [{app_id: a, daily_minutes: [10]}]\nmetrics: {meetings: true}\n"
	cfg, err := Load(strings.NewReader(doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Usage[0].Schedule; got != DefaultUsageSchedule {
		t.Errorf("usage[0].schedule = %q, want %q", got, DefaultUsageSchedule)
	}
	if got := cfg.Metrics; got != (Metrics{Meetings: true, MaxSeries: DefaultMaxSeries}) {
		t.Errorf("metrics = %+v, want meetings with the default max_series", got)
	}
	if w := cfg.Watches[0]; w.Idle.Enabled() || w.Recordings || w.Livestreams {
		t.Errorf("watch %+v asks for idle, recordings or livestreams without saying so", w)
	}
	if u, ok := cfg.UsageOf("a"); !ok || !u.Polled() {
		t.Errorf("UsageOf(a) = %+v, %v; want the block, polled", u, ok)
	}
	if _, ok := cfg.UsageOf("b"); ok {
		t.Error("UsageOf(b) found a block")
	}
}
