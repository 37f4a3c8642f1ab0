package diff

import (
	"slices"
	"time"
)

// duration emits session.duration_crossed for each duration threshold that
// cur, whose previous observation was prev (nil when cur is new), has run
// for the first time in its session, in ascending order, and updates the
// snapshot's DurationReached. It allocates only on a change.
func (s *step) duration(prev, cur *Session) {
	was := s.next.DurationReached
	if len(s.durationTh) == 0 && len(was) == 0 {
		return
	}
	ran := s.ranFor(cur)
	next := reachOnce(s.durationTh, was, ran)
	if sameSlice(next, was) {
		return
	}
	for _, t := range next {
		if !slices.Contains(was, t) {
			d := s.emit(TypeDurationCrossed, cur, noThreshold)
			d.ThresholdSeconds = ptr(t)
			d.DurationSeconds = ptr(ran)
			d.Previous = prev
			d.Current = cur
		}
	}
	s.next.DurationReached = next
}

// ranFor returns how long the live session cur has run at this
// observation, in whole seconds: from its started_at, or, when that does not
// parse, from when it was first seen; 0 when that is not before the
// observation.
func (s *step) ranFor(cur *Session) int64 {
	start, err := time.Parse(time.RFC3339Nano, cur.StartedAt)
	if err != nil {
		start = s.next.SessionSeenAt
	}
	return wholeSeconds(start, s.obs.At)
}

// durationSeconds returns the duration thresholds ds in whole seconds,
// rounded up, ascending; nil when there are none.
func durationSeconds(ds []time.Duration) []int64 {
	if len(ds) == 0 {
		return nil
	}
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = int64((d + time.Second - 1) / time.Second)
	}
	slices.Sort(out)
	return out
}
