package diff

import (
	"fmt"
	"strings"
	"time"
)

// Apply returns the meeting's next snapshot and the events that obs implies,
// given the stored snapshot prev and the watch's rules.
//
// prev is the zero Snapshot when the meeting was never observed. Apply does
// not modify prev or obs, nor anything they point to: when a slice of prev
// must change, the next snapshot gets a new one. The returned snapshot and
// events may share read-only data (sessions, unchanged slices) with prev and
// with each other, so callers must treat them as immutable too.
//
// The rules, in the order Apply applies them:
//
//   - A failed poll (ObservedFailure, and, defensively, an ObservedSession
//     without a session or an unknown kind, which count as decode failures)
//     never touches the session state. It counts the failure and emits
//     watch.failing once per run of failures, when the run reaches
//     rules.FailingAfter (at least 1) consecutive failures, or at once for
//     an authentication failure (FailureAuth, or status 401 or 403). This
//     holds before the first baseline too: the meeting is known even if its
//     session is not.
//   - With rules.FailingRatio > 0, watch.failing is also due at a failed
//     poll when failures make up at least that fraction of the last
//     WindowSize polls, good or failed. Polls not made yet count as good, so
//     a meeting new to the watch needs as many failures as one polled for
//     long: with 0.5, the 5th failure of the last 10 polls, never the 4th.
//     The window is kept in the snapshot while the ratio is set, and emptied
//     while it is not.
//   - A good poll ends a run of failures, emitting watch.recovered first when
//     watch.failing was emitted for the run. With rules.RecoverAfter > 1, a
//     run that emitted watch.failing ends only at the RecoverAfter-th good
//     poll in a row, which emits watch.recovered; a failure before that
//     starts the count again and emits nothing. So a run emits one
//     watch.failing and one watch.recovered, however it got there, and
//     failed_for_seconds runs from its first failure (with a ratio set, the
//     first since the window last held no failure) to the recovery. A
//     recovery empties the window of the run's failures: they were told.
//   - With rules.RemindEvery > 0, a failing run repeats watch.failing, as a
//     reminder, at the first failed poll at or after its last watch.failing
//     or reminder plus RemindEvery; and an idle stretch repeats session.idle
//     at the first observation of the stretch at or after its last
//     session.idle or reminder plus RemindEvery. A reminder carries reminder
//     true, the data of the poll at hand (error, status_code and
//     consecutive_failures; idle_seconds from the stretch's start), and its
//     own sequence number and id, derived like every id from what it is:
//     never an earlier event's, the same when computed again. None comes
//     after its condition ends (watch.recovered; a rise above the idle
//     bound, or the session's end), and none while a recovering run gets
//     good polls. Reminders turned on while a condition lasts count from the
//     next observation; turned off, they stop.
//   - The first good poll of a meeting records a baseline and emits nothing
//     else: the session if it is LIVE, the thresholds it has already
//     reached, so that they neither fire now nor again later, and the start
//     of an idle stretch.
//   - After that, a LIVE session where there was none emits session.started,
//     unless it is a session never seen before that started (started_at)
//     more than LateBaselineSlack before the meeting's baseline
//     (BaselineAt): it was live then, and the baseline missed it (a paged
//     list that shifted while it was read), so it is recorded silently, as
//     at a baseline. Otherwise,
//     a stored session that is now absent, not LIVE, or replaced by another
//     id emits session.ended (then session.started for the new id). A new
//     session is checked against every threshold from zero, so its first
//     observation may also cross thresholds.
//   - participants.threshold_crossed fires up when live_participants ≥ T for
//     a threshold not yet crossed, and down when it falls below
//     T − hysteresis for one that was; minutes.threshold_crossed fires once
//     per session when minutes_consumed ≥ T. An ended session's participant
//     thresholds are forgotten without down events; its session.ended lists
//     those still crossed up (ParticipantsUp, ascending) as
//     participant_thresholds_up, left out when there are none.
//   - session.duration_crossed fires once per session for each of
//     rules.DurationThresholds (T, rounded up to whole seconds) when the
//     session has run for at least T: from its started_at (or, when that
//     does not parse, from when it was first seen) to obs.At, which is the
//     rule's only "now". A session seen for the first time after T is
//     reported at that first observation, like any other threshold of a new
//     session. threshold_seconds is T, duration_seconds the whole seconds run.
//   - session.idle (with rules.Idle.For > 0) fires when live_participants has
//     stayed at or below rules.Idle.Participants for at least For. The idle
//     stretch starts at the first observation at or below the bound (at a
//     baseline too, silently) and lasts while every following observation is
//     at or below it; idle_seconds runs from that first observation to
//     obs.At. It fires once per stretch (reminders aside); the first
//     observation above the bound ends the stretch and re-arms it. Only good
//     polls count: a failed poll neither starts nor ends a stretch. A session that ends (or is
//     replaced) ends its stretch; a new session starts with none.
//   - session.ended carries estimated_cost, minutes_consumed (the final
//     numbers' when present) times rules.PricePerParticipantMinute rounded to
//     a millionth, when that price is > 0.
//   - Within one step, events come in this order: watch.recovered,
//     session.ended, session.started, participant crossings (up ascending,
//     then down descending), minutes, durations (ascending), session.idle
//     or its reminder. A failed poll emits at most one event: watch.failing
//     or its reminder.
//   - A session that comes back under the id of the session that ended last
//     (with no other session started in between) emits session.started
//     again, but keeps the minutes and duration thresholds reported before
//     it ended, so they do not fire twice. Its participant thresholds and its
//     idle stretch start from zero like any new session's, so their up
//     crossings may fire again.
//   - A threshold (participants, minutes or duration) that the rules gained
//     since the last good poll (a reload, a restart) is armed silently when
//     the session, unchanged since that poll, is already past it, just as at
//     a baseline; only later crossings fire. An idle rule gained by a reload
//     starts its first stretch at the next observation. A minutes or
//     duration threshold the rules lost is forgotten silently, and so is a
//     participants threshold that is not up. A participants threshold that
//     the rules lost while it is up stays in ParticipantsUp until its
//     crossing is closed: it never crosses up again, it crosses down when
//     live_participants < T − hysteresis, as a configured one does, and
//     session.ended lists it if the session ends first; closed, it is
//     forgotten. So a crossing once reported up is always closed. Gained
//     back while still up, it stays up, without a second up crossing. A
//     snapshot that does not say which thresholds it knows (one stored by
//     an older version) is taken to know the current ones.
//
// Every event gets the next sequence number of the meeting; the snapshot
// keeps the last one used. Its timestamp is obs.At in UTC, truncated to the
// second, so that it encodes as 2006-01-02T15:04:05Z. Events name the
// session they are about: the ended one for session.ended, the current one
// otherwise, and for watch.failing and watch.recovered the stored one, if
// any, with previous and current null since the poll tells nothing new
// about it.
func Apply(meeting Meeting, prev Snapshot, obs Observation, rules Rules) (Snapshot, []Event) {
	s := step{meeting: meeting, obs: obs, rules: rules, next: prev}
	s.next.Meeting = meeting
	switch {
	case obs.Kind == ObservedFailure:
		f := Failure{Kind: FailureDecode, Message: "failure observation without details"}
		if obs.Failure != nil {
			f = *obs.Failure
		}
		s.failure(f)
	case obs.Kind == ObservedNoSession, obs.Kind == ObservedSession && obs.Session != nil:
		s.good()
	case obs.Kind == ObservedSession:
		s.failure(Failure{Kind: FailureDecode, Message: "session observation without a session"})
	default:
		s.failure(Failure{Kind: FailureDecode, Message: fmt.Sprintf("unknown observation kind %d", obs.Kind)})
	}
	return s.next, s.events
}

