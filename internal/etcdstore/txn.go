package etcdstore

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// unit is a group of writes that must commit whole, and the comparisons
// they are made on.
type unit struct {
	ops   []clientv3.Op
	conds []clientv3.Cmp
}

// txn is a packed transaction: the units it holds, from first to last.
type txn struct {
	first, last int // units[first:last]
}

// pack groups units into transactions within etcd's limits, counting each
// unit's comparisons (as reads of their keys, which are larger) and extra
// operations that every transaction adds. A unit too large for one
// transaction is an error wrapping ha.ErrTooLarge that names it with
// name(i).
func (s *Store) pack(units []unit, extra []clientv3.Op, name func(i int) string) ([]txn, error) {
	groups := make([][]clientv3.Op, len(units))
	for i, u := range units {
		g := make([]clientv3.Op, 0, len(u.ops)+len(u.conds)+len(extra))
		g = append(g, u.ops...)
		for _, c := range u.conds {
			g = append(g, clientv3.OpGet(string(c.KeyBytes())))
		}
		groups[i] = append(g, extra...)
	}
	packed, err := s.fence.Pack(groups)
	if err != nil {
		// Pack names the group by its index.
		for i := range groups {
			if _, one := s.fence.Pack(groups[i : i+1]); one != nil {
				return nil, fmt.Errorf("%s: %w", name(i), one)
			}
		}
		return nil, err
	}
	// Pack keeps the order and never splits a group: walk the groups along
	// the transactions it made.
	var txns []txn
	i := 0
	for _, p := range packed {
		t := txn{first: i}
		for n := 0; n < len(p); i++ {
			n += len(groups[i])
		}
		t.last = i
		txns = append(txns, t)
	}
	return txns, nil
}

// commit runs ops on conds in one transaction fenced by the store's term.
func (s *Store) commit(conds []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	ctx, cancel := s.call()
	defer cancel()
	return s.fence.Commit(ctx, s.kv, conds, ops...)
}

// commitUnits commits units, packed, in as few transactions as fit; it
// returns how many units were written before an error.
func (s *Store) commitUnits(units []unit, name func(i int) string) (int, error) {
	txns, err := s.pack(units, nil, name)
	if err != nil {
		return 0, err
	}
	for _, t := range txns {
		var ops []clientv3.Op
		var conds []clientv3.Cmp
		for _, u := range units[t.first:t.last] {
			ops = append(ops, u.ops...)
			conds = append(conds, u.conds...)
		}
		if _, err := s.commit(conds, ops...); err != nil {
			return t.first, err
		}
	}
	return len(units), nil
}

// unchanged is the comparison that key was last modified at rev (0: it
// does not exist).
func unchanged(key string, rev int64) clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(key), "=", rev)
}
