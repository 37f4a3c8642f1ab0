// Package silence decides which notifiers an event is held from: the
// recurring windows of the config and the ad hoc silences of the store.
//
// [Silenced] is the whole rule, a pure function of (time, silences, event).
// The poller asks it as it commits a cycle, and the delivery worker as it
// queues notifier.failing or notifier.recovered (of no watch: [NoWatch]),
// both through [Live], which reads the ad hoc silences of the store then:
// the silenced notifiers get no delivery, and the history records the
// event with them. A silence added or ended later does not change what was
// committed: an event held back is not delivered when the silence ends
// (replay it), and one queued before a silence began is still delivered.
package silence

import (
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// Window is a recurring silence: each start of Schedule, read in Location,
// opens a window of Duration (elapsed time) in which the events of Watches
// are held from Notifiers.
//
// Start times follow robfig/cron, as the watches' schedules do, in
// Location's wall clock. On the day the clocks go forward, a start that
// falls in the skipped hour (02:30 in Europe/Berlin) does not happen: no
// window that day. On the day they go back, a start in the repeated hour
// happens at both of its instants (02:30 CEST and 02:30 CET), so a window
// of an hour or more lasts an hour longer.
type Window struct {
	Name      string
	Watches   []string // empty: every watch
	Notifiers []string // empty: every notifier
	Schedule  cron.Schedule
	Duration  time.Duration
	Location  *time.Location
}

// AdHoc is a silence added by hand: from Start (inclusive) to End
// (exclusive), the events of Watch are held from Notifier (from every
// notifier when it is empty).
type AdHoc struct {
	ID       uint64
	Watch    string
	Notifier string
	Start    time.Time
	End      time.Time
}

// Set is every silence in force.
type Set struct {
	Windows []Window
	AdHoc   []AdHoc
}

// Active reports whether a window of w covers t: whether w started at some
// s with s <= t < s + Duration. Start is inclusive, end exclusive.
func (w Window) Active(t time.Time) bool {
	// cron's Next is the first start strictly after its argument, so the
	// first start after t - Duration is the one to look at.
	s := w.Schedule.Next(t.Add(-w.Duration).In(w.Location))
	return !s.IsZero() && !s.After(t)
}

// Next returns the first window of w that starts after t, in Location.
func (w Window) Next(t time.Time) (start, end time.Time) {
	start = w.Schedule.Next(t.In(w.Location))
	if start.IsZero() {
		return start, start
	}
	return start, start.Add(w.Duration)
}

// NoWatch is the watch of an event that belongs to none: the delivery
// worker's notifier.failing and notifier.recovered. Only a window that
// names no watches (it covers every watch) holds such an event, from the
// notifiers it names (from every notifier when it names none); a window
// that names watches does not, and an ad hoc silence, which always names
// a watch, never does.
const NoWatch = ""

// covers reports whether the silence applies to watch and notifier.
func (w Window) covers(watch, notifier string) bool {
	return (len(w.Watches) == 0 || watch != NoWatch && slices.Contains(w.Watches, watch)) &&
		(len(w.Notifiers) == 0 || slices.Contains(w.Notifiers, notifier))
}

// Active reports whether a covers t: Start <= t < End.
func (a AdHoc) Active(t time.Time) bool {
	return !t.Before(a.Start) && t.Before(a.End)
}

// Silenced returns the notifiers of notifiers, in their order, that a
// silence of set active at t holds an event of watch (NoWatch for an event
// of no watch) from. It is nil when none is.
func Silenced(t time.Time, set Set, watch string, notifiers []string) []string {
	var out []string
	for _, n := range notifiers {
		if held(t, set, watch, n) {
			out = append(out, n)
		}
	}
	return out
}

// held reports whether a silence of set active at t covers watch and
// notifier.
func held(t time.Time, set Set, watch, notifier string) bool {
	for _, a := range set.AdHoc {
		if watch != NoWatch && a.Watch == watch && (a.Notifier == "" || a.Notifier == notifier) && a.Active(t) {
			return true
		}
	}
	for _, w := range set.Windows {
		if w.covers(watch, notifier) && w.Active(t) {
			return true
		}
	}
	return false
}

// Windows returns the windows of the config's silences, which Validate
// has checked.
func Windows(cfg *config.Config) ([]Window, error) {
	out := make([]Window, 0, len(cfg.Silences))
	for i, s := range cfg.Silences {
		sched, loc, err := s.Window()
		if err != nil {
			return nil, fmt.Errorf("silences[%d] (%s): %w", i, s.Name, err)
		}
		out = append(out, Window{Name: s.Name, Watches: s.Watches, Notifiers: s.Notifiers,
			Schedule: sched, Duration: s.Duration, Location: loc})
	}
	return out, nil
}
