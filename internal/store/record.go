package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Delivery is one event to deliver to one notifier, in the outbox or among
// the dead letters. Times come back in UTC.
type Delivery struct {
	ID       uint64 // unique across outbox and dead letters; stable when dead-lettered/requeued
	Notifier string
	// Meeting is the watch and meeting the event is about, as the Update
	// that queued it named them: a notifier gets the events of one meeting
	// in order. Zero for deliveries that schema 1 stored without a meeting
	// the migration could read from their body.
	Meeting     SnapshotKey
	EventID     string
	EventType   string
	CreatedAt   time.Time
	Body        []byte
	Attempts    int
	NextAttempt time.Time // zero: due now
	LastError   string
	DeadAt      time.Time // dead letters only
	// RequeuedAt is when `deliveries retry` last queued it again; the age
	// that delivery.max_age limits counts from here when it is set.
	RequeuedAt time.Time
	// Undecodable says why the stored record does not decode (the file was
	// damaged, or written by something else); only ID and Notifier are set
	// then. DeadLetter quarantines such a record: it becomes a dead letter
	// whose Body holds the record's bytes, which Requeue never moves back.
	Undecodable string
	// Quarantined marks a dead letter made of an undecodable record.
	Quarantined bool
}

// QueuedAt is when the delivery's current run of attempts began: its
// creation, or its last requeue.
func (d Delivery) QueuedAt() time.Time {
	if d.RequeuedAt.After(d.CreatedAt) {
		return d.RequeuedAt
	}
	return d.CreatedAt
}

// header is a stored delivery without its body, as JSON. The ID is the key.
type header struct {
	Notifier    string    `json:"notifier"`
	Watch       string    `json:"watch,omitempty"`
	MeetingID   string    `json:"meeting_id,omitempty"`
	EventID     string    `json:"event_id"`
	EventType   string    `json:"event_type"`
	CreatedAt   time.Time `json:"created_at"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	DeadAt      time.Time `json:"dead_at,omitzero"`
	RequeuedAt  time.Time `json:"requeued_at,omitzero"`
	Quarantined bool      `json:"quarantined,omitempty"`
}

// encodeDelivery returns the stored form of d: the length of its header as
// a uvarint, the header, then the body byte for byte, because the signature
// of a webhook covers the exact bytes. Readers that do not need the body,
// or only the meeting, never copy or parse it.
func encodeDelivery(d Delivery) ([]byte, error) {
	h, err := json.Marshal(header{
		Notifier:    d.Notifier,
		Watch:       d.Meeting.Watch,
		MeetingID:   d.Meeting.MeetingID,
		EventID:     d.EventID,
		EventType:   d.EventType,
		CreatedAt:   d.CreatedAt.UTC(),
		Attempts:    d.Attempts,
		NextAttempt: d.NextAttempt.UTC(),
		LastError:   d.LastError,
		DeadAt:      d.DeadAt.UTC(),
		RequeuedAt:  d.RequeuedAt.UTC(),
		Quarantined: d.Quarantined,
	})
	if err != nil {
		return nil, fmt.Errorf("encode delivery %d: %w", d.ID, err)
	}
	b := make([]byte, 0, binary.MaxVarintLen64+len(h)+len(d.Body))
	b = binary.AppendUvarint(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, d.Body...), nil
}

// decodeDelivery parses a stored record. The result shares no memory with v.
func decodeDelivery(id uint64, v []byte) (Delivery, error) {
	h, body, err := decodeHeader(v)
	if err != nil {
		return Delivery{}, fmt.Errorf("decode delivery %d: %w", id, err)
	}
	d := Delivery{
		ID:          id,
		Notifier:    h.Notifier,
		Meeting:     SnapshotKey{Watch: h.Watch, MeetingID: h.MeetingID},
		EventID:     h.EventID,
		EventType:   h.EventType,
		CreatedAt:   h.CreatedAt,
		Body:        append([]byte(nil), body...),
		Attempts:    h.Attempts,
		NextAttempt: h.NextAttempt,
		LastError:   h.LastError,
		DeadAt:      h.DeadAt,
		RequeuedAt:  h.RequeuedAt,
		Quarantined: h.Quarantined,
	}
	if err := d.validateStored(); err != nil {
		return Delivery{}, fmt.Errorf("decode delivery %d: %w", id, err)
	}
	return d, nil
}

// decodeHeader splits a stored record into its parsed header and its body,
// which it neither parses nor copies.
func decodeHeader(v []byte) (header, []byte, error) {
	var h header
	n, size := binary.Uvarint(v)
	if size <= 0 || n > uint64(len(v)-size) {
		return h, nil, errors.New("header length is cut short or too long")
	}
	if err := json.Unmarshal(v[size:size+int(n)], &h); err != nil {
		return h, nil, err
	}
	return h, v[size+int(n):], nil
}

// validateStored reports what a decoded record lacks that every record this
// package writes has, or nil.
func (d Delivery) validateStored() error {
	switch {
	case d.Notifier == "":
		return errors.New("no notifier")
	case d.Quarantined:
		return nil // the bytes of a record that did not decode, kept as they were
	case d.EventID == "":
		return errors.New("no event id")
	case d.CreatedAt.IsZero():
		return errors.New("no creation time")
	case len(d.Body) == 0:
		return errors.New("no body")
	}
	return nil
}

// decodeStored decodes a key and value of the outbox or the dead letters.
// A value that does not decode gives a Delivery with Undecodable set and
// notifier as its Notifier, not an error: one damaged record must not hide
// the others. Only a key that is not a delivery ID is an error.
func decodeStored(notifier string, k, v []byte) (Delivery, error) {
	id, err := keyID(k)
	if err != nil {
		return Delivery{}, err
	}
	d, err := decodeDelivery(id, v)
	if err != nil {
		return Delivery{ID: id, Notifier: notifier, Undecodable: err.Error()}, nil
	}
	return d, nil
}

// idKey returns the bbolt key of a delivery ID: 8 bytes, big-endian, so that
// keys sort by ID.
func idKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id)
}

// keyID is the inverse of idKey.
func keyID(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("delivery key %x is not 8 bytes", k)
	}
	return binary.BigEndian.Uint64(k), nil
}
