package store

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotInHistory is returned, wrapped, by Replay when an event id is not
// in the history: it was never committed, or was pruned.
var ErrNotInHistory = errors.New("not in the history (never committed, or pruned)")

// Replay queues the events ids of the history again for notifier: one new
// outbox delivery each, with the event's id (the webhook-id), type,
// meeting, creation time and body unchanged, requeued at (so that
// delivery.max_age counts from at). It returns the new deliveries' IDs, in
// the order of ids. It is all or nothing: an id that the history does not
// hold gives ErrNotInHistory naming it, and
// queues nothing. Replaying an event still in notifier's outbox queues it
// a second time; the receiver sees the same webhook-id twice.
func (s *Store) Replay(notifier string, at time.Time, ids ...string) ([]uint64, error) {
	switch {
	case notifier == "":
		return nil, errors.New("replay: notifier name is empty")
	case len(ids) == 0:
		return nil, errors.New("replay: no event ids")
	case at.IsZero():
		return nil, errors.New("replay: time is zero")
	}
	var out []uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		h, err := openHistory(tx)
		if err != nil {
			return err
		}
		q, err := openQueue(tx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			k := h.ids.Get([]byte(id))
			var v []byte
			if k != nil {
				v = h.events.Get(k)
			}
			if v == nil {
				return fmt.Errorf("event %s: %w", id, ErrNotInHistory)
			}
			e, err := decodeHistory(k, v, true)
			if err != nil {
				return err
			}
			seq, err := q.outbox.NextSequence()
			if err != nil {
				return err
			}
			d := Delivery{ID: seq, Notifier: notifier, Meeting: e.Meeting, EventID: e.EventID, EventType: e.Type,
				CreatedAt: e.CreatedAt, Body: e.Body, RequeuedAt: at.UTC()}
			if err := q.put(d); err != nil {
				return err
			}
			out = append(out, seq)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay %d events for %s: %w", len(ids), notifier, err)
	}
	return out, nil
}
