package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // silences name IANA zones; hosts without zoneinfo have them too

	"github.com/robfig/cron/v3"
)

// Silence is a recurring window in which the events of some watches are
// not delivered to some notifiers (they are still kept in the history).
// Each start of Schedule, read in Timezone, opens a window of Duration.
type Silence struct {
	// Name identifies the silence in `check`, logs and the history.
	Name string `yaml:"name"`
	// Watches are the watches silenced; empty means every watch.
	Watches []string `yaml:"watches"`
	// Notifiers are the notifiers silenced; empty means every notifier.
	Notifiers []string `yaml:"notifiers"`
	// Schedule is when each window starts: a cron spec as for watches,
	// without "@every" (a window needs fixed start times) and without a
	// TZ= prefix (Timezone says it).
	Schedule string `yaml:"schedule"`
	// Duration is how long each window lasts, in elapsed time.
	Duration time.Duration `yaml:"duration"`
	// Timezone is the IANA zone Schedule is read in; empty means UTC.
	Timezone string `yaml:"timezone"`
}

// Window returns the parsed schedule and zone of the silence.
func (s Silence) Window() (cron.Schedule, *time.Location, error) {
	if strings.HasPrefix(s.Schedule, "@every") {
		return nil, nil, errors.New("@every has no fixed start times; use a cron spec such as \"0 2 * * *\"")
	}
	if strings.HasPrefix(s.Schedule, "TZ=") || strings.HasPrefix(s.Schedule, "CRON_TZ=") {
		return nil, nil, errors.New("give the time zone as timezone, not in the schedule")
	}
	sched, err := ParseSchedule(s.Schedule)
	if err != nil {
		return nil, nil, err
	}
	loc := time.UTC
	if s.Timezone != "" {
		if loc, err = time.LoadLocation(s.Timezone); err != nil {
			return nil, nil, fmt.Errorf("timezone %q: %w", clip(s.Timezone), err)
		}
	}
	return sched, loc, nil
}

// silences checks the silences: names, the watches and notifiers they
// name, schedule, duration and time zone.
func (v *validator) silences(c *Config) {
	first := make(map[string]int)
	for i, s := range c.Silences {
		p := fmt.Sprintf("silences[%d]", i)
		v.name(p, s.Name, first, "silences", i)
		each(v, p+".watches", s.Watches, "watch", func(wp, name string) {
			for _, w := range c.Watches {
				if w.Name == name {
					return
				}
			}
			v.add(wp, "unknown watch %s", v.quote(wp, name))
		})
		each(v, p+".notifiers", s.Notifiers, "notifier", func(np, name string) {
			if _, ok := c.Notifier(name); !ok {
				v.add(np, "unknown notifier %s", v.quote(np, name))
			}
		})
		if s.Duration <= 0 {
			v.add(p+".duration", "must be > 0")
		}
		if _, _, err := (Silence{Schedule: s.Schedule}).Window(); err != nil {
			v.scheduleError(p+".schedule", s.Schedule, err)
		}
		if _, _, err := (Silence{Schedule: "0 0 * * *", Timezone: s.Timezone}).Window(); err != nil {
			if _, env := v.src.expandedFrom(p + ".timezone"); env {
				// LoadLocation's message repeats the name.
				v.add(p+".timezone", "%s is not a known time zone", v.quote(p+".timezone", s.Timezone))
			} else {
				v.add(p+".timezone", "%v", err)
			}
		}
	}
}
