package poller

import (
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"
)

// maxSpread bounds a watch's offset within its schedule: watches that share
// a schedule spread over its interval, but over one minute at most, so that
// "0 9 * * *" still polls at nine.
const maxSpread = time.Minute

// spreadOffset is watch's offset within an interval: a hash of its name,
// in whole milliseconds, below min(interval, maxSpread). The same name
// always gets the same offset, across restarts and reloads.
func spreadOffset(watch string, interval time.Duration) time.Duration {
	span := min(interval, maxSpread) / time.Millisecond
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(watch))
	return time.Duration(h.Sum64()%uint64(span)) * time.Millisecond
}

// spread returns the schedule of watch: sched moved by the watch's offset,
// so that watches with the same schedule do not all poll in the same
// second. robfig/cron's @every counts from when the entry was added, so
// every watch of one daemon would fire together: an @every schedule runs
// instead on a grid of its interval counted from the Unix epoch, moved by
// the offset. A cron spec is moved by the offset within the shortest gap
// between its next activations after now.
func spread(watch string, sched cron.Schedule, now time.Time) cron.Schedule {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return gridSchedule{every: every.Delay, offset: spreadOffset(watch, every.Delay)}
	}
	return shiftedSchedule{inner: sched, offset: spreadOffset(watch, shortestGap(sched, now))}
}

// gridSchedule activates at every instant k×every + offset after the Unix
// epoch.
type gridSchedule struct {
	every, offset time.Duration
}

// Next returns the first activation strictly after t.
func (g gridSchedule) Next(t time.Time) time.Time {
	n := t.UnixNano() - int64(g.offset)
	k := n / int64(g.every)
	if n < 0 && n%int64(g.every) != 0 {
		k-- // floor, for instants before the epoch
	}
	return time.Unix(0, (k+1)*int64(g.every)+int64(g.offset)).In(t.Location())
}

// shiftedSchedule activates offset after every activation of inner.
type shiftedSchedule struct {
	inner  cron.Schedule
	offset time.Duration
}

// Next returns the first activation strictly after t.
func (s shiftedSchedule) Next(t time.Time) time.Time {
	n := s.inner.Next(t.Add(-s.offset))
	if n.IsZero() {
		return n // never
	}
	return n.Add(s.offset)
}

// shortestGap returns the shortest time between the next few activations
// of sched after now; 0 when it has fewer than two.
func shortestGap(sched cron.Schedule, now time.Time) time.Duration {
	var gap time.Duration
	prev := sched.Next(now)
	for range 4 {
		next := sched.Next(prev)
		if prev.IsZero() || next.IsZero() {
			break
		}
		if d := next.Sub(prev); gap == 0 || d < gap {
			gap = d
		}
		prev = next
	}
	return gap
}
