package store

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// NewEvent is an event to deliver, as Commit takes it: one delivery is
// queued per notifier name.
type NewEvent struct {
	ID        string    // event id, becomes the webhook-id
	Type      string    // event type, for listings and filters
	CreatedAt time.Time // for delivery.max_age
	Body      []byte    // the event JSON, sent as is
	Notifiers []string  // one delivery per notifier name
	// Silenced are the notifiers a silence holds the event from: the
	// history records them, nothing is queued for them.
	Silenced []string
}

// validate reports why e cannot be queued, or nil.
func (e NewEvent) validate() error {
	switch {
	case e.ID == "":
		return errors.New("event id is empty")
	case e.Type == "":
		return fmt.Errorf("event %s: type is empty", e.ID)
	case e.CreatedAt.IsZero():
		return fmt.Errorf("event %s: created-at time is zero", e.ID)
	case len(e.Body) == 0:
		return fmt.Errorf("event %s: body is empty", e.ID)
	}
	seen := make(map[string]bool, len(e.Notifiers))
	for i, n := range e.Notifiers {
		if n == "" {
			return fmt.Errorf("event %s: notifiers[%d] is empty", e.ID, i)
		}
		if seen[n] {
			return fmt.Errorf("event %s: notifier %q is listed twice", e.ID, n)
		}
		seen[n] = true
	}
	for i, n := range e.Silenced {
		if n == "" {
			return fmt.Errorf("event %s: silenced[%d] is empty", e.ID, i)
		}
		if seen[n] {
			return fmt.Errorf("event %s: notifier %q is listed twice", e.ID, n)
		}
		seen[n] = true
	}
	return nil
}

// Update is what one poll of one meeting changes: its snapshot, and the
// events that the change implies.
type Update struct {
	Key      SnapshotKey
	Snapshot []byte // the next snapshot; nil with Delete
	Delete   bool   // remove the snapshot (e.g. a watch removed)
	Events   []NewEvent
}

// validate reports why u cannot be committed, or nil.
func (u Update) validate() error {
	if err := u.Key.validate(); err != nil {
		return err
	}
	switch {
	case u.Delete && u.Snapshot != nil:
		return errors.New("delete with a snapshot")
	case !u.Delete && len(u.Snapshot) == 0:
		return errors.New("snapshot is empty (set Delete to remove it)")
	}
	for _, e := range u.Events {
		if err := e.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Commit writes a batch of updates in ONE bbolt transaction: every snapshot
// is written or deleted, and every event gets one outbox delivery per
// notifier, with no attempts yet and due now, and is recorded in the
// history (history.go) with the notifiers it was queued for and those it
// was silenced for. An event with no notifiers queues nothing but is
// recorded all the same. Either all of it is on disk when Commit returns nil, or
// none of it is.
//
// Commit checks every update first and writes nothing if one is invalid: an
// empty or NUL-containing watch name, an empty meeting ID, a missing snapshot
// (or one given with Delete), an event without ID, type, creation time or
// body, or an empty or repeated notifier name (in Notifiers and Silenced
// together). A write error (a full disk,
// say) rolls the transaction back and is returned; what earlier commits wrote
// stays intact. Later updates of the same key in one batch win. Commit keeps
// no reference to the caller's slices once it returns.
func (s *Store) Commit(updates []Update) error {
	if len(updates) == 0 {
		return nil
	}
	for i, u := range updates {
		if err := u.validate(); err != nil {
			return fmt.Errorf("commit: updates[%d] (%s): %w", i, u.Key, err)
		}
	}
	// The mirror must take the commits in the order the file did: bbolt
	// runs one write at a time, and this lock keeps each commit's change
	// to the mirror with its transaction.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		snaps, err := bucket(tx, bucketSnapshots)
		if err != nil {
			return err
		}
		q, err := openQueue(tx)
		if err != nil {
			return err
		}
		h, err := openHistory(tx)
		if err != nil {
			return err
		}
		for _, u := range updates {
			if u.Delete {
				err = snaps.Delete(u.Key.bytes())
			} else {
				err = snaps.Put(u.Key.bytes(), u.Snapshot)
			}
			if err != nil {
				return fmt.Errorf("write snapshot %s: %w", u.Key, err)
			}
			for _, e := range u.Events {
				if err := q.enqueue(u.Key, e); err != nil {
					return err
				}
				if err := h.add(u.Key, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	s.mirror.apply(updates)
	return nil
}
