package etcdstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
)

// meta is the store's counters, one key that every transaction which
// issues an ID or changes the history's size compares and advances: so
// IDs are unique and ascend in commit order across leaders, and the
// history's size needs no walk.
type meta struct {
	NextID        uint64 `json:"next_id"`        // the last delivery ID issued
	HistorySeq    uint64 `json:"history_seq"`    // the last history sequence issued
	HistoryEvents int64  `json:"history_events"` // records in the history
	HistoryBytes  int64  `json:"history_bytes"`  // their bytes, keys (16 bytes) included
	SilenceID     uint64 `json:"silence_id"`     // the last silence ID issued
}

// metaBound is the largest meta, to size transactions before the real one
// is known.
var metaBound = meta{math.MaxUint64, math.MaxUint64, math.MinInt64, math.MinInt64, math.MaxUint64}

// readMeta returns the counters and the revision of their key (0 when
// nothing was issued yet).
func (s *Store) readMeta() (meta, int64, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.metaKey())
	if err != nil {
		return meta{}, 0, fmt.Errorf("read the counters: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return meta{}, 0, nil
	}
	var m meta
	if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil {
		return meta{}, 0, fmt.Errorf("read the counters %s: %w", resp.Kvs[0].Key, err)
	}
	return m, resp.Kvs[0].ModRevision, nil
}

// put is the operation that stores m.
func (s *Store) put(m meta) clientv3.Op {
	b, _ := json.Marshal(m) // plain numbers: never fails
	return clientv3.OpPut(s.metaKey(), string(b))
}

// commitCounted commits units packed into fenced transactions, each also
// storing the counters as they stand after its last unit (metas[i] after
// unit i) on condition that they did not change since rev. It returns how
// many units were written before an error. The caller holds commitMu.
func (s *Store) commitCounted(units []unit, metas []meta, rev int64, name func(i int) string) (int, error) {
	txns, err := s.pack(units, []clientv3.Op{s.put(metaBound)}, name)
	if err != nil {
		return 0, err
	}
	for _, t := range txns {
		var ops []clientv3.Op
		conds := []clientv3.Cmp{unchanged(s.metaKey(), rev)}
		for _, u := range units[t.first:t.last] {
			ops = append(ops, u.ops...)
			conds = append(conds, u.conds...)
		}
		ops = append(ops, s.put(metas[t.last-1]))
		resp, err := s.commit(conds, ops...)
		if errors.Is(err, ha.ErrConflict) {
			err = fmt.Errorf("the counters or a record changed under this leader: %w", err)
		}
		if err != nil {
			return t.first, err
		}
		rev = resp.Header.Revision
	}
	return len(units), nil
}
