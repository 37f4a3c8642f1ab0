package etcdstore

import (
	"errors"
	"fmt"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Combine replaces the outbox deliveries ids of notifier (two or more) by
// one delivery under the lowest ID, as *store.Store.Combine does, in one
// fenced transaction made on condition that none of them changed since it
// read them. An ID not in that outbox, or whose record does not decode,
// gives ErrNotFound.
func (s *Store) Combine(notifier string, ids []uint64, c store.Combined) (store.Delivery, error) {
	ids, err := store.CombineIDs(notifier, ids, c)
	if err != nil {
		return store.Delivery{}, err
	}
	var (
		first store.Delivery
		conds []clientv3.Cmp
		ops   []clientv3.Op
	)
	for i, id := range ids {
		d, rev, err := s.get(notifier, id)
		if err == nil && d.Undecodable != "" {
			err = fmt.Errorf("delivery %d does not decode: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return store.Delivery{}, fmt.Errorf("combine deliveries %v of %s: %w", ids, notifier, err)
		}
		k := s.outboxKey(notifier, id)
		conds = append(conds, unchanged(k, rev))
		if i == 0 {
			first = d
			continue
		}
		ops = append(ops, clientv3.OpDelete(k), clientv3.OpDelete(s.idKey(id)))
	}
	out := store.Delivery{
		ID: first.ID, Notifier: notifier, Meeting: first.Meeting,
		EventID: c.EventID, EventType: c.EventType, CreatedAt: first.CreatedAt, RequeuedAt: first.RequeuedAt,
		Body: slices.Clone(c.Body),
	}
	v, err := store.EncodeRecord(out)
	if err != nil {
		return store.Delivery{}, err
	}
	ops = append(ops, clientv3.OpPut(s.outboxKey(notifier, out.ID), string(v)))
	if _, err := s.commit(conds, ops...); err != nil {
		if errors.Is(err, ha.ErrConflict) {
			err = fmt.Errorf("a delivery changed while they were combined: %w", store.ErrNotFound)
		}
		return store.Delivery{}, fmt.Errorf("combine deliveries %v of %s: %w", ids, notifier, err)
	}
	return out, nil
}
