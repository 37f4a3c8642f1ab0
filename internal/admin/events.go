package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Event is one event of /v1/events: a committed event as the history
// keeps it.
type Event struct {
	Cursor    string          `json:"cursor"`
	EventID   string          `json:"event_id"`
	Type      string          `json:"type"`
	Watch     string          `json:"watch"`
	MeetingID string          `json:"meeting_id"`
	CreatedAt time.Time       `json:"created_at"`
	Notifiers []string        `json:"notifiers,omitempty"`
	Silenced  []string        `json:"silenced,omitempty"`
	Body      json.RawMessage `json:"body"`
}

// EventOf returns the Event of a history event.
func EventOf(e store.HistoryEvent) Event {
	return Event{Cursor: e.Cursor, EventID: e.EventID, Type: e.Type, Watch: e.Meeting.Watch,
		MeetingID: e.Meeting.MeetingID, CreatedAt: e.CreatedAt, Notifiers: e.Notifiers, Silenced: e.Silenced, Body: e.Body}
}

// HistoryEvent is the inverse of EventOf.
func (e Event) HistoryEvent() store.HistoryEvent {
	return store.HistoryEvent{Cursor: e.Cursor, EventID: e.EventID, Type: e.Type,
		Meeting:   store.SnapshotKey{Watch: e.Watch, MeetingID: e.MeetingID},
		CreatedAt: e.CreatedAt, Notifiers: e.Notifiers, Silenced: e.Silenced, Body: e.Body}
}

// events answers `rtkwatchd events`: one page of the history, oldest
// first, as one JSON array: the events created at or after since=T
// (RFC 3339), after the cursor after=C, of watch=, meeting= and type=, at
// most limit=N (1 to MaxPage, default MaxPage).
func (h Handlers) events(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.HistoryQuery{After: v.Get("after"), Watch: v.Get("watch"), MeetingID: v.Get("meeting"), Type: v.Get("type"), Limit: MaxPage}
	if s := v.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			http.Error(w, fmt.Sprintf("since=%q is not an RFC 3339 time", s), http.StatusBadRequest)
			return
		}
		q.Since = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPage {
			http.Error(w, fmt.Sprintf("limit=%q is not a number from 1 to %d", s, MaxPage), http.StatusBadRequest)
			return
		}
		q.Limit = n
	}
	list, err := h.Store.History(q)
	if errors.Is(err, store.ErrCursor) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		h.Log.Error().Err(err).Msg("admin: read history")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := make([]Event, 0, len(list))
	for _, e := range list {
		out = append(out, EventOf(e))
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// ReplayRequest is the body of POST /v1/events/replay.
type ReplayRequest struct {
	Notifier string   `json:"notifier"`
	IDs      []string `json:"ids"`
}

// maxReplayBody bounds the body of a replay request: MaxPage ids.
const maxReplayBody = 1 << 20

// replay answers `rtkwatchd events replay`: it queues the events ids of
// the history again for notifier, all or none. An unknown notifier is a
// 400, an id not in the history a 422.
func (h Handlers) replay(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(cliHeader) == "" {
		http.Error(w, "missing "+cliHeader+" header", http.StatusForbidden)
		return
	}
	var req ReplayRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReplayBody)).Decode(&req); err != nil {
		http.Error(w, fmt.Sprintf("replay request: %v", err), http.StatusBadRequest)
		return
	}
	switch {
	case req.Notifier == "" || len(req.IDs) == 0:
		http.Error(w, "replay needs a notifier and event ids", http.StatusBadRequest)
		return
	case len(req.IDs) > MaxPage:
		http.Error(w, fmt.Sprintf("replay at most %d ids at a time", MaxPage), http.StatusBadRequest)
		return
	case h.Notifier != nil && !h.Notifier(req.Notifier):
		http.Error(w, fmt.Sprintf("unknown notifier %q (the daemon's config has none of that name)", req.Notifier), http.StatusBadRequest)
		return
	}
	ids, err := h.Store.Replay(req.Notifier, time.Now(), req.IDs...)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotInHistory) {
			code = http.StatusUnprocessableEntity
		}
		http.Error(w, err.Error(), code)
		return
	}
	if h.Requeued != nil {
		h.Requeued()
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"replayed": len(ids)})
}
