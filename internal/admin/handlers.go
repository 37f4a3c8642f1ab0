package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Store is what the admin API reads and changes: *store.Store, or under
// ha a store in etcd.
type Store interface {
	ForEachSnapshot(fn func(store.SnapshotKey, []byte) error) error
	OutboxAfter(afterID uint64, limit int) ([]store.Delivery, error)
	DeadLettersAfter(afterID uint64, limit int) ([]store.Delivery, error)
	Requeue(at time.Time, ids ...uint64) (int, error)
	History(q store.HistoryQuery) ([]store.HistoryEvent, error)
	Replay(notifier string, at time.Time, ids ...string) ([]uint64, error)
	Silences() ([]store.Silence, error)
	AddSilence(s store.Silence) (uint64, error)
	RemoveSilence(id uint64) error
}

// Snapshot is one line of /v1/state: a stored snapshot as the store holds
// it, with its key.
type Snapshot struct {
	Watch     string          `json:"watch"`
	MeetingID string          `json:"meeting_id"`
	Snapshot  json.RawMessage `json:"snapshot"`
}

// state answers `rtkwatchd state` while the daemon holds the store: the raw
// stored snapshots, one JSON object per line, keyed as in the store. The
// answer is whole or a 500: it is encoded in full before the first byte
// goes out, so that a store that fails half-way cannot pass for a short
// list.
func (h Handlers) state(w http.ResponseWriter, r *http.Request) {
	meeting := r.URL.Query().Get("meeting")
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	err := h.Store.ForEachSnapshot(func(k store.SnapshotKey, b []byte) error {
		if meeting != "" && k.MeetingID != meeting {
			return nil
		}
		return enc.Encode(Snapshot{Watch: k.Watch, MeetingID: k.MeetingID, Snapshot: b})
	})
	if err != nil {
		h.Log.Error().Err(err).Msg("admin: read snapshots")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("content-type", "application/x-ndjson")
	_, _ = body.WriteTo(w)
}

// MaxPage is the most deliveries one answer of /v1/deliveries holds; the
// client pages for more, so that no listing holds a whole bucket.
const MaxPage = 1000

// deliveries answers `rtkwatchd deliveries`: one page of the outbox, or
// with failed=1 of the dead letters, as one JSON array in ascending ID
// order: the deliveries with an ID above after=ID (default 0), at most
// limit=N of them (1 to MaxPage, default MaxPage).
func (h Handlers) deliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("after=%q is not a delivery ID", s), http.StatusBadRequest)
			return
		}
		after = n
	}
	limit := MaxPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPage {
			http.Error(w, fmt.Sprintf("limit=%q is not a number from 1 to %d", s, MaxPage), http.StatusBadRequest)
			return
		}
		limit = n
	}
	var (
		list []store.Delivery
		err  error
	)
	if q.Get("failed") != "" {
		list, err = h.Store.DeadLettersAfter(after, limit)
	} else {
		list, err = h.Store.OutboxAfter(after, limit)
	}
	if err != nil {
		h.Log.Error().Err(err).Msg("admin: read deliveries")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if list == nil {
		list = []store.Delivery{}
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// retry answers `rtkwatchd deliveries retry`: it queues the dead letters
// ids=1,2,… (or all=1: every one) again.
func (h Handlers) retry(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(cliHeader) == "" {
		http.Error(w, "missing "+cliHeader+" header", http.StatusForbidden)
		return
	}
	var ids []uint64
	if s := r.URL.Query().Get("ids"); s != "" {
		for _, f := range strings.Split(s, ",") {
			id, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				http.Error(w, fmt.Sprintf("bad delivery ID %q", f), http.StatusBadRequest)
				return
			}
			ids = append(ids, id)
		}
	} else if r.URL.Query().Get("all") == "" {
		http.Error(w, "give ids=… or all=1", http.StatusBadRequest)
		return
	}
	n, err := h.Store.Requeue(time.Now(), ids...)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	if h.Requeued != nil {
		h.Requeued()
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"requeued": n})
}
