package diff

import (
	"cmp"
	"math"
	"slices"
)

// participants emits the participant threshold crossings of cur, whose
// previous observation was prev (nil when cur is new), and updates the
// snapshot's ParticipantsUp. A threshold of the rules crosses up when
// live_participants ≥ T and it is not up; a threshold that is up, whether
// the rules still have it or a reload removed it, crosses down when
// live_participants < T − hysteresis, and is forgotten then. So a crossing
// once reported up is always closed: a removed threshold never fires up
// again, but its down crossing comes as a configured one's would. Thresholds
// crossed up fire in ascending order, then those crossed down in descending
// order. ParticipantsUp is taken to be ascending, as every step leaves it.
// When nothing changes, the snapshot keeps its slice and nothing is
// allocated.
func (s *step) participants(prev, cur *Session) {
	th, up := s.participantTh, s.next.ParticipantsUp
	live, h := cur.LiveParticipants, max(s.rules.Hysteresis, 0)

	rising, falling := 0, 0
	for i, t := range th {
		if (i == 0 || th[i-1] != t) && live >= t && !slices.Contains(up, t) {
			rising++
		}
	}
	for _, t := range up {
		if live < t-h {
			falling++
		}
	}
	if rising+falling == 0 {
		return
	}

	// next merges, ascending, the thresholds that stay up with those that
	// cross up now.
	next := make([]int, 0, len(up)-falling+rising)
	j := 0
	stay := func(below int) {
		for ; j < len(up) && up[j] < below; j++ {
			if t := up[j]; live >= t-h && !containsLast(next, t) {
				next = append(next, t)
			}
		}
	}
	for i, t := range th {
		if i > 0 && th[i-1] == t || live < t || slices.Contains(up, t) {
			continue
		}
		stay(t)
		next = append(next, t)
		s.participantEvent(t, DirectionUp, prev, cur)
	}
	stay(math.MaxInt)
	for i := len(up) - 1; i >= 0; i-- {
		if t := up[i]; (i == len(up)-1 || up[i+1] != t) && live < t-h {
			s.participantEvent(t, DirectionDown, prev, cur)
		}
	}
	if len(next) == 0 {
		next = nil
	}
	s.next.ParticipantsUp = next
}

// participantEvent emits one participants.threshold_crossed event.
func (s *step) participantEvent(t int, direction string, prev, cur *Session) {
	d := s.emit(TypeParticipantsThreshold, cur, thresholdAt(float64(t)))
	d.Direction = direction
	d.LiveParticipants = ptr(cur.LiveParticipants)
	prevLive := 0
	if prev != nil {
		prevLive = prev.LiveParticipants
	}
	d.PreviousLiveParticipants = ptr(prevLive)
	d.Previous = prev
	d.Current = cur
}

// minutes emits the minutes thresholds that cur reaches for the first time
// in its session, in ascending order, and updates the snapshot's
// MinutesReached. Like participants, it allocates only on a change.
func (s *step) minutes(prev, cur *Session) {
	was := s.next.MinutesReached
	next := reachOnce(s.minutesTh, was, cur.MinutesConsumed)
	if sameSlice(next, was) {
		return
	}
	for _, t := range next {
		if !slices.Contains(was, t) {
			d := s.emit(TypeMinutesThreshold, cur, thresholdAt(t))
			d.MinutesConsumed = ptr(cur.MinutesConsumed)
			d.Previous = prev
			d.Current = cur
		}
	}
	s.next.MinutesReached = next
}

// reachOnce returns the thresholds of th (ascending, duplicates allowed)
// that are reached once and for all: those of reached that th still has,
// and those that value reaches now. It returns reached itself when that is
// the answer, and otherwise a new slice (nil when empty), so that nothing
// is allocated when nothing changes.
func reachOnce[T int64 | float64](th, reached []T, value T) []T {
	changes, keep := 0, 0
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		switch was := slices.Contains(reached, t); {
		case was:
			keep++
		case value >= t:
			changes++
		}
	}
	if changes == 0 && keep == len(reached) {
		return reached
	}
	if keep+changes == 0 {
		return nil
	}
	next := make([]T, 0, keep+changes)
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		if slices.Contains(reached, t) || value >= t {
			next = append(next, t)
		}
	}
	return next
}

