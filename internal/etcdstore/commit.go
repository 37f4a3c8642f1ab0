package etcdstore

import (
	"errors"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Commit writes a batch of updates as *store.Store.Commit does, with one
// difference that etcd's limits impose: the batch is packed into as few
// fenced transactions as fit, each holding whole meetings (a meeting's
// snapshot and every delivery of its events), so a failure part way keeps
// the meetings already written and loses none of their events. It checks
// every update first and writes nothing if one is invalid, or if one
// meeting alone is too large for a transaction (ha.ErrTooLarge, naming the
// meeting). Delivery IDs are taken from the counter in the same
// transactions, ascending in the order of the batch. A deposed leader gets
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
	last, rev, err := s.readNextID()
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	merged := merge(updates)
	units, lastIDs, err := s.commitUnitsOf(merged, last)
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	counter := clientv3.OpPut(s.nextIDKey(), strconv.FormatUint(^uint64(0), 10))
	txns, err := s.pack(units, []clientv3.Op{counter}, func(i int) string { return "meeting " + merged[i].Key.String() })
	if err != nil {
		return fmt.Errorf("commit %d updates: %w", len(updates), err)
	}
	for _, t := range txns {
		var ops []clientv3.Op
		for _, u := range units[t.first:t.last] {
			ops = append(ops, u.ops...)
		}
		top := lastIDs[t.last-1]
		ops = append(ops, clientv3.OpPut(s.nextIDKey(), strconv.FormatUint(top, 10)))
		resp, err := s.commit([]clientv3.Cmp{unchanged(s.nextIDKey(), rev)}, ops...)
		if errors.Is(err, ha.ErrConflict) {
			err = fmt.Errorf("the delivery ID counter moved under this leader (another writer?): %w", err)
		}
		if err != nil {
			return fmt.Errorf("commit %d updates (%d of %d meetings written): %w", len(updates), t.first, len(units), err)
		}
		rev = resp.Header.Revision
	}
	return nil
}

// readNextID returns the last delivery ID issued and the revision of the
// counter (0 when none was issued yet).
func (s *Store) readNextID() (uint64, int64, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.nextIDKey())
	if err != nil {
		return 0, 0, fmt.Errorf("read the delivery ID counter: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, 0, nil
	}
	kv := resp.Kvs[0]
	n, err := strconv.ParseUint(string(kv.Value), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("read the delivery ID counter %s: %w", kv.Key, err)
	}
	return n, kv.ModRevision, nil
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

// commitUnitsOf returns the writes of each merged update, with delivery IDs
// issued after last, and the last ID issued up to each update.
func (s *Store) commitUnitsOf(updates []store.Update, last uint64) ([]unit, []uint64, error) {
	units := make([]unit, len(updates))
	lastIDs := make([]uint64, len(updates))
	for i, u := range updates {
		k := s.snapshotDir(u.Key.Watch) + u.Key.MeetingID
		if u.Delete {
			units[i].ops = append(units[i].ops, clientv3.OpDelete(k))
		} else {
			units[i].ops = append(units[i].ops, clientv3.OpPut(k, string(u.Snapshot)))
		}
		for _, e := range u.Events {
			for _, n := range e.Notifiers {
				last++
				d := store.Delivery{ID: last, Notifier: n, Meeting: u.Key, EventID: e.ID, EventType: e.Type,
					CreatedAt: e.CreatedAt, Body: e.Body}
				v, err := store.EncodeRecord(d)
				if err != nil {
					return nil, nil, err
				}
				units[i].ops = append(units[i].ops,
					clientv3.OpPut(s.outboxKey(n, d.ID), string(v)),
					clientv3.OpPut(s.idKey(d.ID), n))
			}
		}
		lastIDs[i] = last
	}
	return units, lastIDs, nil
}
