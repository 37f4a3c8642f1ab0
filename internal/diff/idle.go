package diff

import "time"

// idle follows the idle stretch of the live session cur, whose previous
// observation was prev (nil when cur is new), and emits session.idle when
// the stretch has lasted the idle rule's For, once per stretch, and then a
// reminder of it whenever remindDue says so. A stretch begins at the first
// observation at or below the rule's bound and ends at the first above it;
// the stretch of a session that ends ends with it.
func (s *step) idle(prev, cur *Session) {
	rule := s.rules.Idle
	if rule.For <= 0 || cur.LiveParticipants > rule.Participants {
		s.next.IdleSince, s.next.IdleReported, s.next.IdleRemindedAt = time.Time{}, false, time.Time{}
		return
	}
	if s.next.IdleSince.IsZero() {
		s.next.IdleSince, s.next.IdleReported, s.next.IdleRemindedAt = s.obs.At, false, time.Time{}
	}
	if s.next.IdleReported {
		if remindDue(&s.next.IdleRemindedAt, s.obs.At, s.rules.RemindEvery) {
			s.idleEvent(s.remind(TypeSessionIdle, cur), prev, cur)
		}
		return
	}
	if s.obs.At.Sub(s.next.IdleSince) < rule.For {
		return
	}
	s.next.IdleReported = true
	if s.rules.RemindEvery > 0 {
		s.next.IdleRemindedAt = s.obs.At
	}
	s.idleEvent(s.emit(TypeSessionIdle, cur, noThreshold), prev, cur)
}

// idleEvent completes the data d of a session.idle about cur, or of its
// reminder.
func (s *step) idleEvent(d *EventData, prev, cur *Session) {
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
