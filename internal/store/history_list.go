package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// HistoryQuery selects events of the history. Zero fields select
// everything.
type HistoryQuery struct {
	// Since selects the events created at or after it.
	Since time.Time
	// After resumes a listing after the event whose Cursor it is.
	After string
	// Watch, MeetingID and Type select the events of that watch, meeting
	// and type.
	Watch, MeetingID, Type string
	// Limit is the most events returned; <= 0 means all.
	Limit int
}

// ErrCursor is returned, wrapped, by History when HistoryQuery.After is not
// a cursor that History returned.
var ErrCursor = errors.New("not a history cursor")

// History returns the events of the history that q selects, oldest first,
// at most q.Limit of them, so that a reader can page through it: each page
// starts after the Cursor of the last event of the one before. It seeks to
// q.Since (or past q.After) instead of reading the events before it, and
// runs in one read transaction, which never blocks the writers. A record
// that does not decode is an error naming it.
func (s *Store) History(q HistoryQuery) ([]HistoryEvent, error) {
	start := historyKey(q.Since, 0)
	if q.Since.IsZero() {
		start = nil
	}
	if q.After != "" {
		after, err := hex.DecodeString(q.After)
		if err != nil || len(after) != historyKeyLen {
			return nil, fmt.Errorf("read history: after %q: %w", q.After, ErrCursor)
		}
		if next := nextKey(after); string(next) > string(start) {
			start = next
		}
	}
	var out []HistoryEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHistory)
		if b == nil || (start == nil && q.After != "") {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if start != nil {
			k, v = c.Seek(start)
		}
		for ; k != nil && (q.Limit <= 0 || len(out) < q.Limit); k, v = c.Next() {
			e, err := decodeHistory(k, v, false)
			if err != nil {
				return err
			}
			if !q.selects(e) {
				continue
			}
			if e, err = decodeHistory(k, v, true); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return out, nil
}

// selects reports whether q's filters keep e.
func (q HistoryQuery) selects(e HistoryEvent) bool {
	return (q.Watch == "" || e.Meeting.Watch == q.Watch) &&
		(q.MeetingID == "" || e.Meeting.MeetingID == q.MeetingID) &&
		(q.Type == "" || e.Type == q.Type)
}

// nextKey returns the smallest key of the same length above k, or nil when
// there is none.
func nextKey(k []byte) []byte {
	next := append([]byte(nil), k...)
	for i := len(next) - 1; i >= 0; i-- {
		next[i]++
		if next[i] != 0 {
			return next
		}
	}
	return nil
}

// HistorySize returns how many events the history holds and their size in
// bytes, as the store counts them for its bounds.
func (s *Store) HistorySize() (events, size int64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			events, size = readCounter(meta, keyHistoryEvents), readCounter(meta, keyHistoryBytes)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("read history size: %w", err)
	}
	return events, size, nil
}
