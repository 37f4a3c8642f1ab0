package store

import (
	"fmt"
	"slices"
)

// Combined is what a delivery made of several says of itself: the event id
// and type it is listed under, and the body sent for all of them.
type Combined struct {
	EventID   string
	EventType string
	Body      []byte
}

// Combine replaces the outbox deliveries ids of notifier (two or more) by
// one delivery, in one transaction: all of them or none. The new delivery
// takes the lowest of the IDs, so it keeps the place of the first in the
// outbox's order; the meeting, creation and requeue times of that first
// one; c's event id, type and body; and no attempts. The others leave the
// outbox. It is how a notifier that groups events makes a group's
// membership and content durable before its first attempt, so that a
// retry, a restart or a crash between sending and MarkDelivered sends the
// same group again.
//
// An ID not in that outbox gives ErrNotFound, as does one whose record
// does not decode (quarantine it with DeadLetter first).
func (s *Store) Combine(notifier string, ids []uint64, c Combined) (Delivery, error) {
	ids, err := CombineIDs(notifier, ids, c)
	if err != nil {
		return Delivery{}, err
	}
	var out Delivery
	err = s.update(func(q *queue) error {
		var first Delivery
		for i, id := range ids {
			d, err := q.get(notifier, id)
			if err != nil {
				return err
			}
			if d.Undecodable != "" {
				return fmt.Errorf("delivery %d does not decode: %w", id, ErrNotFound)
			}
			if i == 0 {
				first = d
			}
			if err := q.remove(notifier, id); err != nil {
				return err
			}
		}
		out = Delivery{
			ID: first.ID, Notifier: notifier, Meeting: first.Meeting,
			EventID: c.EventID, EventType: c.EventType, CreatedAt: first.CreatedAt, RequeuedAt: first.RequeuedAt,
			Body: slices.Clone(c.Body),
		}
		return q.put(out)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("combine deliveries %v of %s: %w", ids, notifier, err)
	}
	return out, nil
}

// CombineIDs checks a request to Combine: two or more distinct IDs, and
// the combined event's id, type and body. It returns the IDs ascending.
func CombineIDs(notifier string, ids []uint64, c Combined) ([]uint64, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	switch {
	case len(ids) < 2 || len(slices.Compact(slices.Clone(ids))) != len(ids):
		return nil, fmt.Errorf("combine deliveries %v of %s: want two or more distinct IDs", ids, notifier)
	case c.EventID == "" || c.EventType == "" || len(c.Body) == 0:
		return nil, fmt.Errorf("combine deliveries %v of %s: the combined event id, type and body are required", ids, notifier)
	}
	return ids, nil
}
