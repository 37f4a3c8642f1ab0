package etcdstore

import (
	"encoding/hex"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Commit writes a batch of updates as *store.Store.Commit does, with one
// difference that etcd's limits impose: the batch is packed into as few
// fenced transactions as fit, each holding whole meetings (a meeting's
// snapshot, every delivery of its events and their history records), so a
// failure part way keeps
// the meetings already written and loses none of their events. It checks
// every update first and writes nothing if one is invalid, or if one
// meeting alone is too large for a transaction (ha.ErrTooLarge, naming the
// meeting). Delivery IDs and history sequences are taken from the
// counters in the same transactions, ascending in the order of the batch. A deposed leader gets
// ha.ErrFenced and writes nothing.
func (s *Store) Commit(updates []store.Update) error {
	if len(updates) == 0 {
		return nil
	}
	for i, u := range updates {
		err := u.Validate()
		for _, e := range u.Events {
			for _, n := range e.Notifiers {
				if err == nil {
					err = validNotifier(n)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("commit: updates[%d] (%s): %w", i, u.Key, err)
		}
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	m, rev, err := s.readMeta()
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	merged := merge(updates)
	units, metas, err := s.commitUnitsOf(merged, m)
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	n, err := s.commitCounted(units, metas, rev, func(i int) string { return "meeting " + merged[i].Key.String() })
	if err != nil {
		return fmt.Errorf("commit %d updates (%d of %d meetings written): %w", len(updates), n, len(units), err)
	}
	return nil
}

// merge returns the updates with those of one key merged into one, at the
// place of the first: the last snapshot (or delete) wins and the events
// follow in order, as later updates of a key win in *store.Store. etcd
// refuses a transaction that writes a key twice.
func merge(updates []store.Update) []store.Update {
	at := make(map[store.SnapshotKey]int, len(updates))
	var out []store.Update
	for _, u := range updates {
		i, ok := at[u.Key]
		if !ok {
			at[u.Key] = len(out)
			out = append(out, store.Update{Key: u.Key, Snapshot: u.Snapshot, Delete: u.Delete,
				Events: append([]store.NewEvent(nil), u.Events...)})
			continue
		}
		out[i].Snapshot, out[i].Delete = u.Snapshot, u.Delete
		out[i].Events = append(out[i].Events, u.Events...)
	}
	return out
}

// commitUnitsOf returns the writes of each merged update, with delivery
// IDs and history sequences issued after m, and the counters as they stand
// after each update.
func (s *Store) commitUnitsOf(updates []store.Update, m meta) ([]unit, []meta, error) {
	units := make([]unit, len(updates))
	metas := make([]meta, len(updates))
	for i, u := range updates {
		k := s.snapshotDir(u.Key.Watch) + u.Key.MeetingID
		if u.Delete {
			units[i].ops = append(units[i].ops, clientv3.OpDelete(k))
		} else {
			units[i].ops = append(units[i].ops, clientv3.OpPut(k, string(u.Snapshot)))
		}
		for _, e := range u.Events {
			ops, err := s.eventOps(u.Key, e, &m)
			if err != nil {
				return nil, nil, err
			}
			units[i].ops = append(units[i].ops, ops...)
		}
		metas[i] = m
	}
	return units, metas, nil
}

// eventOps returns the writes that queue e for meeting key: a delivery
// and its index per notifier, with IDs issued from m, and the event's
// history record and its index, with a sequence issued from m; m then
// counts the record in the history's size.
func (s *Store) eventOps(key store.SnapshotKey, e store.NewEvent, m *meta) ([]clientv3.Op, error) {
	ops := make([]clientv3.Op, 0, 2*len(e.Notifiers)+2)
	for _, n := range e.Notifiers {
		m.NextID++
		d := store.Delivery{ID: m.NextID, Notifier: n, Meeting: key, EventID: e.ID, EventType: e.Type,
			CreatedAt: e.CreatedAt, Body: e.Body}
		v, err := store.EncodeRecord(d)
		if err != nil {
			return nil, err
		}
		ops = append(ops, clientv3.OpPut(s.outboxKey(n, d.ID), string(v)), clientv3.OpPut(s.idKey(d.ID), n))
	}
	m.HistorySeq++
	hk := store.HistoryKey(e.CreatedAt, m.HistorySeq)
	v, err := store.EncodeHistory(key, e)
	if err != nil {
		return nil, err
	}
	cursor := hex.EncodeToString(hk)
	ops = append(ops, clientv3.OpPut(s.historyKey(cursor), string(v)), clientv3.OpPut(s.historyIDKey(e.ID), cursor))
	m.HistoryEvents++
	m.HistoryBytes += int64(len(hk) + len(v))
	return ops, nil
}
