package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// removeChunk is how many dead letters RemoveDeadLetters deletes per
// transaction, so that the writers waiting behind it wait briefly.
const removeChunk = 1000

// RemoveDeadLetters deletes the dead letters that died before cutoff (a
// dead letter that died at cutoff itself stays), quarantined ones
// included, and returns how many it deleted. Records that do not decode
// have no known age and stay. It reads without blocking writers and
// deletes in transactions of removeChunk, so a failure part way keeps what
// it deleted so far; calling it again deletes the rest.
func (s *Store) RemoveDeadLetters(cutoff time.Time) (int, error) {
	var old []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if h, _, err := decodeHeader(v); err == nil && diedBefore(h, cutoff) {
				id, err := keyID(k)
				if err != nil {
					return err
				}
				old = append(old, id)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("remove dead letters: %w", err)
	}
	removed := 0
	for len(old) > 0 {
		chunk := old[:min(len(old), removeChunk)]
		old = old[len(chunk):]
		n := 0
		err := s.update(func(q *queue) error {
			n = 0
			for _, id := range chunk {
				k := idKey(id)
				// Check again: it may have been requeued meanwhile.
				v := q.dead.Get(k)
				if v == nil {
					continue
				}
				if h, _, err := decodeHeader(v); err != nil || !diedBefore(h, cutoff) {
					continue
				}
				if err := q.dead.Delete(k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("remove dead letters: %w", err)
		}
		removed += n
	}
	return removed, nil
}

// diedBefore reports whether the dead letter of h died before cutoff.
func diedBefore(h header, cutoff time.Time) bool {
	return !h.DeadAt.IsZero() && h.DeadAt.Before(cutoff)
}
