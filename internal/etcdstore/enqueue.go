package etcdstore

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Enqueue queues events that are about no meeting, such as the delivery
// worker's notifier.failing and notifier.recovered, as
// *store.Store.Enqueue does: one delivery per notifier name of each event,
// due now, with a zero Meeting, and a history record of each, with the
// notifiers it was queued for and those it was silenced for. An event
// whose id the history already holds (or that an earlier event of the
// call has) is skipped, so queueing it again after a restart or a change
// of leader queues nothing. It returns how many events it queued.
//
// It checks every event first and writes nothing if one is invalid (as
// Commit checks events). The events it queues are written in ONE
// transaction, fenced by the leader's term like every write, on condition
// that the counters and each event's history index are as it read them: a
// deposed leader gets ha.ErrFenced, a history that changed under it
// ha.ErrConflict, and events too large for one transaction ha.ErrTooLarge;
// each time nothing is written.
func (s *Store) Enqueue(events ...store.NewEvent) (int, error) {
	for i, e := range events {
		err := e.Validate()
		for _, n := range e.Notifiers {
			if err == nil {
				err = validNotifier(n)
			}
		}
		if err != nil {
			return 0, fmt.Errorf("enqueue: events[%d]: %w", i, err)
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	m, rev, err := s.readMeta()
	if err != nil {
		return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
	}
	var u unit
	seen := make(map[string]bool, len(events))
	for _, e := range events {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		known, err := s.inHistory(e.ID)
		if err != nil {
			return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
		}
		if known {
			continue
		}
		ops, err := s.eventOps(store.SnapshotKey{}, e, &m)
		if err != nil {
			return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
		}
		u.ops = append(u.ops, ops...)
		u.conds = append(u.conds, unchanged(s.historyIDKey(e.ID), 0))
	}
	if len(u.ops) == 0 {
		return 0, nil
	}
	name := func(int) string { return fmt.Sprintf("%d events", len(u.conds)) }
	if _, err := s.commitCounted([]unit{u}, []meta{m}, rev, name); err != nil {
		return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
	}
	return len(u.conds), nil
}

// inHistory reports whether the history holds an event of id.
func (s *Store) inHistory(id string) (bool, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.historyIDKey(id), clientv3.WithCountOnly())
	if err != nil {
		return false, fmt.Errorf("read history index of %s: %w", id, err)
	}
	return resp.Count > 0, nil
}
