package store

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The history keeps every committed event, silenced or not, for listing
// (`rtkwatchd events`) and replay. Its layout:
//
//	history/<created at: 8 bytes><seq: 8 bytes>  → history record
//	history_ids/<event id>                        → the history key of the event
//	meta/history_events, meta/history_bytes       → how many records, and their bytes
//
// Keys start with the event's creation time (Unix nanoseconds, big-endian),
// so a listing since a time seeks to it instead of scanning, and pruning
// takes the oldest records first. The sequence (of the history bucket)
// keeps events of the same instant apart, in commit order. The counters in
// meta let a prune bound the history's size without walking it.
var (
	bucketHistory    = []byte("history")
	bucketHistoryIDs = []byte("history_ids")
	keyHistoryEvents = []byte("history_events")
	keyHistoryBytes  = []byte("history_bytes")
)

// historyKeyLen is the length of a key of the history bucket.
const historyKeyLen = 16

// HistoryEvent is one committed event as the history keeps it. Times come
// back in UTC.
type HistoryEvent struct {
	// Cursor is the event's place in the history; HistoryQuery.After
	// resumes a listing after it.
	Cursor    string
	EventID   string
	Type      string
	Meeting   SnapshotKey
	CreatedAt time.Time
	// Notifiers are those the commit queued a delivery for.
	Notifiers []string
	// Silenced are the notifiers a silence held the event from.
	Silenced []string
	Body     []byte
}

// historyHeader is a history record without its body, as JSON.
type historyHeader struct {
	EventID   string    `json:"event_id"`
	Type      string    `json:"type"`
	Watch     string    `json:"watch"`
	MeetingID string    `json:"meeting_id"`
	CreatedAt time.Time `json:"created_at"`
	Notifiers []string  `json:"notifiers,omitempty"`
	Silenced  []string  `json:"silenced,omitempty"`
}

// historyKey returns the key of an event created at t with sequence seq.
// Times before 1970 sort first.
func historyKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 0, historyKeyLen)
	k = binary.BigEndian.AppendUint64(k, uint64(max(t.UnixNano(), 0)))
	return binary.BigEndian.AppendUint64(k, seq)
}

// historyKeyTime returns the creation time a history key starts with.
func historyKeyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC()
}

// history gives the write paths one view of the history buckets within one
// read-write transaction.
type history struct {
	events, ids, meta *bolt.Bucket
}

// openHistory finds the history's buckets in tx.
func openHistory(tx *bolt.Tx) (*history, error) {
	var h history
	var err error
	if h.events, err = bucket(tx, bucketHistory); err != nil {
		return nil, err
	}
	if h.ids, err = bucket(tx, bucketHistoryIDs); err != nil {
		return nil, err
	}
	if h.meta, err = bucket(tx, bucketMeta); err != nil {
		return nil, err
	}
	return &h, nil
}

// add records e, an event about the meeting of key.
func (h *history) add(key SnapshotKey, e NewEvent) error {
	seq, err := h.events.NextSequence()
	if err != nil {
		return fmt.Errorf("record event %s in the history: %w", e.ID, err)
	}
	v, err := encodeHistory(historyHeader{
		EventID: e.ID, Type: e.Type, Watch: key.Watch, MeetingID: key.MeetingID,
		CreatedAt: e.CreatedAt.UTC(), Notifiers: e.Notifiers, Silenced: e.Silenced,
	}, e.Body)
	if err != nil {
		return err
	}
	k := historyKey(e.CreatedAt, seq)
	if err := h.events.Put(k, v); err != nil {
		return fmt.Errorf("record event %s in the history: %w", e.ID, err)
	}
	if err := h.ids.Put([]byte(e.ID), k); err != nil {
		return fmt.Errorf("index event %s in the history: %w", e.ID, err)
	}
	return h.count(1, int64(len(k)+len(v)))
}

// count adds events and size to the history's counters.
func (h *history) count(events, size int64) error {
	n, b := h.size()
	n, b = max(n+events, 0), max(b+size, 0)
	if err := h.meta.Put(keyHistoryEvents, binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return err
	}
	return h.meta.Put(keyHistoryBytes, binary.BigEndian.AppendUint64(nil, uint64(b)))
}

// size returns the history's counters: how many records, and their bytes.
func (h *history) size() (events, size int64) {
	return readCounter(h.meta, keyHistoryEvents), readCounter(h.meta, keyHistoryBytes)
}

// readCounter reads an 8-byte counter of meta; a missing one is 0.
func readCounter(meta *bolt.Bucket, key []byte) int64 {
	v := meta.Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// encodeHistory returns the stored form of a history record: the length of
// its header as a uvarint, the header, then the body byte for byte.
func encodeHistory(h historyHeader, body []byte) ([]byte, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode history of event %s: %w", h.EventID, err)
	}
	b := make([]byte, 0, binary.MaxVarintLen64+len(hb)+len(body))
	b = binary.AppendUvarint(b, uint64(len(hb)))
	b = append(b, hb...)
	return append(b, body...), nil
}

// decodeHistory parses the stored record v of key k; with body false it
// leaves the body out. The result shares no memory with k or v.
func decodeHistory(k, v []byte, body bool) (HistoryEvent, error) {
	n, size := binary.Uvarint(v)
	if len(k) != historyKeyLen || size <= 0 || n > uint64(len(v)-size) {
		return HistoryEvent{}, fmt.Errorf("history record %x is cut short", k)
	}
	var h historyHeader
	if err := json.Unmarshal(v[size:size+int(n)], &h); err != nil {
		return HistoryEvent{}, fmt.Errorf("history record %x: %w", k, err)
	}
	e := HistoryEvent{
		Cursor: hex.EncodeToString(k), EventID: h.EventID, Type: h.Type,
		Meeting:   SnapshotKey{Watch: h.Watch, MeetingID: h.MeetingID},
		CreatedAt: h.CreatedAt, Notifiers: h.Notifiers, Silenced: h.Silenced,
	}
	if body {
		e.Body = slices.Clone(v[size+int(n):])
	}
	return e, nil
}
