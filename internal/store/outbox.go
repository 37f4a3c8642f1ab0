package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// queue gives the write paths one view of the outbox and the dead letters,
// within one read-write transaction.
type queue struct {
	outbox, dead *bolt.Bucket
}

// openQueue finds the buckets of the queue in tx.
func openQueue(tx *bolt.Tx) (*queue, error) {
	var q queue
	var err error
	if q.outbox, err = bucket(tx, bucketOutbox); err != nil {
		return nil, err
	}
	if q.dead, err = bucket(tx, bucketDead); err != nil {
		return nil, err
	}
	return &q, nil
}

// enqueue adds one delivery of e per notifier, each with a new ID, about
// the meeting of key.
func (q *queue) enqueue(key SnapshotKey, e NewEvent) error {
	for _, n := range e.Notifiers {
		id, err := q.outbox.NextSequence()
		if err != nil {
			return fmt.Errorf("queue event %s for %s: %w", e.ID, n, err)
		}
		d := Delivery{ID: id, Notifier: n, Meeting: key, EventID: e.ID, EventType: e.Type, CreatedAt: e.CreatedAt, Body: e.Body}
		if err := q.put(d); err != nil {
			return fmt.Errorf("queue event %s for %s: %w", e.ID, n, err)
		}
	}
	return nil
}

// put writes d into its notifier's outbox.
func (q *queue) put(d Delivery) error {
	nb, err := q.outbox.CreateBucketIfNotExists([]byte(d.Notifier))
	if err != nil {
		return fmt.Errorf("create outbox of %s: %w", d.Notifier, err)
	}
	v, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	return nb.Put(idKey(d.ID), v)
}

// get returns the outbox delivery id of notifier, or ErrNotFound. A record
// that does not decode comes back with Undecodable set and its bytes as
// Body, for DeadLetter to quarantine.
func (q *queue) get(notifier string, id uint64) (Delivery, error) {
	if notifier == "" {
		return Delivery{}, errors.New("notifier name is empty")
	}
	nb := q.outbox.Bucket([]byte(notifier))
	if nb == nil {
		return Delivery{}, ErrNotFound
	}
	v := nb.Get(idKey(id))
	if v == nil {
		return Delivery{}, ErrNotFound
	}
	d, err := decodeDelivery(id, v)
	if err != nil {
		return Delivery{ID: id, Notifier: notifier, Body: bytes.Clone(v), Undecodable: err.Error()}, nil
	}
	return d, nil
}

// remove deletes the outbox delivery id of notifier.
func (q *queue) remove(notifier string, id uint64) error {
	nb := q.outbox.Bucket([]byte(notifier))
	if nb == nil {
		return nil
	}
	return nb.Delete(idKey(id))
}

// update runs fn on the queue in one read-write transaction of its own.
// Writes that may share a transaction use write (group.go).
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
// last ID of the one before. Pending reads from afterID 0. A record that
// does not decode comes back in its place with Undecodable set, for the
// caller to quarantine with DeadLetter.
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
			d, err := decodeStored(notifier, k, v)
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
			out[string(name)] = ob.Bucket(name).Stats().KeyN
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox depth: %w", err)
	}
	return out, nil
}

// MarkDelivered removes a delivery from the outbox of its notifier once the
// notifier has accepted it. An ID not in that outbox gives ErrNotFound. It
// returns once the removal is on disk; concurrent calls share a
// transaction.
func (s *Store) MarkDelivered(notifier string, id uint64) error {
	err := s.write(func(q *queue) error {
		if _, err := q.get(notifier, id); err != nil {
			return err
		}
		return q.remove(notifier, id)
	})
	if err != nil {
		return fmt.Errorf("mark delivery %d of %s delivered: %w", id, notifier, err)
	}
	return nil
}

// RecordAttempt records a failed attempt of an outbox delivery: the number of
// attempts so far, when to try next, and the error. An ID not in the outbox
// of notifier gives ErrNotFound, and a record that does not decode an error
// (quarantine it with DeadLetter). It returns once the record is on disk;
// concurrent calls share a transaction.
func (s *Store) RecordAttempt(notifier string, id uint64, attempts int, next time.Time, lastErr string) error {
	if attempts < 0 {
		return fmt.Errorf("record attempt of delivery %d: attempts %d is negative", id, attempts)
	}
	err := s.write(func(q *queue) error {
		d, err := q.get(notifier, id)
		if err != nil {
			return err
		}
		if d.Undecodable != "" {
			return errors.New(d.Undecodable)
		}
		d.Attempts, d.NextAttempt, d.LastError = attempts, next, lastErr
		return q.put(d)
	})
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d of %s: %w", id, notifier, err)
	}
	return nil
}
