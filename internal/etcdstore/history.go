package etcdstore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// History returns the events of the history that q selects, oldest first,
// as *store.Store.History does: it starts at q.Since (or past q.After)
// and pages through the history with the same cursors.
func (s *Store) History(q store.HistoryQuery) ([]store.HistoryEvent, error) {
	var start []byte
	if !q.Since.IsZero() {
		start = store.HistoryKey(q.Since, 0)
	}
	if q.After != "" {
		after, err := hex.DecodeString(q.After)
		if err != nil || len(after) != 16 {
			return nil, fmt.Errorf("read history: after %q: %w", q.After, store.ErrCursor)
		}
		next := store.HistoryKeyAfter(after)
		if next == nil {
			return nil, nil
		}
		if string(next) > string(start) {
			start = next
		}
	}
	dir := s.prefix + dirHistory
	var out []store.HistoryEvent
	var derr error
	err := s.rangeAll(dir+hex.EncodeToString(start), prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		e, err := decodeHistory(kv, len(dir), true)
		if err != nil {
			derr = err
			return false
		}
		if q.Selects(e) {
			out = append(out, e)
		}
		return q.Limit <= 0 || len(out) < q.Limit
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return out, nil
}

// decodeHistory decodes a history key and record; the key's last part,
// after skip bytes, is the cursor.
func decodeHistory(kv *mvccpb.KeyValue, skip int, body bool) (store.HistoryEvent, error) {
	k, err := hex.DecodeString(string(kv.Key[skip:]))
	if err != nil || len(k) != 16 {
		return store.HistoryEvent{}, fmt.Errorf("history key %q is not a cursor", kv.Key)
	}
	return store.DecodeHistory(k, kv.Value, body)
}

// HistorySize returns how many events the history holds and their bytes,
// as the counters say.
func (s *Store) HistorySize() (events, size int64, err error) {
	m, _, err := s.readMeta()
	if err != nil {
		return 0, 0, fmt.Errorf("read history size: %w", err)
	}
	return m.HistoryEvents, m.HistoryBytes, nil
}

// pruneChunk is how many history events one PruneHistory pass removes.
const pruneChunk = 1000

// PruneHistory removes events from the history, oldest first, while one is
// older than b.Cutoff or the history holds more than b.MaxEvents events or
// b.MaxBytes bytes, and returns how many it removed, as
// *store.Store.PruneHistory does.
func (s *Store) PruneHistory(b store.HistoryBounds) (int, error) {
	removed := 0
	for {
		n, err := s.pruneHistory(b)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("prune history: %w", err)
		}
		if n < pruneChunk {
			return removed, nil
		}
	}
}

// pruneHistory removes up to pruneChunk events, as PruneHistory says.
func (s *Store) pruneHistory(b store.HistoryBounds) (int, error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	m, rev, err := s.readMeta()
	if err != nil {
		return 0, err
	}
	dir := s.prefix + dirHistory
	var units []unit
	var metas []meta
	var derr error
	err = s.rangeAll(dir, prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		cursor := string(kv.Key[len(dir):])
		k, err := hex.DecodeString(cursor)
		if err != nil || len(k) != 16 {
			derr = fmt.Errorf("history key %q is not a cursor", kv.Key)
			return false
		}
		old := store.HistoryKeyTime(k).Before(b.Cutoff)
		if !old && (b.MaxEvents <= 0 || m.HistoryEvents <= b.MaxEvents) && (b.MaxBytes <= 0 || m.HistoryBytes <= b.MaxBytes) {
			return false
		}
		u := unit{ops: []clientv3.Op{clientv3.OpDelete(string(kv.Key))}, conds: []clientv3.Cmp{unchanged(string(kv.Key), kv.ModRevision)}}
		if e, err := store.DecodeHistory(k, kv.Value, false); err == nil {
			// The event's index, unless a later record took it over.
			idk := s.historyIDKey(e.EventID)
			u.ops = append(u.ops, clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.Value(idk), "=", cursor)},
				[]clientv3.Op{clientv3.OpDelete(idk)}, nil))
		}
		m.HistoryEvents = max(m.HistoryEvents-1, 0)
		m.HistoryBytes = max(m.HistoryBytes-int64(len(k)+len(kv.Value)), 0)
		units, metas = append(units, u), append(metas, m)
		return len(units) < pruneChunk
	})
	if err == nil {
		err = derr
	}
	if err != nil || len(units) == 0 {
		return 0, err
	}
	return s.commitCounted(units, metas, rev, func(i int) string { return fmt.Sprint("history event ", i) })
}

// Replay queues the events ids of the history again for notifier, as
// *store.Store.Replay does: one new delivery each, with the event's id,
// type, meeting, creation time and body, requeued at. An id the history
// does not hold gives store.ErrNotInHistory and queues nothing.
func (s *Store) Replay(notifier string, at time.Time, ids ...string) ([]uint64, error) {
	switch {
	case validNotifier(notifier) != nil:
		return nil, fmt.Errorf("replay: %w", validNotifier(notifier))
	case len(ids) == 0:
		return nil, errors.New("replay: no event ids")
	case at.IsZero():
		return nil, errors.New("replay: time is zero")
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	m, rev, err := s.readMeta()
	if err != nil {
		return nil, fmt.Errorf("replay %d events for %s: %w", len(ids), notifier, err)
	}
	units := make([]unit, len(ids))
	metas := make([]meta, len(ids))
	out := make([]uint64, len(ids))
	for i, id := range ids {
		e, hrev, err := s.historyEvent(id)
		if err != nil {
			return nil, fmt.Errorf("replay %d events for %s: %w", len(ids), notifier, err)
		}
		m.NextID++
		d := store.Delivery{ID: m.NextID, Notifier: notifier, Meeting: e.Meeting, EventID: e.EventID, EventType: e.Type,
			CreatedAt: e.CreatedAt, Body: e.Body, RequeuedAt: at.UTC()}
		v, err := store.EncodeRecord(d)
		if err != nil {
			return nil, err
		}
		units[i] = unit{
			ops:   []clientv3.Op{clientv3.OpPut(s.outboxKey(notifier, d.ID), string(v)), clientv3.OpPut(s.idKey(d.ID), notifier)},
			conds: []clientv3.Cmp{unchanged(s.historyKey(e.Cursor), hrev)},
		}
		metas[i], out[i] = m, d.ID
	}
	if _, err := s.commitCounted(units, metas, rev, func(i int) string { return "event " + ids[i] }); err != nil {
		return nil, fmt.Errorf("replay %d events for %s: %w", len(ids), notifier, err)
	}
	return out, nil
}

// historyEvent reads the history record of event id, with its revision,
// or fails with store.ErrNotInHistory.
func (s *Store) historyEvent(id string) (store.HistoryEvent, int64, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.historyIDKey(id))
	if err != nil {
		return store.HistoryEvent{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return store.HistoryEvent{}, 0, fmt.Errorf("event %s: %w", id, store.ErrNotInHistory)
	}
	hk := s.historyKey(string(resp.Kvs[0].Value))
	resp, err = s.kv.Get(ctx, hk)
	if err != nil {
		return store.HistoryEvent{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return store.HistoryEvent{}, 0, fmt.Errorf("event %s: %w", id, store.ErrNotInHistory)
	}
	e, err := decodeHistory(resp.Kvs[0], len(s.prefix+dirHistory), true)
	return e, resp.Kvs[0].ModRevision, err
}
