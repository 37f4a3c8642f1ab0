package etcdstore

import (
	"bytes"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Snapshot returns the stored snapshot of key, or nil when there is none.
func (s *Store) Snapshot(key store.SnapshotKey) ([]byte, error) {
	ctx, cancel := s.call()
	defer cancel()
	resp, err := s.kv.Get(ctx, s.snapshotDir(key.Watch)+key.MeetingID)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0].Value, nil
}

// Snapshots returns the snapshots of one watch, by meeting ID.
func (s *Store) Snapshots(watch string) (map[string][]byte, error) {
	if err := store.ValidateWatch(watch); err != nil {
		return nil, fmt.Errorf("read snapshots: %w", err)
	}
	dir := s.snapshotDir(watch)
	out := map[string][]byte{}
	err := s.rangeAll(dir, prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		k, v := kv.Key, kv.Value
		out[string(k[len(dir):])] = bytes.Clone(v)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read snapshots of watch %s: %w", watch, err)
	}
	return out, nil
}

// ForEachSnapshot calls fn for every stored snapshot, in key order, and
// stops at fn's first error, which it returns. fn's bytes are its own.
func (s *Store) ForEachSnapshot(fn func(store.SnapshotKey, []byte) error) error {
	dir := s.prefix + dirSnapshots
	var ferr error
	err := s.rangeAll(dir, prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		k, v := kv.Key, kv.Value
		watch, meeting, ok := bytes.Cut(k[len(dir):], []byte(sep))
		if !ok {
			ferr = fmt.Errorf("snapshot key %q has no watch", k)
			return false
		}
		ferr = fn(store.SnapshotKey{Watch: string(watch), MeetingID: string(meeting)}, bytes.Clone(v))
		return ferr == nil
	})
	if err != nil {
		return fmt.Errorf("read snapshots: %w", err)
	}
	return ferr
}
