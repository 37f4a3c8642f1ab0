package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Enqueue queues events that are about no meeting, such as the daemon's
// own notifier.failing: one delivery per notifier name of each event, due
// now, as Commit queues them but without a snapshot and with a zero
// Meeting (so the worker orders them by nothing but their IDs), and
// records each in the history as Commit does. An event whose id the
// history already holds is skipped: queueing an event again under the same
// id, after a restart, say, queues nothing while the history keeps it. It
// returns how many events it queued.
//
// It writes all of them in one transaction or none, and checks every event
// first: one without ID, type, creation time or body, or with an empty or
// repeated notifier name, is an error and nothing is written.
func (s *Store) Enqueue(events ...NewEvent) (int, error) {
	for i, e := range events {
		if err := e.validate(); err != nil {
			return 0, fmt.Errorf("enqueue: events[%d]: %w", i, err)
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		q, err := openQueue(tx)
		if err != nil {
			return err
		}
		h, err := openHistory(tx)
		if err != nil {
			return err
		}
		for _, e := range events {
			if h.ids.Get([]byte(e.ID)) != nil {
				continue
			}
			if err := q.enqueue(SnapshotKey{}, e); err != nil {
				return err
			}
			if err := h.add(SnapshotKey{}, e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
	}
	return n, nil
}
