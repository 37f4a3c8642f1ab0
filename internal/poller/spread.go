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

// spreadSteps is how many offsets watches that share a schedule spread
// over: its interval (at most maxSpread) cut into this many steps, a
// step of 50 ms at `@every 1s`, 3 s at a minute. The polls of the watches
// that share a step start together and share the wake-ups of the runtime
// and of the connections to the API; every watch on an offset of its own
// (250 watches at `@every 1s`, one every 4 ms) cost each request about as
// much CPU again in wake-ups, for bursts that twenty steps already make
// twenty times smaller (README, "Performance").
const spreadSteps = 20

// spreadOffset is watch's offset within an interval: one of spreadSteps
// steps of min(interval, maxSpread), chosen by a hash of its name; steps
// are whole milliseconds, and an interval shorter than spreadSteps
// milliseconds has a step of a millisecond. The same name always gets the
// same offset, across restarts and reloads.
func spreadOffset(watch string, interval time.Duration) time.Duration {
	span := min(interval, maxSpread).Truncate(time.Millisecond)
	step := max((span / spreadSteps).Truncate(time.Millisecond), time.Millisecond)
	steps := span / step
	if steps <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(watch))
	return time.Duration(h.Sum64()%uint64(steps)) * step
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
