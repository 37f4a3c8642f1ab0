package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSilences holds the ad hoc silences: silences/<id: 8 bytes> → JSON.
// IDs come from the bucket's sequence and are never reused.
var bucketSilences = []byte("silences")

// Silence is an ad hoc silence as the store keeps it: from Start until End
// (exclusive), the events of Watch are not delivered to Notifier (to any
// notifier when it is empty). What that means is package silence's
// business; the store only keeps them. Times come back in UTC.
type Silence struct {
	ID       uint64    `json:"id"`
	Watch    string    `json:"watch"`
	Notifier string    `json:"notifier,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Reason   string    `json:"reason,omitempty"`
}

// validate reports why s cannot be stored, or nil.
func (s Silence) validate() error {
	if err := validateWatch(s.Watch); err != nil {
		return err
	}
	switch {
	case s.Start.IsZero() || s.End.IsZero():
		return errors.New("start or end is zero")
	case !s.End.After(s.Start):
		return fmt.Errorf("end %s is not after start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	return nil
}

// AddSilence stores s under a new ID, which it returns; s.ID is ignored.
func (s *Store) AddSilence(sil Silence) (uint64, error) {
	if err := sil.validate(); err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketSilences)
		if err != nil {
			return err
		}
		if sil.ID, err = b.NextSequence(); err != nil {
			return err
		}
		sil.Start, sil.End = sil.Start.UTC(), sil.End.UTC()
		v, err := json.Marshal(sil)
		if err != nil {
			return err
		}
		return b.Put(idKey(sil.ID), v)
	})
	if err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	return sil.ID, nil
}

// Silences returns every stored silence, expired ones until they are
// pruned, in ascending ID order. A record that does not decode is an error
// naming it.
func (s *Store) Silences() ([]Silence, error) {
	var out []Silence
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSilences)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var sil Silence
			if err := json.Unmarshal(v, &sil); err != nil {
				return fmt.Errorf("silence %x: %w", k, err)
			}
			out = append(out, sil)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return out, nil
}

// ErrNoSilence is returned, wrapped, by RemoveSilence when no silence has
// the ID (it never existed, was removed, or expired and was pruned).
var ErrNoSilence = errors.New("no such silence")

// RemoveSilence deletes the silence id, or fails with ErrNoSilence.
func (s *Store) RemoveSilence(id uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketSilences)
		if err != nil {
			return err
		}
		if b.Get(idKey(id)) == nil {
			return fmt.Errorf("silence %d: %w", id, ErrNoSilence)
		}
		return b.Delete(idKey(id))
	})
	if err != nil {
		return fmt.Errorf("remove silence: %w", err)
	}
	return nil
}

// PruneSilences deletes the silences that ended at or before now, and
// returns how many.
func (s *Store) PruneSilences(now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b, err := bucket(tx, bucketSilences)
		if err != nil {
			return err
		}
		var ended [][]byte
		err = b.ForEach(func(k, v []byte) error {
			var sil Silence
			if json.Unmarshal(v, &sil) == nil && !sil.End.After(now) {
				ended = append(ended, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range ended {
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune silences: %w", err)
	}
	return n, nil
}
