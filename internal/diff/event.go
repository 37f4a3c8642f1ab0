package diff

import (
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"time"
)

// idEncoding is lowercase base32 without padding, the alphabet of event ids.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// thresholdKey is the threshold an event is about, if any.
type thresholdKey struct {
	value float64
	set   bool
}

// noThreshold is the thresholdKey of events that are not about a threshold.
var noThreshold thresholdKey

// thresholdAt returns the thresholdKey of threshold t.
func thresholdAt(t float64) thresholdKey { return thresholdKey{value: t, set: true} }

// emit appends an event of type typ about session sess (nil when none) with
// the meeting's next sequence number, and returns its data for the caller to
// complete before the next emit.
func (s *step) emit(typ string, sess *Session, th thresholdKey) *EventData {
	return s.emitEvent(typ, sess, th, false)
}

// remind is emit for a reminder of an event of type typ about sess: marked
// reminder, with an id of its own.
func (s *step) remind(typ string, sess *Session) *EventData {
	return s.emitEvent(typ, sess, noThreshold, true)
}

// emitEvent is emit and remind.
func (s *step) emitEvent(typ string, sess *Session, th thresholdKey, reminder bool) *EventData {
	s.next.Sequence++
	var name, sessionID string
	if sess != nil {
		name, sessionID = sess.MeetingDisplayName, sess.ID
	}
	subject := sessionID
	if reminder {
		subject = reminderSubject(subject)
	}
	e := newEvent(s.meeting, s.next.Sequence, typ, subject, s.obs.At, th)
	e.Data.MeetingDisplayName = name
	e.Data.SessionID = sessionID
	e.Data.Reminder = reminder
	s.events = append(s.events, e)
	return &s.events[len(s.events)-1].Data
}

// reminderSubject is the subject, for its id, of a reminder of an event
// about subject. Its sequence number and time already set a reminder's id
// apart from the event it repeats and from every other reminder; the mark
// says so in the hashed fields too.
func reminderSubject(subject string) string { return subject + "\x00reminder" }

// newEvent returns an event of type typ about meeting m, with sequence
// number seq and time at, whose id derives from those and from subject (the
// session, or whatever else the event is about) and th. The caller fills in
// the rest of the data, session_id included.
func newEvent(m Meeting, seq uint64, typ, subject string, at time.Time, th thresholdKey) Event {
	d := EventData{
		ID:        eventID(m, seq, typ, subject, at, th),
		Sequence:  seq,
		Watch:     m.Watch,
		AccountID: m.AccountID,
		AppID:     m.AppID,
		MeetingID: m.MeetingID,
	}
	if th.set {
		d.Threshold = ptr(th.value)
	}
	return Event{Type: typ, Timestamp: eventTime(at), Data: d}
}

// eventTime is the timestamp of an event observed at t: UTC, in whole
// seconds, which encoding/json writes as 2006-01-02T15:04:05Z. Strict
// RFC 3339 consumers (jq's fromdateiso8601 among them) reject fractions.
func eventTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// eventID derives an event's id from everything that identifies its
// transition, so that computing the same transition again, after a crash
// for instance, yields the same id: "evt_" and 26 base32 characters of a
// SHA-256 over the fields, each followed by a zero byte.
func eventID(m Meeting, seq uint64, typ, sessionID string, at time.Time, th thresholdKey) string {
	buf := make([]byte, 0, 256)
	for _, f := range [...]string{m.AccountID, m.AppID, m.MeetingID, m.Watch} {
		buf = append(buf, f...)
		buf = append(buf, 0)
	}
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, 0)
	buf = append(buf, typ...)
	buf = append(buf, 0)
	buf = append(buf, sessionID...)
	buf = append(buf, 0)
	buf = strconv.AppendInt(buf, at.UnixNano(), 10)
	buf = append(buf, 0)
	if th.set {
		buf = strconv.AppendFloat(buf, th.value, 'g', -1, 64)
	}
	buf = append(buf, 0)
	sum := sha256.Sum256(buf)
	var enc [28]byte // 17 bytes encode to 28 characters; the id keeps 26
	idEncoding.Encode(enc[:], sum[:17])
	return "evt_" + string(enc[:26])
}
