package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// statusOf returns the HTTP status of an admin API error, or 0.
func statusOf(err error) int {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

func TestEventsAndReplay(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, m := range []string{"m1", "m2", "m3"} {
		r.commit(t, "w", m, "s")
	}
	var got []string
	q := store.HistoryQuery{Limit: 2}
	for {
		page, err := r.client.History(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.EventID+" "+e.Meeting.String()+" "+string(e.Body))
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor
	}
	if diff := cmp.Diff([]string{"evt_m1 w/m1 {}", "evt_m2 w/m2 {}", "evt_m3 w/m3 {}"}, got); diff != "" {
		t.Errorf("history through the API (-want +got):\n%s", diff)
	}
	if page, err := r.client.History(ctx, store.HistoryQuery{MeetingID: "m2", Since: time.Now().Add(-time.Hour)}); err != nil || len(page) != 1 {
		t.Errorf("history of m2 = %v, %v; want evt_m2", page, err)
	}
	if _, err := r.client.History(ctx, store.HistoryQuery{After: "nope"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("history after a bad cursor: %v, want a 400", err)
	}

	if _, err := r.client.Replay(ctx, "unknown-n", []string{"evt_m1"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("replay to an unknown notifier: %v, want a 400", err)
	}
	if _, err := r.client.Replay(ctx, "new", []string{"evt_m1", "evt_gone"}); statusOf(err) != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), "evt_gone") {
		t.Errorf("replay of an unknown id: %v, want a 422 naming it", err)
	}
	n, err := r.client.Replay(ctx, "new", []string{"evt_m1", "evt_m3"})
	if n != 2 || err != nil {
		t.Fatalf("Replay = %d, %v; want 2", n, err)
	}
	p, err := r.st.PendingAfter("new", 0, 0)
	if err != nil || len(p) != 2 || p[0].EventID != "evt_m1" || p[1].EventID != "evt_m3" {
		t.Errorf("outbox of new = %+v, %v; want evt_m1 and evt_m3", p, err)
	}
	if r.requeued.Load() != 1 {
		t.Errorf("the worker was woken %d times, want once", r.requeued.Load())
	}
}

func TestSilencesThroughTheAPI(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := store.Silence{Watch: "w", Notifier: "ops", Start: start, End: start.Add(2 * time.Hour), Reason: "maintenance"}
	id, err := r.client.AddSilence(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]store.Silence{
		"unknown watch":    {Watch: "unknown-w", Start: start, End: start.Add(time.Hour)},
		"unknown notifier": {Watch: "w", Notifier: "unknown-n", Start: start, End: start.Add(time.Hour)},
		"ends before":      {Watch: "w", Start: start, End: start.Add(-time.Hour)},
	} {
		if _, err := r.client.AddSilence(ctx, bad); statusOf(err) != http.StatusBadRequest {
			t.Errorf("add %s: %v, want a 400", name, err)
		}
	}
	list, err := r.client.Silences(ctx)
	s.ID = id
	if err != nil || cmp.Diff([]store.Silence{s}, list) != "" {
		t.Errorf("Silences = %+v, %v; want %+v", list, err, s)
	}
	if err := r.client.RemoveSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.client.RemoveSilence(ctx, id); statusOf(err) != http.StatusNotFound {
		t.Errorf("removing it again: %v, want a 404", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+r.srv.Addr()+"/v1/silences/1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE without the CLI header: %d, want 403", res.StatusCode)
	}
}