// EndsSession reports whether Apply would end the session that prev holds if
// given obs, and that session's id. The poller uses it to fetch the ended
// session's final numbers (Observation.Final) before calling Apply.
func EndsSession(prev Snapshot, obs Observation) (sessionID string, ok bool) {
	if !prev.Baselined || prev.Session == nil {
		return "", false
	}
	switch obs.Kind {
	case ObservedNoSession:
		return prev.Session.ID, true
	case ObservedSession:
		if obs.Session == nil {
			return "", false // a decode failure, which changes nothing
		}
		if !isLive(obs.Session) || obs.Session.ID != prev.Session.ID {
			return prev.Session.ID, true
		}
	}
	return "", false
}

// isLive reports whether the API calls s live. Any other status, ENDED or
// one we do not know, means the meeting has no live session.
func isLive(s *Session) bool {
	return strings.EqualFold(s.Status, StatusLive)
}

// step holds the state of one Apply call.
type step struct {
	meeting Meeting
	obs     Observation
	rules   Rules
	next    Snapshot
	events  []Event
	// The rules' thresholds in ascending order, set by good.
	participantTh []int
	minutesTh     []float64
	durationTh    []int64 // whole seconds
}

// failure records the failed poll f.
func (s *step) failure(f Failure) {
	h := s.next.health()
	failing, reminder := h.failed(f, s.obs.At, s.rules.health())
	s.next.setHealth(h)
	switch {
	case failing:
		failingData(s.emit(TypeWatchFailing, s.next.Session, noThreshold), h, f)
	case reminder:
		failingData(s.remind(TypeWatchFailing, s.next.Session), h, f)
	}
}

