package diff

import (
	"cmp"
	"slices"
)

// participants emits the participant threshold crossings of cur, whose
// previous observation was prev (nil when cur is new), and updates the
// snapshot's ParticipantsUp. Thresholds crossed up fire in ascending order,
// then those crossed down in descending order. Thresholds no longer
// configured are forgotten silently. When nothing changes, the snapshot keeps
// its slice and nothing is allocated.
func (s *step) participants(prev, cur *Session) {
	th := sortedInts(s.rules.ParticipantThresholds)
	up := s.next.ParticipantsUp
	live, h := cur.LiveParticipants, max(s.rules.Hysteresis, 0)

	changes, keep := 0, 0
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		switch was := slices.Contains(up, t); {
		case !was && live >= t, was && live < t-h:
			changes++
		case was:
			keep++
		}
	}
	if changes == 0 && keep == len(up) {
		return
	}

	next := make([]int, 0, keep+changes)
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		switch was := slices.Contains(up, t); {
		case was && live >= t-h:
			next = append(next, t)
		case !was && live >= t:
			next = append(next, t)
			s.participantEvent(t, DirectionUp, prev, cur)
		}
	}
	for i := len(th) - 1; i >= 0; i-- {
		t := th[i]
		if i < len(th)-1 && th[i+1] == t {
			continue
		}
		if slices.Contains(up, t) && live < t-h {
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
	th := sortedFloats(s.rules.MinutesThresholds)
	reached := s.next.MinutesReached
	m := cur.MinutesConsumed

	changes, keep := 0, 0
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		switch was := slices.Contains(reached, t); {
		case was:
			keep++
		case m >= t:
			changes++
		}
	}
	if changes == 0 && keep == len(reached) {
		return
	}

	next := make([]float64, 0, keep+changes)
	for i, t := range th {
		if i > 0 && th[i-1] == t {
			continue
		}
		switch was := slices.Contains(reached, t); {
		case was:
			next = append(next, t)
		case m >= t:
			next = append(next, t)
			d := s.emit(TypeMinutesThreshold, cur, thresholdAt(t))
			d.MinutesConsumed = ptr(m)
			d.Previous = prev
			d.Current = cur
		}
	}
	if len(next) == 0 {
		next = nil
	}
	s.next.MinutesReached = next
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
