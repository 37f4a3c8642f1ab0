package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a robfig/cron schedule: five fields (minute, hour,
// day of month, month, day of week), six with a leading seconds field, or a
// descriptor such as "@hourly" or "@every 30s". An "@every" interval must
// be at least one second.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// cron's parser panics on a time zone that no spec follows.
		if !strings.Contains(spec, " ") {
			return nil, errors.New("time zone without a schedule")
		}
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err == nil && d < time.Second {
			return nil, errors.New("@every interval must be at least 1s")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid schedule: %v", r)
		}
	}()
	p := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
		cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	return p.Parse(spec)
}

// ParsedSchedule parses the watch's Schedule with ParseSchedule.
func (w Watch) ParsedSchedule() (cron.Schedule, error) {
	return ParseSchedule(w.Schedule)
}