// good records a successful poll: the end of any run of failures, then the
// session transitions it implies.
func (s *step) good() {
	h := s.next.health()
	if recovered, failedFor := h.good(s.obs.At, s.rules.health()); recovered {
		s.emit(TypeWatchRecovered, s.next.Session, noThreshold).FailedForSeconds = ptr(failedFor)
	}
	s.next.setHealth(h)
	s.participantTh = sortedInts(s.rules.ParticipantThresholds)
	s.minutesTh = sortedFloats(s.rules.MinutesThresholds)
	s.durationTh = durationSeconds(s.rules.DurationThresholds)

	var cur *Session // the live session observed, nil when none
	if s.obs.Kind == ObservedSession && isLive(s.obs.Session) {
		cur = s.obs.Session
	}
	if !s.next.Baselined {
		s.baseline(cur)
		return
	}

	old := s.next.Session
	if old != nil && (cur == nil || cur.ID != old.ID) {
		s.ended(old)
		s.next.LastEndedSessionID = old.ID
		s.next.LastEndedMinutesReached = s.next.MinutesReached
		s.next.LastEndedDurationReached = s.next.DurationReached
		s.forgetSession()
	}
	if cur == nil {
		s.learnThresholds()
		return
	}
	if old == nil && cur.ID != s.next.LastEndedSessionID && s.lateBaseline(cur) {
		s.forgetLastEnded()
		s.learnThresholds()
		s.adopt(cur)
		return
	}
	stored := copySession(cur)
	s.next.Session = stored
	if old == nil || old.ID != cur.ID {
		s.next.SessionSeenAt = s.obs.At
		s.next.ParticipantsUp = nil
		s.next.MinutesReached = nil
		s.next.DurationReached = nil
		if s.next.LastEndedSessionID == cur.ID {
			s.next.MinutesReached = s.next.LastEndedMinutesReached
			s.next.DurationReached = s.next.LastEndedDurationReached
		}
		s.forgetLastEnded()
		d := s.emit(TypeSessionStarted, stored, noThreshold)
		d.Current = stored
		old = nil // the new session has no previous observation
	} else {
		s.armNewThresholds(stored)
	}
	s.learnThresholds()
	s.participants(old, stored)
	s.minutes(old, stored)
	s.duration(old, stored)
	s.idle(old, stored)
}

// baseline records the first good poll of a meeting, silently.
func (s *step) baseline(cur *Session) {
	s.next.Baselined = true
	s.next.BaselineAt = s.obs.At
	s.forgetSession()
	s.forgetLastEnded()
	s.learnThresholds()
	if cur != nil {
		s.adopt(cur)
	}
}

// LateBaselineSlack is how long before a meeting's baseline a session must
// have started to be taken for one that the baseline missed rather than a
// new one. It covers the time a paged read takes and the difference
// between the API's clock and ours: a session that started just before the
// baseline is announced, as one that started just after it would be.
const LateBaselineSlack = time.Minute

