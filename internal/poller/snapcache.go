package poller

import (
	"bytes"
	"sync"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// snapshotCache keeps, for each meeting of each watch, the snapshot the
// poller last decoded or wrote, with the bytes it is stored as. A cycle
// still reads every snapshot from the store, which stays the only truth,
// but decodes only those whose bytes differ from the cached ones: the
// others are the cached snapshot. Snapshots are never modified in place
// (diff.Apply promises as much), so one may be shared between cycles.
type snapshotCache struct {
	mu      sync.Mutex
	watches map[string]map[string]cachedSnapshot // watch → meeting → …
}

// cachedSnapshot is a decoded snapshot and the bytes it was decoded from.
type cachedSnapshot struct {
	raw  []byte
	snap diff.Snapshot
}

// lookup returns the cached snapshot of a meeting when it was decoded
// from exactly raw. From then on the cache holds raw, the store's copy of
// those bytes, rather than its own (the one a commit wrote), so that the
// two are not both kept.
func (c *snapshotCache) lookup(watch, meeting string, raw []byte) (diff.Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.watches[watch][meeting]
	if !ok || !bytes.Equal(e.raw, raw) {
		return diff.Snapshot{}, false
	}
	if len(raw) > 0 && &e.raw[0] != &raw[0] {
		e.raw = raw
		c.watches[watch][meeting] = e
	}
	return e.snap, true
}

// keep caches s as the snapshot stored as raw. raw must not change after.
func (c *snapshotCache) keep(watch, meeting string, raw []byte, s diff.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watches == nil {
		c.watches = make(map[string]map[string]cachedSnapshot)
	}
	m := c.watches[watch]
	if m == nil {
		m = make(map[string]cachedSnapshot)
		c.watches[watch] = m
	}
	m[meeting] = cachedSnapshot{raw: raw, snap: s}
}

// retain drops the cached snapshots of watch that the store no longer
// holds, so that the cache never outgrows the store.
func (c *snapshotCache) retain(watch string, stored map[string][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.watches[watch]
	if len(stored) == 0 {
		delete(c.watches, watch)
		return
	}
	for id := range m {
		if _, ok := stored[id]; !ok {
			delete(m, id)
		}
	}
}
