package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// History returns one page of the daemon's history that q selects, at most
// min(q.Limit, MaxPage) events; a caller pages on with the Cursor of the
// last one.
func (c *Client) History(ctx context.Context, q store.HistoryQuery) ([]store.HistoryEvent, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	for k, s := range map[string]string{"after": q.After, "watch": q.Watch, "meeting": q.MeetingID, "type": q.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	limit := MaxPage
	if q.Limit > 0 {
		limit = min(q.Limit, MaxPage)
	}
	v.Set("limit", strconv.Itoa(limit))
	var page []Event
	if err := c.do(ctx, http.MethodGet, "/v1/events", v, &page); err != nil {
		return nil, err
	}
	out := make([]store.HistoryEvent, 0, len(page))
	for _, e := range page {
		out = append(out, e.HistoryEvent())
	}
	return out, nil
}

// Replay queues the events ids (at most MaxPage) of the daemon's history
// again for notifier, and returns how many it queued.
func (c *Client) Replay(ctx context.Context, notifier string, ids []string) (int, error) {
	var out struct {
		Replayed int `json:"replayed"`
	}
	err := c.send(ctx, http.MethodPost, "/v1/events/replay", nil, ReplayRequest{Notifier: notifier, IDs: ids}, &out)
	return out.Replayed, err
}

// Silences lists the daemon's ad hoc silences.
func (c *Client) Silences(ctx context.Context) ([]store.Silence, error) {
	var out []store.Silence
	err := c.do(ctx, http.MethodGet, "/v1/silences", nil, &out)
	return out, err
}

// AddSilence stores s in the daemon's store and returns its ID.
func (c *Client) AddSilence(ctx context.Context, s store.Silence) (uint64, error) {
	var out struct {
		ID uint64 `json:"id"`
	}
	err := c.send(ctx, http.MethodPost, "/v1/silences", nil, s, &out)
	return out.ID, err
}

// RemoveSilence removes the daemon's silence id.
func (c *Client) RemoveSilence(ctx context.Context, id uint64) error {
	return c.do(ctx, http.MethodDelete, "/v1/silences/"+strconv.FormatUint(id, 10), nil, nil)
}
