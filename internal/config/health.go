package config

import (
	"time"

	"go.yaml.in/yaml/v4"
)

// Idle asks for session.idle: a live session whose live_participants stays
// at or below Participants for at least For. The zero Idle asks for none.
type Idle struct {
	// Participants is the bound, >= 0; 0 means "nobody in it".
	Participants int `yaml:"participants"`
	// For is how long the session must stay at or below the bound, in
	// whole seconds. An idle block that leaves it out is an error.
	For time.Duration `yaml:"for"`
}

// idleForMissing is Idle.For while an idle block is decoded: a block that
// leaves `for` out keeps it, and Validate names the missing key.
const idleForMissing = -1

// Enabled reports whether the watch asks for session.idle.
func (i Idle) Enabled() bool { return i.For > 0 }

// UnmarshalYAML decodes an idle block, remembering whether it set `for`.
func (i *Idle) UnmarshalYAML(n *yaml.Node) error {
	type plain Idle
	p := plain{For: idleForMissing}
	if err := n.Load(&p, yaml.WithKnownFields()); err != nil {
		return err
	}
	*i = Idle(p)
	return nil
}

// Usage is one app whose session minutes rtkwatchd reads from its daywise
// analytics (GET …/analytics/daywise) on its own schedule, for
// usage.threshold_crossed, and whose price per participant minute adds
// estimated_cost to those events and to session.ended of every watch of
// the app.
type Usage struct {
	// AppID is the RealtimeKit app; one usage block per app.
	AppID string `yaml:"app_id"`
	// Schedule is the cron spec of the reads; default DefaultUsageSchedule.
	Schedule string `yaml:"schedule"`
	// DailyMinutes and MonthlyMinutes are minute totals of the app in the
	// current UTC day and month, each > 0, each reported once per period.
	// Load and Validate sort them ascending.
	DailyMinutes   []float64 `yaml:"daily_minutes"`
	MonthlyMinutes []float64 `yaml:"monthly_minutes"`
	// PricePerParticipantMinute, in the user's currency (USD, say), adds
	// estimated_cost when > 0.
	PricePerParticipantMinute float64 `yaml:"price_per_participant_minute"`
	// Notify names the notifiers of the block's events. Empty means every
	// notifier.
	Notify []string `yaml:"notify"`
}

// Polled reports whether the block has thresholds, and so reads the
// app's analytics; a block with only a price reads nothing.
func (u Usage) Polled() bool { return len(u.DailyMinutes) > 0 || len(u.MonthlyMinutes) > 0 }

// NotifierNames returns the names of the notifiers that receive the
// block's events, as Watch.NotifierNames does.
func (u Usage) NotifierNames(all []Notifier) []string {
	return notifierNames(u.Notify, all)
}

// UnmarshalYAML decodes a usage block over its default schedule.
func (u *Usage) UnmarshalYAML(n *yaml.Node) error {
	type plain Usage
	p := plain{Schedule: DefaultUsageSchedule}
	if err := n.Load(&p, yaml.WithKnownFields()); err != nil {
		return err
	}
	*u = Usage(p)
	return nil
}

// UsageOf returns the usage block of an app.
func (c *Config) UsageOf(appID string) (Usage, bool) {
	for _, u := range c.Usage {
		if u.AppID == appID {
			return u, true
		}
	}
	return Usage{}, false
}

// Metrics configures optional series of /metrics.
type Metrics struct {
	// Meetings exports per-meeting gauges (live participants, minutes
	// consumed, whether a session is live), labelled by watch and meeting.
	Meetings bool `yaml:"meetings"`
	// MaxSeries caps the per-meeting series: each meeting takes three, and
	// a meeting that would pass the cap gets none. Default DefaultMaxSeries.
	MaxSeries int `yaml:"max_series"`
}

// SeriesPerMeeting is how many series one meeting's gauges take.
const SeriesPerMeeting = 3
