package config

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// durations checks a watch's duration thresholds (whole seconds, > 0, no
// repeats) and sorts them ascending.
func (v *validator) durations(p string, ds []time.Duration) {
	each(v, p, ds, "threshold", func(dp string, d time.Duration) {
		switch {
		case d <= 0:
			v.add(dp, "must be > 0")
		case d%time.Second != 0:
			v.add(dp, "must be whole seconds, got %s", v.quote(dp, d))
		}
	})
	slices.Sort(ds)
}

// idle checks a watch's idle block. The zero block (none, or one with
// participants 0 and for 0s) asks for nothing.
func (v *validator) idle(p string, i Idle) {
	if i == (Idle{}) {
		return
	}
	if i.Participants < 0 {
		v.add(p+".participants", "must be >= 0")
	}
	switch {
	case i.For == idleForMissing:
		v.add(p+".for", "required: how long live_participants must stay at or below participants, such as 15m")
	case i.For < 0 || i.For == 0 && i.Participants != 0:
		v.add(p+".for", "must be > 0 (0s, with participants 0, turns idle off)")
	case i.For%time.Second != 0:
		v.add(p+".for", "must be whole seconds, got %s", v.quote(p+".for", i.For))
	}
}

// usage checks the usage blocks: one per app, each with something to do.
func (v *validator) usage(c *Config) {
	first := make(map[string]int)
	for i := range c.Usage {
		u := &c.Usage[i]
		p := fmt.Sprintf("usage[%d]", i)
		switch {
		case u.AppID == "":
			v.add(p+".app_id", "required")
		case !idPattern.MatchString(u.AppID):
			v.add(p+".app_id", "must contain only letters, digits, - and _")
		default:
			if k, dup := first[u.AppID]; dup {
				v.add(p+".app_id", "duplicate app %s (also usage[%d]); put its thresholds in one block", v.quote(p+".app_id", u.AppID), k)
			} else {
				first[u.AppID] = i
			}
		}
		if _, err := ParseSchedule(u.Schedule); err != nil {
			v.scheduleError(p+".schedule", u.Schedule, err)
		}
		v.minutes(p+".daily_minutes", u.DailyMinutes)
		v.minutes(p+".monthly_minutes", u.MonthlyMinutes)
		switch price := u.PricePerParticipantMinute; {
		case !(price >= 0) || math.IsInf(price, 0):
			v.add(p+".price_per_participant_minute", "must be a finite number >= 0")
		case price == 0 && !u.Polled():
			v.add(p, "set daily_minutes, monthly_minutes or price_per_participant_minute")
		}
		each(v, p+".notify", u.Notify, "notifier", func(np, name string) {
			if _, ok := c.Notifier(name); !ok {
				v.add(np, "unknown notifier %s", v.quote(np, name))
			}
		})
	}
}

// metrics checks the metrics block; max_series only matters with meetings.
func (v *validator) metrics(m *Metrics) {
	if m.Meetings && m.MaxSeries < SeriesPerMeeting {
		v.add("metrics.max_series", "must be >= %d (the gauges of one meeting)", SeriesPerMeeting)
	}
}
