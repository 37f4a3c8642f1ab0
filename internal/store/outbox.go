package store

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Delivery is one event to deliver to one notifier, in the outbox or among
// the dead letters. Times come back in UTC.
type Delivery struct {
	ID          uint64 // unique across outbox and dead letters; stable when dead-lettered/requeued
	Notifier    string
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
}

// QueuedAt is when the delivery's current run of attempts began: its
// creation, or its last requeue.
func (d Delivery) QueuedAt() time.Time {
	if d.RequeuedAt.After(d.CreatedAt) {
		return d.RequeuedAt
	}
	return d.CreatedAt
}

// record is how a Delivery is stored: JSON, the ID being the key. Body is
// kept byte for byte (base64 in the JSON), because the signature of a
// webhook covers the exact bytes.
type record struct {
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

// encodeDelivery returns the stored form of d.
func encodeDelivery(d Delivery) ([]byte, error) {
	b, err := json.Marshal(record{
		Notifier:    d.Notifier,
		EventID:     d.EventID,
		EventType:   d.EventType,
		CreatedAt:   d.CreatedAt.UTC(),
		Body:        d.Body,
		Attempts:    d.Attempts,
		NextAttempt: d.NextAttempt.UTC(),
		LastError:   d.LastError,
		DeadAt:      d.DeadAt.UTC(),
		RequeuedAt:  d.RequeuedAt.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode delivery %d: %w", d.ID, err)
	}
	return b, nil
}

// decodeDelivery parses a stored record. The result shares no memory with v.
func decodeDelivery(id uint64, v []byte) (Delivery, error) {
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return Delivery{}, fmt.Errorf("decode delivery %d: %w", id, err)
	}
	return Delivery{
		ID:          id,
		Notifier:    r.Notifier,
		EventID:     r.EventID,
		EventType:   r.EventType,
		CreatedAt:   r.CreatedAt,
		Body:        r.Body,
		Attempts:    r.Attempts,
		NextAttempt: r.NextAttempt,
		LastError:   r.LastError,
		DeadAt:      r.DeadAt,
		RequeuedAt:  r.RequeuedAt,
	}, nil
}

// appendDecoded returns a bucket visitor that decodes each delivery onto
// out.
func appendDecoded(out *[]Delivery) func(k, v []byte) error {
	return func(k, v []byte) error {
		d, err := decodeStored(k, v)
		if err != nil {
			return err
		}
		*out = append(*out, d)
		return nil
	}
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

// queue gives the write paths one view of the outbox, its index and the dead
// letters, within one read-write transaction.
type queue struct {
	outbox, index, dead *bolt.Bucket
}

// openQueue finds the buckets of the queue in tx.
func openQueue(tx *bolt.Tx) (*queue, error) {
	var q queue
	var err error
	if q.outbox, err = bucket(tx, bucketOutbox); err != nil {
		return nil, err
	}
	if q.index, err = bucket(tx, bucketIndex); err != nil {
		return nil, err
	}
	if q.dead, err = bucket(tx, bucketDead); err != nil {
		return nil, err
	}
	return &q, nil
}

// enqueue adds one delivery of e per notifier, each with a new ID.
func (q *queue) enqueue(e NewEvent) error {
	for _, n := range e.Notifiers {
		id, err := q.outbox.NextSequence()
		if err != nil {
			return fmt.Errorf("queue event %s for %s: %w", e.ID, n, err)
		}
		d := Delivery{ID: id, Notifier: n, EventID: e.ID, EventType: e.Type, CreatedAt: e.CreatedAt, Body: e.Body}
		if err := q.put(d); err != nil {
			return fmt.Errorf("queue event %s for %s: %w", e.ID, n, err)
		}
	}
	return nil
}

// put writes d into its notifier's outbox and the index.
func (q *queue) put(d Delivery) error {
	nb, err := q.outbox.CreateBucketIfNotExists([]byte(d.Notifier))
	if err != nil {
		return fmt.Errorf("create outbox of %s: %w", d.Notifier, err)
	}
	v, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	k := idKey(d.ID)
	if err := nb.Put(k, v); err != nil {
		return err
	}
	return q.index.Put(k, []byte(d.Notifier))
}

// get returns the outbox delivery id, or ErrNotFound.
func (q *queue) get(id uint64) (Delivery, error) {
	k := idKey(id)
	n := q.index.Get(k)
	if n == nil {
		return Delivery{}, ErrNotFound
	}
	nb := q.outbox.Bucket(n)
	if nb == nil {
		return Delivery{}, fmt.Errorf("index names notifier %q, which has no outbox", n)
	}
	v := nb.Get(k)
	if v == nil {
		return Delivery{}, fmt.Errorf("index names notifier %q, whose outbox lacks the delivery", n)
	}
	return decodeDelivery(id, v)
}

// remove deletes the outbox delivery d and its index entry.
func (q *queue) remove(d Delivery) error {
	k := idKey(d.ID)
	if nb := q.outbox.Bucket([]byte(d.Notifier)); nb != nil {
		if err := nb.Delete(k); err != nil {
			return err
		}
	}
	return q.index.Delete(k)
}

// update runs fn on the queue in one read-write transaction.
func (s *Store) update(fn func(q *queue) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		q, err := openQueue(tx)
		if err != nil {
			return err
		}
		return fn(q)
	})
}

