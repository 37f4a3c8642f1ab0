package store

import "time"

// This file lends the record format and the checks of this package to the
// other implementation of the store's contract (over etcd), so that both
// stores keep deliveries in the same bytes and refuse the same input.

// EncodeRecord returns the stored form of a delivery: a header, then the
// body byte for byte. DecodeRecord reads it back.
func EncodeRecord(d Delivery) ([]byte, error) { return encodeDelivery(d) }

// DecodeRecord decodes the stored record v of delivery id. A record that
// does not decode gives a Delivery with only ID, Notifier (notifier) and
// Undecodable set, not an error: one damaged record must not hide the
// others. The result shares no memory with v.
func DecodeRecord(notifier string, id uint64, v []byte) Delivery {
	d, err := decodeDelivery(id, v)
	if err != nil {
		return Delivery{ID: id, Notifier: notifier, Undecodable: err.Error()}
	}
	return d
}

// Validate reports why u cannot be committed, or nil: the checks Commit
// makes before it writes anything.
func (u Update) Validate() error { return u.validate() }

// Validate reports why e cannot be queued, or nil: the checks Commit and
// Enqueue make of each event before they write anything.
func (e NewEvent) Validate() error { return e.validate() }

// ValidateWatch reports why a watch name cannot be part of a snapshot key,
// or nil.
func ValidateWatch(watch string) error { return validateWatch(watch) }

// Killed returns d as DeadLetter stores it: dead at at, with lastErr as its
// last error unless lastErr is empty; a delivery whose record did not
// decode becomes a quarantined dead letter holding the record's bytes.
func Killed(d Delivery, at time.Time, lastErr string) Delivery {
	if d.Undecodable != "" {
		if lastErr == "" {
			lastErr = d.Undecodable
		}
		d = Delivery{ID: d.ID, Notifier: d.Notifier, Body: d.Body, Quarantined: true}
	}
	d.DeadAt = at
	if lastErr != "" {
		d.LastError = lastErr
	}
	return d
}

// Requeued returns the dead letter d as Requeue puts it back in the outbox
// at at: attempts, last error and time of death cleared, RequeuedAt set.
func Requeued(d Delivery, at time.Time) Delivery {
	d.Attempts, d.NextAttempt, d.LastError, d.DeadAt = 0, time.Time{}, "", time.Time{}
	d.RequeuedAt = at
	return d
}

// DiedBefore reports whether the dead letter d died before cutoff, as
// RemoveDeadLetters decides.
func DiedBefore(d Delivery, cutoff time.Time) bool {
	return diedBefore(header{DeadAt: d.DeadAt}, cutoff)
}

// EncodeHistory returns the stored form of the history record of e, an
// event about the meeting of key, as Commit writes it.
func EncodeHistory(key SnapshotKey, e NewEvent) ([]byte, error) {
	return encodeHistory(historyHeader{
		EventID: e.ID, Type: e.Type, Watch: key.Watch, MeetingID: key.MeetingID,
		CreatedAt: e.CreatedAt.UTC(), Notifiers: e.Notifiers, Silenced: e.Silenced,
	}, e.Body)
}

// DecodeHistory parses the history record v of the 16-byte history key k;
// with body false it leaves the body out.
func DecodeHistory(k, v []byte, body bool) (HistoryEvent, error) { return decodeHistory(k, v, body) }

// HistoryKey returns the 16-byte history key of an event created at t with
// sequence seq; its hex form is the event's Cursor.
func HistoryKey(t time.Time, seq uint64) []byte { return historyKey(t, seq) }

// HistoryKeyAfter returns the smallest history key above k, or nil.
func HistoryKeyAfter(k []byte) []byte { return nextKey(k) }

// HistoryKeyTime returns the creation time a history key starts with.
func HistoryKeyTime(k []byte) time.Time { return historyKeyTime(k) }

// Selects reports whether q's filters (watch, meeting, type) keep e.
func (q HistoryQuery) Selects(e HistoryEvent) bool { return q.selects(e) }

// Validate reports why s cannot be stored, or nil.
func (s Silence) Validate() error { return s.validate() }

// RequeueRefusal says why the dead letter d can never be requeued (its
// record does not decode, or it was quarantined), or "" when it can.
func RequeueRefusal(d Delivery) string {
	switch {
	case d.Undecodable != "":
		return "its record does not decode"
	case d.Quarantined:
		return "quarantined: its record did not decode"
	}
	return ""
}
