package diff

import "time"

// idle follows the idle stretch of the live session cur, whose previous
// observation was prev (nil when cur is new), and emits session.idle when
// the stretch has lasted the idle rule's For, once per stretch. A stretch
// begins at the first observation at or below the rule's bound and ends at
// the first above it; the stretch of a session that ends ends with it.
func (s *step) idle(prev, cur *Session) {
	rule := s.rules.Idle
	if rule.For <= 0 || cur.LiveParticipants > rule.Participants {
		s.next.IdleSince, s.next.IdleReported = time.Time{}, false
		return
	}
	if s.next.IdleSince.IsZero() {
		s.next.IdleSince, s.next.IdleReported = s.obs.At, false
	}
	if s.next.IdleReported || s.obs.At.Sub(s.next.IdleSince) < rule.For {
		return
	}
	s.next.IdleReported = true
	d := s.emit(TypeSessionIdle, cur, noThreshold)
	d.IdleSeconds = ptr(wholeSeconds(s.next.IdleSince, s.obs.At))
	d.LiveParticipants = ptr(cur.LiveParticipants)
	d.MinutesConsumed = ptr(cur.MinutesConsumed)
	d.Previous = prev
	d.Current = cur
}

// idleAtBaseline starts an idle stretch, silently, when the baseline's live
// session cur is already idle: the stretch is judged on observations, and
// this is the first.
func (s *step) idleAtBaseline(cur *Session) {
	if s.rules.Idle.For > 0 && cur.LiveParticipants <= s.rules.Idle.Participants {
		s.next.IdleSince = s.obs.At
	}
}
