package store

import (
	"bytes"
	"maps"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// mirror keeps, in memory, the snapshots of the watches read so far, as
// Commit last wrote them, so that Snapshots, which the poller calls at the
// start of every cycle of every watch, reads no transaction: at 250
// watches polled every second, the read transactions and the pages of the
// file they touch cost more than the poll's own work. Only Commit writes
// snapshots once the file is open, and the file's lock keeps other
// processes out, so the mirror never goes stale.
//
// A watch enters the mirror the first time Snapshots reads it from the
// file. A read that a Commit overtakes (the read's transaction began
// before the Commit's changes reached the mirror) is returned but not
// kept: gen counts the changes, and a read keeps what it found only when
// no change came between its start and its end.
type mirror struct {
	mu  sync.Mutex
	gen uint64
	// watches maps watch → meeting → snapshot. apply changes the maps in
	// place, so get hands out copies; the snapshots themselves are never
	// modified and are shared.
	watches map[string]map[string][]byte
}

// get returns a copy of the watch's map of snapshots when the mirror holds
// the watch, and the mirror's generation.
func (m *mirror) get(watch string) (map[string][]byte, uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	snaps, ok := m.watches[watch]
	if !ok {
		return nil, m.gen, false
	}
	return maps.Clone(snaps), m.gen, true
}

// keep records the snapshots of a watch read from the file, when no change
// reached the mirror since generation gen, at which the read began.
func (m *mirror) keep(watch string, snaps map[string][]byte, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		return
	}
	if m.watches == nil {
		m.watches = make(map[string]map[string][]byte)
	}
	m.watches[watch] = maps.Clone(snaps)
}

// apply records the snapshots of updates, which a transaction has just
// committed, for the watches the mirror holds.
func (m *mirror) apply(updates []Update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	for _, u := range updates {
		snaps, ok := m.watches[u.Key.Watch]
		if !ok {
			continue
		}
		if u.Delete {
			delete(snaps, u.Key.MeetingID)
		} else {
			snaps[u.Key.MeetingID] = bytes.Clone(u.Snapshot)
		}
	}
}

// readSnapshots reads the snapshots of one watch from the file: copies,
// by meeting ID.
func (s *Store) readSnapshots(watch string) (map[string][]byte, error) {
	out := make(map[string][]byte)
	prefix := []byte(watch + keySep)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out[string(k[len(prefix):])] = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}
