package diff

import "time"

// Signal names: the lists a watch reads besides its meetings' sessions, as
// watch.failing and watch.recovered name them in "signal".
const (
	SignalRecordings  = "recordings"
	SignalLivestreams = "livestreams"
	SignalUsage       = "usage"
)

// SkipReason says why an entry of a list was left out of judgement.
type SkipReason string

// The reasons an entry is skipped. They are stable, for logs and metric
// labels.
const (
	SkipNoID          SkipReason = "no_id"          // a recording or livestream without an id
	SkipNoMeeting     SkipReason = "no_meeting"     // a recording without a meeting
	SkipUnknownStatus SkipReason = "unknown_status" // a status the API does not document
	SkipBadDay        SkipReason = "bad_day"        // a usage day that is not a date
	SkipFutureDay     SkipReason = "future_day"     // a usage day after the observation's UTC day
	SkipBadMinutes    SkipReason = "bad_minutes"    // negative, NaN or infinite minutes
	SkipDuplicateDay  SkipReason = "duplicate_day"  // a usage day listed twice; the first counts
)

// Skipped is an entry of an observation that a rule could not judge. It
// never yields an event and never changes what the state says of the entry;
// the caller logs and counts it.
type Skipped struct {
	Reason SkipReason
	// ID is the recording or livestream id, or the usage day as given.
	ID string
	// MeetingID is the entry's meeting, when it has one.
	MeetingID string
	// Value is what was wrong: the status, or the minutes, as text.
	Value string
}

// signalStep holds what one Apply call of a signal (recordings,
// livestreams, usage) produces: its events, numbered from the signal's own
// sequence.
type signalStep struct {
	watch  Meeting
	signal string
	at     time.Time
	seq    *uint64 // the next state's Sequence
	events []Event
}

// emit appends an event of type typ about meeting m with the signal's next
// sequence number, its id derived from subject, and returns its data for the
// caller to complete before the next emit.
func (s *signalStep) emit(m Meeting, typ, subject string) *EventData {
	*s.seq++
	s.events = append(s.events, newEvent(m, *s.seq, typ, s.signal+"\x00"+subject, s.at, noThreshold))
	return &s.events[len(s.events)-1].Data
}

// health applies the observation's outcome to h, the signal's failure
// bookkeeping, with the same rules as a meeting's (see Health): a failure
// counts, and may emit watch.failing once per run, or a reminder of it; a
// good observation may emit watch.recovered. All carry the signal and the
// caller's watch identity. It reports whether the observation was good.
func (s *signalStep) health(h *Health, failure *Failure, r healthRules) bool {
	if failure != nil {
		failing, reminder := h.failed(*failure, s.at, r)
		if failing || reminder {
			subject := ""
			if reminder {
				subject = reminderSubject(subject)
			}
			d := s.emit(s.watch, TypeWatchFailing, subject)
			d.Signal = s.signal
			d.Reminder = reminder
			failingData(d, *h, *failure)
		}
		return false
	}
	if recovered, failedFor := h.good(s.at, r); recovered {
		d := s.emit(s.watch, TypeWatchRecovered, "")
		d.Signal = s.signal
		d.FailedForSeconds = ptr(failedFor)
	}
	return true
}
