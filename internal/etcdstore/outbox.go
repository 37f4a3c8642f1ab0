package etcdstore

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// PendingAfter returns up to limit (all when limit <= 0) deliveries of
// notifier's outbox with an ID above afterID, ascending ID. One whose
// record does not decode comes back with Undecodable set.
func (s *Store) PendingAfter(notifier string, afterID uint64, limit int) ([]store.Delivery, error) {
	if afterID == math.MaxUint64 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.rangeIDs(s.outboxDir(notifier), afterID, func(id uint64, kv *mvccpb.KeyValue) bool {
		out = append(out, store.DecodeRecord(notifier, id, kv.Value))
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", notifier, err)
	}
	return out, nil
}

// OutboxAfter returns the pending deliveries of every notifier with an ID
// above afterID, ascending ID, at most limit of them (all when limit <= 0).
func (s *Store) OutboxAfter(afterID uint64, limit int) ([]store.Delivery, error) {
	if afterID == math.MaxUint64 {
		return nil, nil
	}
	type ref struct {
		id       uint64
		notifier string
	}
	var refs []ref
	err := s.rangeIDs(s.prefix+dirIDs, afterID, func(id uint64, kv *mvccpb.KeyValue) bool {
		refs = append(refs, ref{id, string(kv.Value)})
		return limit <= 0 || len(refs) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]store.Delivery, 0, len(refs))
	for len(refs) > 0 {
		n := min(len(refs), ha.MaxTxnOps)
		ops := make([]clientv3.Op, n)
		for i, r := range refs[:n] {
			ops[i] = clientv3.OpGet(s.outboxKey(r.notifier, r.id))
		}
		ctx, cancel := s.call()
		resp, err := s.kv.Txn(ctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		for i, r := range resp.Responses {
			kvs := r.GetResponseRange().GetKvs()
			if len(kvs) == 0 {
				continue // delivered between the two reads
			}
			out = append(out, store.DecodeRecord(refs[i].notifier, refs[i].id, kvs[0].Value))
		}
		refs = refs[n:]
	}
	return out, nil
}

// OutboxDepth counts the pending deliveries of every notifier that has
// any. It reads keys only.
func (s *Store) OutboxDepth() (map[string]int, error) {
	dir := s.prefix + dirIDs
	out := map[string]int{}
	err := s.rangeAll(dir, prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		v := kv.Value
		out[string(v)]++
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	return out, nil
}

// get returns the outbox delivery id of notifier and the revision of its
// record, or ErrNotFound.
func (s *Store) get(notifier string, id uint64) (store.Delivery, int64, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.outboxKey(notifier, id))
	if err != nil {
		return store.Delivery{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return store.Delivery{}, 0, store.ErrNotFound
	}
	return store.DecodeRecord(notifier, id, resp.Kvs[0].Value), resp.Kvs[0].ModRevision, nil
}

// MarkDelivered removes a delivered delivery from notifier's outbox, or
// returns ErrNotFound.
func (s *Store) MarkDelivered(notifier string, id uint64) error {
	k := s.outboxKey(notifier, id)
	_, err := s.commit([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), ">", 0)},
		clientv3.OpDelete(k), clientv3.OpDelete(s.idKey(id)))
	if errors.Is(err, ha.ErrConflict) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mark delivery %d of %s delivered: %w", id, notifier, err)
	}
	return nil
}

// RecordAttempt records a failed attempt of an outbox delivery: its count,
// when to try next and the error. An ID not in notifier's outbox gives
// ErrNotFound.
func (s *Store) RecordAttempt(notifier string, id uint64, attempts int, next time.Time, lastErr string) error {
	err := s.change(notifier, id, func(d store.Delivery) (store.Delivery, error) {
		if d.Undecodable != "" {
			return d, fmt.Errorf("its record does not decode: %s", d.Undecodable)
		}
		d.Attempts, d.NextAttempt, d.LastError = attempts, next, lastErr
		return d, nil
	}, false)
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d of %s: %w", id, notifier, err)
	}
	return nil
}

// DeadLetter moves an outbox delivery of notifier to the dead letters, as
// *store.Store.DeadLetter does, or returns ErrNotFound.
func (s *Store) DeadLetter(notifier string, id uint64, at time.Time, lastErr string) error {
	if at.IsZero() {
		return fmt.Errorf("dead-letter delivery %d: time is zero", id)
	}
	err := s.change(notifier, id, func(d store.Delivery) (store.Delivery, error) {
		return store.Killed(d, at, lastErr), nil
	}, true)
	if err != nil {
		return fmt.Errorf("dead-letter delivery %d of %s: %w", id, notifier, err)
	}
	return nil
}

// changeTries bounds the reads and writes of change when the record
// changes between them.
const changeTries = 3

// change rewrites an outbox delivery with fn, in place or (kill) as a dead
// letter, on condition that it did not change since it was read.
func (s *Store) change(notifier string, id uint64, fn func(store.Delivery) (store.Delivery, error), kill bool) error {
	k := s.outboxKey(notifier, id)
	for try := 1; ; try++ {
		d, rev, err := s.get(notifier, id)
		if err != nil {
			return err
		}
		if d, err = fn(d); err != nil {
			return err
		}
		v, err := store.EncodeRecord(d)
		if err != nil {
			return err
		}
		ops := []clientv3.Op{clientv3.OpPut(k, string(v))}
		if kill {
			ops = []clientv3.Op{clientv3.OpDelete(k), clientv3.OpDelete(s.idKey(id)), clientv3.OpPut(s.deadKey(id), string(v))}
		}
		_, err = s.commit([]clientv3.Cmp{unchanged(k, rev)}, ops...)
		if !errors.Is(err, ha.ErrConflict) || try == changeTries {
			return err
		}
	}
}
