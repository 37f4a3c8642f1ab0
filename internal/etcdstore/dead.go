package etcdstore

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// stored is a record read with the revision it was read at.
type stored struct {
	d   store.Delivery
	rev int64
}

// DeadLetterAll moves every outbox delivery of notifier to the dead
// letters with reason as their last error, as DeadLetter would one by one,
// in as few fenced transactions as fit, and returns how many it moved. A
// failure part way keeps the transactions already written; calling it
// again moves the rest.
func (s *Store) DeadLetterAll(notifier string, at time.Time, reason string) (int, error) {
	if err := validNotifier(notifier); err != nil {
		return 0, fmt.Errorf("dead-letter outbox: %w", err)
	}
	if at.IsZero() {
		return 0, fmt.Errorf("dead-letter outbox of %s: time is zero", notifier)
	}
	var recs []stored
	err := s.rangeIDs(s.outboxDir(notifier), 0, func(id uint64, kv *mvccpb.KeyValue) bool {
		recs = append(recs, stored{d: store.DecodeRecord(notifier, id, kv.Value)})
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("dead-letter outbox of %s: %w", notifier, err)
	}
	units := make([]unit, len(recs))
	for i, r := range recs {
		v, err := store.EncodeRecord(store.Killed(r.d, at, reason))
		if err != nil {
			return 0, fmt.Errorf("dead-letter outbox of %s: %w", notifier, err)
		}
		k := s.outboxKey(notifier, r.d.ID)
		units[i] = unit{
			ops: []clientv3.Op{clientv3.OpDelete(k), clientv3.OpDelete(s.idKey(r.d.ID)), clientv3.OpPut(s.deadKey(r.d.ID), string(v))},
		}
	}
	n, err := s.commitUnits(units, func(i int) string { return "delivery " + strconv.FormatUint(recs[i].d.ID, 10) })
	if err != nil {
		return n, fmt.Errorf("dead-letter outbox of %s: %w", notifier, err)
	}
	return n, nil
}

// DeadLettersAfter returns the dead letters with an ID above afterID,
// ascending ID, at most limit of them (all when limit <= 0).
func (s *Store) DeadLettersAfter(afterID uint64, limit int) ([]store.Delivery, error) {
	if afterID == math.MaxUint64 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.deadAfter(afterID, func(r stored) bool {
		out = append(out, r.d)
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}

// deadAfter calls fn for each dead letter above afterID, ascending ID,
// until fn returns false.
func (s *Store) deadAfter(afterID uint64, fn func(stored) bool) error {
	return s.rangeIDs(s.prefix+dirDead, afterID, func(id uint64, kv *mvccpb.KeyValue) bool {
		return fn(stored{d: store.DecodeRecord("", id, kv.Value), rev: kv.ModRevision})
	})
}

// DeadLetterCount returns how many dead letters there are, counted by etcd
// without reading them.
func (s *Store) DeadLetterCount() (int, error) {
	dir := s.prefix + dirDead
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, dir, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count dead letters: %w", err)
	}
	return int(resp.Count), nil
}

// Requeue moves dead letters back to their notifier's outbox as
// *store.Store.Requeue does: with no ids every one that can be delivered,
// and all or nothing when ids are given, failing with ErrNotFound naming
// every ID that is not a dead letter that can be delivered. Each moved
// dead letter must not change between its read and the move. A requeue
// too large for one transaction is made in several.
func (s *Store) Requeue(at time.Time, ids ...uint64) (int, error) {
	recs, err := s.requeueRecords(ids)
	if err != nil {
		return 0, fmt.Errorf("requeue dead letters: %w", err)
	}
	units := make([]unit, len(recs))
	for i, r := range recs {
		d := store.Requeued(r.d, at)
		v, err := store.EncodeRecord(d)
		if err != nil {
			return 0, fmt.Errorf("requeue dead letters: %w", err)
		}
		dk := s.deadKey(d.ID)
		units[i] = unit{
			ops:   []clientv3.Op{clientv3.OpDelete(dk), clientv3.OpPut(s.outboxKey(d.Notifier, d.ID), string(v)), clientv3.OpPut(s.idKey(d.ID), d.Notifier)},
			conds: []clientv3.Cmp{unchanged(dk, r.rev)},
		}
	}
	n, err := s.commitUnits(units, func(i int) string { return "delivery " + strconv.FormatUint(recs[i].d.ID, 10) })
	if err != nil {
		return n, fmt.Errorf("requeue dead letters: %w", err)
	}
	return n, nil
}

// requeueRecords returns the dead letters Requeue moves, ascending ID.
func (s *Store) requeueRecords(ids []uint64) ([]stored, error) {
	var out []stored
	if len(ids) == 0 {
		err := s.deadAfter(0, func(r stored) bool {
			if store.RequeueRefusal(r.d) == "" {
				out = append(out, r)
			}
			return true
		})
		return out, err
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	want = slices.Compact(want)
	var missing []string
	for _, id := range want {
		ctx, cancel := s.call()
		resp, err := s.kv.Get(ctx, s.deadKey(id))
		cancel()
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) == 0 {
			missing = append(missing, strconv.FormatUint(id, 10))
			continue
		}
		d := store.DecodeRecord("", id, resp.Kvs[0].Value)
		if why := store.RequeueRefusal(d); why != "" {
			missing = append(missing, fmt.Sprintf("%d (%s)", id, why))
			continue
		}
		out = append(out, stored{d: d, rev: resp.Kvs[0].ModRevision})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w", strings.Join(missing, ", "), store.ErrNotFound)
	}
	return out, nil
}

// RemoveDeadLetters deletes the dead letters that died before cutoff, each
// on condition that it did not change since it was read, and returns how
// many it deleted.
func (s *Store) RemoveDeadLetters(cutoff time.Time) (int, error) {
	var units []unit
	err := s.deadAfter(0, func(r stored) bool {
		if store.DiedBefore(r.d, cutoff) {
			k := s.deadKey(r.d.ID)
			units = append(units, unit{ops: []clientv3.Op{clientv3.OpDelete(k)}, conds: []clientv3.Cmp{unchanged(k, r.rev)}})
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("remove dead letters: %w", err)
	}
	n, err := s.commitUnits(units, func(i int) string { return "dead letter " + strconv.Itoa(i) })
	if err != nil {
		return n, fmt.Errorf("remove dead letters: %w", err)
	}
	return n, nil
}