// Pending returns the outbox of one notifier in ascending ID order (the order
// the events were committed), at most limit deliveries, or all of them when
// limit <= 0. A notifier with nothing queued, or never seen, has an empty
// outbox. Deliveries whose NextAttempt lies in the future are included: the
// caller decides what is due.
func (s *Store) Pending(notifier string, limit int) ([]Delivery, error) {
	return s.PendingAfter(notifier, 0, limit)
}

// PendingAfter is Pending for the deliveries with an ID above afterID only,
// so that a reader can page through an outbox: each page starts after the
// last ID of the one before. Pending reads from afterID 0.
func (s *Store) PendingAfter(notifier string, afterID uint64, limit int) ([]Delivery, error) {
	if notifier == "" {
		return nil, errors.New("read outbox: notifier name is empty")
	}
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		if ob == nil || afterID == math.MaxUint64 {
			return nil
		}
		nb := ob.Bucket([]byte(notifier))
		if nb == nil {
			return nil
		}
		c := nb.Cursor()
		for k, v := c.Seek(idKey(afterID + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			d, err := decodeStored(k, v)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", notifier, err)
	}
	return out, nil
}

// decodeStored decodes a key and value of the outbox or the dead letters.
func decodeStored(k, v []byte) (Delivery, error) {
	id, err := keyID(k)
	if err != nil {
		return Delivery{}, err
	}
	return decodeDelivery(id, v)
}

// Outbox returns every pending delivery of every notifier, in ascending ID
// order.
func (s *Store) Outbox() ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		if ob == nil {
			return nil
		}
		return ob.ForEachBucket(func(name []byte) error {
			return ob.Bucket(name).ForEach(appendDecoded(&out))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// OutboxDepth returns how many deliveries each notifier has pending. Every
// notifier that ever had a delivery appears, with 0 once its outbox is empty,
// so a gauge fed from it falls back to zero.
func (s *Store) OutboxDepth() (map[string]int, error) {
	out := make(map[string]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		if ob == nil {
			return nil
		}
		return ob.ForEachBucket(func(name []byte) error {
			n := 0
			c := ob.Bucket(name).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				n++
			}
			out[string(name)] = n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox depth: %w", err)
	}
	return out, nil
}

// MarkDelivered removes a delivery from the outbox once its notifier has
// accepted it. An ID not in the outbox gives ErrNotFound. It returns once the
// removal is on disk; concurrent calls share a transaction.
func (s *Store) MarkDelivered(id uint64) error {
	err := s.write(func(q *queue) error {
		d, err := q.get(id)
		if err != nil {
			return err
		}
		return q.remove(d)
	})
	if err != nil {
		return fmt.Errorf("mark delivery %d delivered: %w", id, err)
	}
	return nil
}

// RecordAttempt records a failed attempt of an outbox delivery: the number of
// attempts so far, when to try next, and the error. An ID not in the outbox
// gives ErrNotFound. It returns once the record is on disk; concurrent calls
// share a transaction.
func (s *Store) RecordAttempt(id uint64, attempts int, next time.Time, lastErr string) error {
	if attempts < 0 {
		return fmt.Errorf("record attempt of delivery %d: attempts %d is negative", id, attempts)
	}
	err := s.write(func(q *queue) error {
		d, err := q.get(id)
		if err != nil {
			return err
		}
		d.Attempts, d.NextAttempt, d.LastError = attempts, next, lastErr
		return q.put(d)
	})
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d: %w", id, err)
	}
	return nil
}