// sameSlice reports whether a and b are the same slice: same length and, when
// not empty, the same backing array.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// armNewThresholds arms, silently, the thresholds that the rules gained
// since the last good poll and that cur, the same session as then, is
// already past: live_participants ≥ T, or minutes_consumed ≥ T. They join
// ParticipantsUp and MinutesReached without an event, as at a baseline, so
// that a reload does not report as a crossing what happened before it. A
// participants threshold gained back while it is still up (a reload removed
// it, and participants kept it up to close its crossing) is new to
// KnownParticipants but already in ParticipantsUp: it stays as it is, so
// its crossing is neither reported nor armed twice. A snapshot that does
// not know its thresholds (nil, from an older version) is taken to know
// the current ones. Nothing is allocated when the rules did not change.
func (s *step) armNewThresholds(cur *Session) {
	if known := s.next.KnownParticipants; known != nil && !slices.Equal(known, s.participantTh) {
		s.next.ParticipantsUp = armed(s.next.ParticipantsUp, known, s.participantTh, float64(cur.LiveParticipants))
	}
	if known := s.next.KnownMinutes; known != nil && !slices.Equal(known, s.minutesTh) {
		s.next.MinutesReached = armed(s.next.MinutesReached, known, s.minutesTh, cur.MinutesConsumed)
	}
	if known := s.next.KnownDuration; known != nil && !slices.Equal(known, s.durationTh) {
		s.next.DurationReached = armed(s.next.DurationReached, known, s.durationTh, float64(s.ranFor(cur)))
	}
}

// armed returns have, ascending, plus the thresholds of th (ascending) that
// are not in known and that value has reached. It returns have itself when
// there are none, and a new slice otherwise.
func armed[T int | int64 | float64](have, known, th []T, value float64) []T {
	var out []T
	for i, t := range th {
		if i > 0 && th[i-1] == t || slices.Contains(known, t) || slices.Contains(have, t) || value < float64(t) {
			continue
		}
		if out == nil {
			out = slices.Clone(have)
		}
		out = append(out, t)
	}
	if out == nil {
		return have
	}
	slices.Sort(out)
	return out
}

// learnThresholds records the rules' thresholds as known to the snapshot,
// keeping the snapshot's slices when they already match.
func (s *step) learnThresholds() {
	s.next.KnownParticipants = known(s.next.KnownParticipants, s.participantTh)
	s.next.KnownMinutes = known(s.next.KnownMinutes, s.minutesTh)
	s.next.KnownDuration = known(s.next.KnownDuration, s.durationTh)
}

// known returns was when it equals th and is not nil, else a copy of th
// that is never nil, so that "knows no threshold" differs from "unknown".
func known[T cmp.Ordered](was, th []T) []T {
	if was != nil && slices.Equal(was, th) {
		return was
	}
	return append(make([]T, 0, len(th)), th...)
}

// sortedInts returns ts in ascending order: ts itself when it already is
// (as validated configuration is), else a sorted copy.
func sortedInts(ts []int) []int { return sorted(ts) }

// sortedFloats is sortedInts for minutes thresholds.
func sortedFloats(ts []float64) []float64 { return sorted(ts) }

func sorted[T cmp.Ordered](ts []T) []T {
	if slices.IsSorted(ts) {
		return ts
	}
	c := slices.Clone(ts)
	slices.Sort(c)
	return c
}

// containsLast reports whether t is the last element of ts, which is how an
// ascending slice being built tells that t is already in it.
func containsLast[T comparable](ts []T, t T) bool {
	return len(ts) > 0 && ts[len(ts)-1] == t
}
