package diff

import (
	"bytes"
	"slices"
)

// SameState reports whether a and b hold the same state in everything but
// LastGoodPoll: whether storing b in place of a would change nothing but
// the time of the last good poll. The poller uses it to leave alone a
// snapshot that a poll only confirmed.
//
// Fields compare as their JSON does: times as instants, lists by their
// elements (nil and empty alike, since both are left out), except the
// Known… lists, where nil means "unknown" and differs from empty. Raw JSON
// (breakout rooms, meta) compares byte for byte, so an API that sends it
// with spaces makes every poll look like a change, which costs a write and
// nothing else. A field added to Snapshot or Session must be added here:
// TestSameStateSeesEveryField fails until it is.
func SameState(a, b Snapshot) bool {
	return a.Meeting == b.Meeting &&
		a.Baselined == b.Baselined &&
		a.BaselineAt.Equal(b.BaselineAt) &&
		sameSession(a.Session, b.Session) &&
		a.Sequence == b.Sequence &&
		slices.Equal(a.ParticipantsUp, b.ParticipantsUp) &&
		slices.Equal(a.MinutesReached, b.MinutesReached) &&
		sameKnown(a.KnownParticipants, b.KnownParticipants) &&
		sameKnown(a.KnownMinutes, b.KnownMinutes) &&
		a.LastEndedSessionID == b.LastEndedSessionID &&
		slices.Equal(a.LastEndedMinutesReached, b.LastEndedMinutesReached) &&
		slices.Equal(a.DurationReached, b.DurationReached) &&
		sameKnown(a.KnownDuration, b.KnownDuration) &&
		slices.Equal(a.LastEndedDurationReached, b.LastEndedDurationReached) &&
		a.IdleSince.Equal(b.IdleSince) &&
		a.IdleReported == b.IdleReported &&
		a.IdleRemindedAt.Equal(b.IdleRemindedAt) &&
		a.SessionSeenAt.Equal(b.SessionSeenAt) &&
		a.ConsecutiveFailures == b.ConsecutiveFailures &&
		a.FirstFailureAt.Equal(b.FirstFailureAt) &&
		a.Failing == b.Failing &&
		a.LastError == b.LastError &&
		a.Window == b.Window &&
		a.WindowPolls == b.WindowPolls &&
		a.GoodStreak == b.GoodStreak &&
		a.RemindedAt.Equal(b.RemindedAt)
}

// sameKnown compares two Known… lists, where nil (unknown) differs from
// empty (none).
func sameKnown[T comparable](a, b []T) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

// sameSession compares two stored sessions field by field.
func sameSession(a, b *Session) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID &&
		a.AssociatedID == b.AssociatedID &&
		a.MeetingDisplayName == b.MeetingDisplayName &&
		a.Type == b.Type &&
		a.Status == b.Status &&
		a.LiveParticipants == b.LiveParticipants &&
		a.MaxConcurrentParticipants == b.MaxConcurrentParticipants &&
		a.MinutesConsumed == b.MinutesConsumed &&
		a.OrganizationID == b.OrganizationID &&
		a.StartedAt == b.StartedAt &&
		a.CreatedAt == b.CreatedAt &&
		a.UpdatedAt == b.UpdatedAt &&
		a.EndedAt == b.EndedAt &&
		bytes.Equal(a.BreakoutRooms, b.BreakoutRooms) &&
		bytes.Equal(a.Meta, b.Meta)
}
