package etcdstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// AddSilence stores sil under a new ID, which it returns; sil.ID is
// ignored.
func (s *Store) AddSilence(sil store.Silence) (uint64, error) {
	if err := sil.Validate(); err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	m, rev, err := s.readMeta()
	if err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	m.SilenceID++
	sil.ID, sil.Start, sil.End = m.SilenceID, sil.Start.UTC(), sil.End.UTC()
	v, err := json.Marshal(sil)
	if err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	u := unit{ops: []clientv3.Op{clientv3.OpPut(s.silenceKey(sil.ID), string(v))}}
	if _, err := s.commitCounted([]unit{u}, []meta{m}, rev, func(int) string { return "silence" }); err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	return sil.ID, nil
}

// Silences returns every stored silence, ended ones until they are
// pruned, in ascending ID order.
func (s *Store) Silences() ([]store.Silence, error) {
	var out []store.Silence
	err := s.silences(func(sil store.Silence, _ *mvccpb.KeyValue) { out = append(out, sil) })
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return out, nil
}

// silences calls fn for every silence, in ascending ID order.
func (s *Store) silences(fn func(store.Silence, *mvccpb.KeyValue)) error {
	dir := s.prefix + dirSilences
	var derr error
	err := s.rangeAll(dir, prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		var sil store.Silence
		if err := json.Unmarshal(kv.Value, &sil); err != nil {
			derr = fmt.Errorf("silence %s: %w", kv.Key[len(dir):], err)
			return false
		}
		fn(sil, kv)
		return true
	})
	if err != nil {
		return err
	}
	return derr
}

// RemoveSilence deletes the silence id, or fails with store.ErrNoSilence.
func (s *Store) RemoveSilence(id uint64) error {
	k := s.silenceKey(id)
	_, err := s.commit([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), ">", 0)}, clientv3.OpDelete(k))
	if errors.Is(err, ha.ErrConflict) {
		err = fmt.Errorf("silence %d: %w", id, store.ErrNoSilence)
	}
	if err != nil {
		return fmt.Errorf("remove silence: %w", err)
	}
	return nil
}

// PruneSilences deletes the silences that ended at or before now, and
// returns how many.
func (s *Store) PruneSilences(now time.Time) (int, error) {
	var units []unit
	err := s.silences(func(sil store.Silence, kv *mvccpb.KeyValue) {
		if !sil.End.After(now) {
			k := string(kv.Key)
			units = append(units, unit{ops: []clientv3.Op{clientv3.OpDelete(k)}, conds: []clientv3.Cmp{unchanged(k, kv.ModRevision)}})
		}
	})
	if err != nil {
		return 0, fmt.Errorf("prune silences: %w", err)
	}
	n, err := s.commitUnits(units, func(i int) string { return fmt.Sprint("silence ", i) })
	if err != nil {
		return n, fmt.Errorf("prune silences: %w", err)
	}
	return n, nil
}
