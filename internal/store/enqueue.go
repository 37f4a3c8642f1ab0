package store

import (
	"fmt"
)

// Enqueue queues events that are about no meeting, such as the daemon's
// own notifier.failing: one delivery per notifier name of each event, due
// now, as Commit queues them but without a snapshot and with a zero
// Meeting (so the worker orders them by nothing but their IDs). It writes
// all of them in one transaction or none, and checks every event first:
// one without ID, type, creation time or body, or with an empty or
// repeated notifier name, is an error and nothing is written.
func (s *Store) Enqueue(events ...NewEvent) error {
	for i, e := range events {
		if err := e.validate(); err != nil {
			return fmt.Errorf("enqueue: events[%d]: %w", i, err)
		}
	}
	if len(events) == 0 {
		return nil
	}
	err := s.update(func(q *queue) error {
		for _, e := range events {
			if err := q.enqueue(SnapshotKey{}, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue %d events: %w", len(events), err)
	}
	return nil
}
