package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// keySep separates the watch name from the meeting ID in a snapshot key. A
// watch name may not contain it, so the first one splits the key.
const keySep = "\x00"

// SnapshotKey names one meeting of one watch. The same meeting watched by two
// watches has two snapshots.
type SnapshotKey struct {
	Watch     string
	MeetingID string
}

// String returns "watch/meeting", for messages.
func (k SnapshotKey) String() string {
	return k.Watch + "/" + k.MeetingID
}

// validate reports why k cannot be stored, or nil.
func (k SnapshotKey) validate() error {
	if err := validateWatch(k.Watch); err != nil {
		return err
	}
	if k.MeetingID == "" {
		return errors.New("meeting id is empty")
	}
	return nil
}

// validateWatch reports why a watch name cannot be part of a key, or nil.
func validateWatch(watch string) error {
	switch {
	case watch == "":
		return errors.New("watch name is empty")
	case strings.Contains(watch, keySep):
		return fmt.Errorf("watch name %q contains a NUL byte", watch)
	}
	return nil
}

// bytes returns the bbolt key of k.
func (k SnapshotKey) bytes() []byte {
	b := make([]byte, 0, len(k.Watch)+len(keySep)+len(k.MeetingID))
	b = append(b, k.Watch...)
	b = append(b, keySep...)
	return append(b, k.MeetingID...)
}

// parseSnapshotKey splits a bbolt key written by SnapshotKey.bytes.
func parseSnapshotKey(b []byte) (SnapshotKey, error) {
	watch, meeting, ok := bytes.Cut(b, []byte(keySep))
	if !ok {
		return SnapshotKey{}, fmt.Errorf("snapshot key %q has no separator", b)
	}
	return SnapshotKey{Watch: string(watch), MeetingID: string(meeting)}, nil
}

// Snapshot returns a copy of the stored snapshot of key, or nil and no error
// when there is none.
func (s *Store) Snapshot(key SnapshotKey) ([]byte, error) {
	if err := key.validate(); err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", key, err)
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSnapshots); b != nil {
			out = bytes.Clone(b.Get(key.bytes()))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", key, err)
	}
	return out, nil
}

// Snapshots returns every snapshot of one watch, by meeting ID. It returns
// an empty map, not an error, for a watch with no snapshots. The map is
// the caller's; the snapshots in it are shared with later calls and must
// not be modified. After a watch's first read, the snapshots come from
// memory (see mirror), not from a transaction.
func (s *Store) Snapshots(watch string) (map[string][]byte, error) {
	if err := validateWatch(watch); err != nil {
		return nil, fmt.Errorf("read snapshots of watch %q: %w", watch, err)
	}
	snaps, gen, ok := s.mirror.get(watch)
	if ok {
		return snaps, nil
	}
	snaps, err := s.readSnapshots(watch)
	if err != nil {
		return nil, fmt.Errorf("read snapshots of watch %q: %w", watch, err)
	}
	s.mirror.keep(watch, snaps, gen)
	return snaps, nil
}

// ForEachSnapshot calls fn with every stored snapshot, in the order of watch
// name, then meeting ID, and stops at the first error fn returns, which it
// returns as is. The snapshots are copied out first and fn runs after the
// read transaction has ended, so fn may take its time and may call the
// Store, even to write.
func (s *Store) ForEachSnapshot(fn func(SnapshotKey, []byte) error) error {
	type entry struct {
		key  SnapshotKey
		snap []byte
	}
	var all []entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			key, err := parseSnapshotKey(k)
			if err != nil {
				return err
			}
			all = append(all, entry{key, bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read snapshots: %w", err)
	}
	for _, e := range all {
		if err := fn(e.key, e.snap); err != nil {
			return err
		}
	}
	return nil
}
