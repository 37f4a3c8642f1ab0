package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DeadLetter moves an outbox delivery of notifier to the dead letters,
// keeping its ID and attempts, and records when it died and why. An empty
// lastErr keeps the last error RecordAttempt stored. A record that does not
// decode is quarantined: it becomes a dead letter with Quarantined set, its
// stored bytes as Body and lastErr (or why it does not decode) as its last
// error. An ID not in that outbox gives ErrNotFound. It returns once the
// move is on disk; concurrent calls share a transaction.
func (s *Store) DeadLetter(notifier string, id uint64, at time.Time, lastErr string) error {
	if at.IsZero() {
		return fmt.Errorf("dead-letter delivery %d: time is zero", id)
	}
	err := s.write(func(q *queue) error {
		d, err := q.get(notifier, id)
		if err != nil {
			return err
		}
		return q.kill(d, at, lastErr)
	})
	if err != nil {
		return fmt.Errorf("dead-letter delivery %d of %s: %w", id, notifier, err)
	}
	return nil
}

// kill moves the outbox delivery d to the dead letters, as DeadLetter
// describes.
func (q *queue) kill(d Delivery, at time.Time, lastErr string) error {
	d = Killed(d, at, lastErr)
	v, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	if err := q.remove(d.Notifier, d.ID); err != nil {
		return err
	}
	return q.dead.Put(idKey(d.ID), v)
}

// retireChunk is how many deliveries DeadLetterAll moves per transaction.
const retireChunk = 1000

// DeadLetterAll moves every outbox delivery of notifier to the dead
// letters, with reason as their last error, as DeadLetter would one by one
// (quarantining those that do not decode), and returns how many it moved.
// It is for a notifier that is no longer configured. It moves them in
// transactions of retireChunk deliveries, so a failure part way keeps the
// chunks already moved; calling it again moves the rest.
func (s *Store) DeadLetterAll(notifier string, at time.Time, reason string) (int, error) {
	if notifier == "" {
		return 0, errors.New("dead-letter outbox: notifier name is empty")
	}
	if at.IsZero() {
		return 0, fmt.Errorf("dead-letter outbox of %s: time is zero", notifier)
	}
	moved := 0
	for {
		n := 0
		err := s.update(func(q *queue) error {
			nb := q.outbox.Bucket([]byte(notifier))
			if nb == nil {
				return nil
			}
			var ids []uint64
			c := nb.Cursor()
			for k, _ := c.First(); k != nil && len(ids) < retireChunk; k, _ = c.Next() {
				id, err := keyID(k)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			for _, id := range ids {
				d, err := q.get(notifier, id)
				if err != nil {
					return err
				}
				if err := q.kill(d, at, reason); err != nil {
					return err
				}
			}
			n = len(ids)
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("dead-letter outbox of %s: %w", notifier, err)
		}
		moved += n
		if n < retireChunk {
			return moved, nil
		}
	}
}

// DeadLetterCount returns how many dead letters there are. It counts keys
// without decoding the deliveries, so it is cheap enough for every metrics
// scrape.
func (s *Store) DeadLetterCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketDead); b != nil {
			n = b.Stats().KeyN
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
// it moves every dead letter but the quarantined ones (and those that do
// not decode), which can never be delivered. It is all or nothing: if any
// ID is not a dead letter, or one that cannot be delivered, it moves none
// and returns ErrNotFound naming every such ID. It returns how many
// deliveries it moved; an ID given twice counts once.
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
			d = Requeued(d, at)
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

// requeueIDs returns the IDs of the dead letters Requeue moves, ascending
// and without repeats: ids, or every dead letter that can be delivered when
// ids is empty. It fails with ErrNotFound naming every ID that is not a
// dead letter that can be delivered.
func requeueIDs(dead *bolt.Bucket, ids []uint64) ([]uint64, error) {
	var out []uint64
	if len(ids) == 0 {
		err := dead.ForEach(func(k, v []byte) error {
			d, err := decodeStored("", k, v)
			if err == nil && RequeueRefusal(d) == "" {
				out = append(out, d.ID)
			}
			return err
		})
		return out, err
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	want = slices.Compact(want)
	var missing []string
	for _, id := range want {
		v := dead.Get(idKey(id))
		if v == nil {
			missing = append(missing, strconv.FormatUint(id, 10))
			continue
		}
		if why := RequeueRefusal(DecodeRecord("", id, v)); why != "" {
			missing = append(missing, fmt.Sprintf("%d (%s)", id, why))
			continue
		}
		out = append(out, id)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	return out, nil
}
