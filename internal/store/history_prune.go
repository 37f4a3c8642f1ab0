package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// HistoryBounds bound the history: PruneHistory removes the oldest events
// until every bound holds.
type HistoryBounds struct {
	// Cutoff removes the events created before it (one created at Cutoff
	// itself stays).
	Cutoff time.Time
	// MaxEvents is the most events kept; <= 0 means no bound.
	MaxEvents int64
	// MaxBytes is the most bytes of keys and records kept; <= 0 means no
	// bound.
	MaxBytes int64
}

// PruneHistory removes events from the history, oldest first, while one
// is older than b.Cutoff or the history holds more than b.MaxEvents events
// or b.MaxBytes bytes, and returns how many it removed. It deletes in
// transactions of removeChunk events, so that the writers waiting behind
// it (the poller's commits) wait briefly; a failure part way keeps what it
// removed so far, and calling it again removes the rest.
func (s *Store) PruneHistory(b HistoryBounds) (int, error) {
	removed := 0
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			h, err := openHistory(tx)
			if err != nil {
				return err
			}
			c := h.events.Cursor()
			for k, v := c.First(); k != nil && n < removeChunk; k, v = c.First() {
				events, size := h.size()
				old := len(k) == historyKeyLen && historyKeyTime(k).Before(b.Cutoff)
				if !old && (b.MaxEvents <= 0 || events <= b.MaxEvents) && (b.MaxBytes <= 0 || size <= b.MaxBytes) {
					break
				}
				if e, err := decodeHistory(k, v, false); err == nil && bytes.Equal(h.ids.Get([]byte(e.EventID)), k) {
					if err := h.ids.Delete([]byte(e.EventID)); err != nil {
						return err
					}
				}
				size = int64(len(k) + len(v))
				if err := c.Delete(); err != nil {
					return err
				}
				if err := h.count(-1, -size); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		removed += n
		if err != nil {
			return removed, fmt.Errorf("prune history: %w", err)
		}
		if n < removeChunk {
			return removed, nil
		}
	}
}