// lateBaseline reports whether cur, a session where the snapshot holds
// none, started long enough before the meeting's baseline to have been
// live, unseen, at that baseline.
func (s *step) lateBaseline(cur *Session) bool {
	if s.next.BaselineAt.IsZero() {
		return false
	}
	started, err := time.Parse(time.RFC3339Nano, cur.StartedAt)
	return err == nil && started.Before(s.next.BaselineAt.Add(-LateBaselineSlack))
}

// adopt records cur as the meeting's session without an event, as a
// baseline does: the thresholds it is already past are armed for a later
// down crossing or reached, and an idle stretch starts if it is idle.
func (s *step) adopt(cur *Session) {
	s.next.Session = copySession(cur)
	s.next.SessionSeenAt = s.obs.At
	for _, t := range s.participantTh {
		if cur.LiveParticipants >= t && !containsLast(s.next.ParticipantsUp, t) {
			s.next.ParticipantsUp = append(s.next.ParticipantsUp, t)
		}
	}
	for _, t := range s.minutesTh {
		if cur.MinutesConsumed >= t && !containsLast(s.next.MinutesReached, t) {
			s.next.MinutesReached = append(s.next.MinutesReached, t)
		}
	}
	ran := s.ranFor(cur)
	for _, t := range s.durationTh {
		if ran >= t && !containsLast(s.next.DurationReached, t) {
			s.next.DurationReached = append(s.next.DurationReached, t)
		}
	}
	s.idleAtBaseline(cur)
}

// forgetSession clears the stored session, the thresholds it reached and
// its idle stretch.
func (s *step) forgetSession() {
	s.next.Session = nil
	s.next.SessionSeenAt = time.Time{}
	s.next.ParticipantsUp = nil
	s.next.MinutesReached = nil
	s.next.DurationReached = nil
	s.next.IdleSince = time.Time{}
	s.next.IdleReported = false
	s.next.IdleRemindedAt = time.Time{}
}

// forgetLastEnded clears what the snapshot remembers of the session that
// ended last.
func (s *step) forgetLastEnded() {
	s.next.LastEndedSessionID = ""
	s.next.LastEndedMinutesReached = nil
	s.next.LastEndedDurationReached = nil
}

// ended emits session.ended for the stored session old. Its duration runs
// from old's started_at (or, when that does not parse, from when old was
// first seen) to the final numbers' ended_at (or, without one, to the poll
// that found the session gone), in whole seconds.
func (s *step) ended(old *Session) {
	final := s.finalFor(old)
	d := s.emit(TypeSessionEnded, old, noThreshold)
	d.Previous = old
	d.Final = final
	if len(s.next.ParticipantsUp) > 0 {
		d.ParticipantThresholdsUp = s.next.ParticipantsUp
	}
	start, err := time.Parse(time.RFC3339Nano, old.StartedAt)
	if err != nil {
		start = s.next.SessionSeenAt
	}
	end := s.obs.At
	if final != nil {
		if t, err := time.Parse(time.RFC3339Nano, final.EndedAt); err == nil {
			end = t
		}
	}
	d.DurationSeconds = ptr(wholeSeconds(start, end))
	minutes := old.MinutesConsumed
	if final != nil {
		minutes = final.MinutesConsumed
	}
	d.EstimatedCost = estimatedCost(minutes, s.rules.PricePerParticipantMinute)
}

// finalFor returns the final numbers of the ended session old: the
// observation's Final when it is that session, else the observed session
// itself when it is old in a status other than LIVE; nil when neither is.
func (s *step) finalFor(old *Session) *Session {
	if f := s.obs.Final; f != nil && f.ID == old.ID {
		return copySession(f)
	}
	if o := s.obs.Session; s.obs.Kind == ObservedSession && o.ID == old.ID && !isLive(o) {
		return copySession(o)
	}
	return nil
}

// copySession returns a copy of s that the caller's later changes to s cannot
// reach. Its raw JSON fields share their bytes with s, which nothing writes.
func copySession(s *Session) *Session {
	c := *s
	return &c
}

// wholeSeconds returns the whole seconds from a to b, or 0 when b is not
// after a or a is unknown.
func wholeSeconds(a, b time.Time) int64 {
	if a.IsZero() || !b.After(a) {
		return 0
	}
	return int64(b.Sub(a) / time.Second)
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
