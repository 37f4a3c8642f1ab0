package store

import (
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// OutboxAfter returns the pending deliveries of every notifier with an ID
// above afterID, in ascending ID order (the order the events were
// committed), at most limit of them (all when limit <= 0), so that a reader
// can page through the outbox: each page starts after the last ID of the
// one before. It merges the notifiers' outboxes as it reads them and holds
// no more than the page. A record that does not decode comes back in its
// place with Undecodable set.
func (s *Store) OutboxAfter(afterID uint64, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		if ob == nil || afterID == math.MaxUint64 {
			return nil
		}
		// One cursor per notifier, each at its next delivery.
		type head struct {
			notifier string
			c        *bolt.Cursor
			k, v     []byte
		}
		var heads []*head
		err := ob.ForEachBucket(func(name []byte) error {
			c := ob.Bucket(name).Cursor()
			k, v := c.Seek(idKey(afterID + 1))
			if k != nil {
				heads = append(heads, &head{notifier: string(name), c: c, k: k, v: v})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for len(heads) > 0 && (limit <= 0 || len(out) < limit) {
			first := 0
			for i, h := range heads {
				if string(h.k) < string(heads[first].k) {
					first = i
				}
			}
			h := heads[first]
			d, err := decodeStored(h.notifier, h.k, h.v)
			if err != nil {
				return err
			}
			out = append(out, d)
			if h.k, h.v = h.c.Next(); h.k == nil {
				heads = append(heads[:first], heads[first+1:]...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// DeadLettersAfter returns the dead letters with an ID above afterID in
// ascending ID order, at most limit of them (all when limit <= 0), so that
// a reader can page through them: each page starts after the last ID of
// the one before. A record that does not decode comes back in its place
// with Undecodable set.
func (s *Store) DeadLettersAfter(afterID uint64, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b == nil || afterID == math.MaxUint64 {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(idKey(afterID + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			d, err := decodeStored("", k, v)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}
