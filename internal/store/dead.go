package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DeadLetter moves an outbox delivery to the dead letters, keeping its ID and
// attempts, and records when it died and why. An empty lastErr keeps the last
// error RecordAttempt stored. An ID not in the outbox gives ErrNotFound. It
// returns once the move is on disk; concurrent calls share a transaction.
func (s *Store) DeadLetter(id uint64, at time.Time, lastErr string) error {
	if at.IsZero() {
		return fmt.Errorf("dead-letter delivery %d: time is zero", id)
	}
	err := s.write(func(q *queue) error {
		d, err := q.get(id)
		if err != nil {
			return err
		}
		d.DeadAt = at
		if lastErr != "" {
			d.LastError = lastErr
		}
		v, err := encodeDelivery(d)
		if err != nil {
			return err
		}
		if err := q.remove(d); err != nil {
			return err
		}
		return q.dead.Put(idKey(id), v)
	})
	if err != nil {
		return fmt.Errorf("dead-letter delivery %d: %w", id, err)
	}
	return nil
}

// DeadLetters returns every dead letter in ascending ID order.
func (s *Store) DeadLetters() ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b == nil {
			return nil
		}
		return b.ForEach(appendDecoded(&out))
	})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}

// DeadLetterCount returns how many dead letters there are. It counts keys
// without decoding the deliveries, so it is cheap enough for every metrics
// scrape.
func (s *Store) DeadLetterCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count dead letters: %w", err)
	}
	return n, nil
}

// Requeue moves dead letters back to the outbox of their notifier under the
// same ID, due now, with attempts, last error and time of death cleared and
// RequeuedAt set to at, so that delivery.max_age counts afresh. With no ids
// it moves every dead letter. It is all or nothing: if any ID is not a
// dead letter, it moves none and returns ErrNotFound naming every such ID.
// It returns how many deliveries it moved; an ID given twice counts once.
func (s *Store) Requeue(at time.Time, ids ...uint64) (int, error) {
	moved := 0
	err := s.update(func(q *queue) error {
		want, err := requeueIDs(q.dead, ids)
		if err != nil {
			return err
		}
		for _, id := range want {
			k := idKey(id)
			d, err := decodeDelivery(id, q.dead.Get(k))
			if err != nil {
				return err
			}
			d.Attempts, d.NextAttempt, d.LastError, d.DeadAt = 0, time.Time{}, "", time.Time{}
			d.RequeuedAt = at
			if err := q.dead.Delete(k); err != nil {
				return err
			}
			if err := q.put(d); err != nil {
				return err
			}
			moved++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeue dead letters: %w", err)
	}
	return moved, nil
}

// requeueIDs returns the IDs Requeue moves, sorted and without repeats: ids,
// or every dead letter when ids is empty. It fails with ErrNotFound naming
// every ID that is not a dead letter.
func requeueIDs(dead *bolt.Bucket, ids []uint64) ([]uint64, error) {
	if len(ids) == 0 {
		var all []uint64
		err := dead.ForEach(func(k, _ []byte) error {
			id, err := keyID(k)
			all = append(all, id)
			return err
		})
		return all, err
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	want = slices.Compact(want)
	var missing []string
	for _, id := range want {
		if dead.Get(idKey(id)) == nil {
			missing = append(missing, strconv.FormatUint(id, 10))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	return want, nil
}
