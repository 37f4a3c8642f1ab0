package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Schema 1 kept each delivery as one JSON object, its body in base64, and
// an index from delivery ID to notifier. Schema 2 keeps the meeting beside
// the body (record.go) and needs no index: its methods take the notifier.

// bucketIndexV1 is schema 1's index bucket, which migrateV1 deletes.
var bucketIndexV1 = []byte("index")

// recordV1 is how schema 1 stored a delivery.
type recordV1 struct {
	Notifier    string    `json:"notifier"`
	EventID     string    `json:"event_id"`
	EventType   string    `json:"event_type"`
	CreatedAt   time.Time `json:"created_at"`
	Body        []byte    `json:"body"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	DeadAt      time.Time `json:"dead_at,omitzero"`
	RequeuedAt  time.Time `json:"requeued_at,omitzero"`
}

// migrateV1 rewrites every delivery of a schema 1 file in schema 2, in the
// transaction of a read-write Open, so that the file is either migrated
// whole or left as it was. The meeting of each delivery comes from its
// body, the event's data.watch and data.meeting_id, as the lanes of schema
// 1 read it; a body that does not name one leaves the meeting zero, which
// orders nothing, as before. A record that does not decode is quarantined
// among the dead letters (see DeadLetter), dead at now.
func migrateV1(tx *bolt.Tx, now time.Time) error {
	q, err := openQueue(tx)
	if err != nil {
		return err
	}
	// The dead letters of schema 1, before the outbox's undecodable records
	// join them.
	deadKeys, err := keysOf(q.dead)
	if err != nil {
		return err
	}
	var notifiers [][]byte
	err = q.outbox.ForEachBucket(func(name []byte) error {
		notifiers = append(notifiers, bytes.Clone(name))
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range notifiers {
		nb := q.outbox.Bucket(name)
		keys, err := keysOf(nb)
		if err != nil {
			return err
		}
		for _, id := range keys {
			v := nb.Get(idKey(id))
			d, err := decodeV1(id, v)
			if err != nil {
				bad := Delivery{ID: id, Notifier: string(name), Body: bytes.Clone(v), Undecodable: err.Error()}
				if err := q.kill(bad, now, "schema 1 record does not decode: "+err.Error()); err != nil {
					return err
				}
				continue
			}
			d.Notifier = string(name)
			if err := q.put(d); err != nil {
				return err
			}
		}
	}
	for _, id := range deadKeys {
		v := q.dead.Get(idKey(id))
		d, err := decodeV1(id, v)
		if err != nil {
			d = Delivery{ID: id, Notifier: "unknown", Body: bytes.Clone(v), Quarantined: true, DeadAt: now,
				LastError: "schema 1 record does not decode: " + err.Error()}
		}
		b, err := encodeDelivery(d)
		if err != nil {
			return err
		}
		if err := q.dead.Put(idKey(id), b); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketIndexV1) != nil {
		if err := tx.DeleteBucket(bucketIndexV1); err != nil {
			return fmt.Errorf("delete schema 1 index: %w", err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, []byte(SchemaVersion))
}

// keysOf returns the delivery IDs of the keys of b.
func keysOf(b *bolt.Bucket) ([]uint64, error) {
	var ids []uint64
	err := b.ForEach(func(k, _ []byte) error {
		id, err := keyID(k)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// decodeV1 parses a schema 1 record, and reads the meeting from its body.
func decodeV1(id uint64, v []byte) (Delivery, error) {
	var r recordV1
	if err := json.Unmarshal(v, &r); err != nil {
		return Delivery{}, err
	}
	var ev struct {
		Data struct {
			Watch     string `json:"watch"`
			MeetingID string `json:"meeting_id"`
		} `json:"data"`
	}
	var meeting SnapshotKey
	if json.Unmarshal(r.Body, &ev) == nil && ev.Data.MeetingID != "" {
		meeting = SnapshotKey{Watch: ev.Data.Watch, MeetingID: ev.Data.MeetingID}
	}
	d := Delivery{
		ID: id, Notifier: r.Notifier, Meeting: meeting, EventID: r.EventID, EventType: r.EventType,
		CreatedAt: r.CreatedAt, Body: r.Body, Attempts: r.Attempts, NextAttempt: r.NextAttempt,
		LastError: r.LastError, DeadAt: r.DeadAt, RequeuedAt: r.RequeuedAt,
	}
	if err := d.validateStored(); err != nil {
		return Delivery{}, err
	}
	return d, nil
}
