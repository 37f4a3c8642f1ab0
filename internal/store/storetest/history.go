package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// at returns an event created at t0 plus d, for the notifiers.
func at(id string, d time.Duration, notifiers ...string) store.NewEvent {
	e := event(id, notifiers...)
	e.CreatedAt = t0.Add(d)
	return e
}

// history returns the history that q selects, as "id watch/meeting
// notifiers silenced" lines, failing the test on an error.
func history(t *testing.T, s Store, q store.HistoryQuery) []string {
	t.Helper()
	h, err := s.History(q)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range h {
		out = append(out, fmt.Sprintf("%s %s %v %v", e.EventID, e.Meeting, e.Notifiers, e.Silenced))
	}
	return out
}

func historyBesideOutbox(t *testing.T, s Store) {
	silenced := event("evt_2", "ops")
	silenced.Silenced = []string{"chat"}
	commit(t, s, "m1", event("evt_1", "ops", "chat"), silenced, event("evt_3"))
	want(t, "history", history(t, s, store.HistoryQuery{}), []string{
		"evt_1 w/m1 [ops chat] []", "evt_2 w/m1 [ops] [chat]", "evt_3 w/m1 [] []",
	})
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "outbox (nothing for the silenced notifier)", len(out), 3)
	bad := event("evt_bad", "ops")
	bad.Silenced = []string{"ops"}
	err = s.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "w", MeetingID: "m2"}, Snapshot: []byte("x"),
		Events: []store.NewEvent{event("evt_4", "ops"), bad}}})
	if err == nil {
		t.Fatal("Commit of an event both queued and silenced for ops succeeded, want an error")
	}
	want(t, "history after a refused commit", len(history(t, s, store.HistoryQuery{})), 3)
	h, err := s.History(store.HistoryQuery{Limit: 1})
	if err != nil || len(h) != 1 {
		t.Fatalf("History(limit 1) = %v, %v", h, err)
	}
	if string(h[0].Body) != `{"data":{"id":"evt_1"}}` || !h[0].CreatedAt.Equal(t0) || h[0].Type != "session.started" {
		t.Errorf("history event = %+v, want evt_1's body, type and time", h[0])
	}
	if n, size, err := s.HistorySize(); n != 3 || size <= 0 || err != nil {
		t.Errorf("HistorySize = %d, %d, %v; want 3 events of some bytes", n, size, err)
	}
}

func historyListing(t *testing.T, s Store) {
	commit(t, s, "m1", at("evt_1", 0, "ops"), at("evt_2", time.Minute, "ops"))
	commit(t, s, "m2", at("evt_3", time.Second))
	other := at("evt_4", 2*time.Minute, "ops")
	other.Type = "session.ended"
	commit(t, s, "m1", other)
	all := history(t, s, store.HistoryQuery{})
	want(t, "history (by creation time)", all, []string{
		"evt_1 w/m1 [ops] []", "evt_3 w/m2 [] []", "evt_2 w/m1 [ops] []", "evt_4 w/m1 [ops] []"})
	// Since is inclusive: the event created at it is listed, the one a
	// nanosecond before it is not.
	want(t, "since t0+1s", history(t, s, store.HistoryQuery{Since: t0.Add(time.Second)}), all[1:])
	want(t, "since t0+1s+1ns", history(t, s, store.HistoryQuery{Since: t0.Add(time.Second + 1)}), all[2:])
	want(t, "meeting m1", history(t, s, store.HistoryQuery{MeetingID: "m1"}), []string{all[0], all[2], all[3]})
	want(t, "type", history(t, s, store.HistoryQuery{Type: "session.ended"}), all[3:])
	want(t, "watch x", history(t, s, store.HistoryQuery{Watch: "x"}), []string{})
	var pages []string
	q := store.HistoryQuery{Limit: 3, MeetingID: "m1"}
	for {
		page, err := s.History(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			pages = append(pages, e.EventID)
		}
		if len(page) < q.Limit {
			break
		}
		q.After, q.Limit = page[len(page)-1].Cursor, 1
	}
	want(t, "paged meeting m1", pages, []string{"evt_1", "evt_2", "evt_4"})
	if _, err := s.History(store.HistoryQuery{After: "zz"}); !errors.Is(err, store.ErrCursor) {
		t.Errorf("History(after zz): %v, want ErrCursor", err)
	}
}

func historyPrune(t *testing.T, s Store) {
	for i := range 5 {
		commit(t, s, "m", at(fmt.Sprintf("evt_%d", i), time.Duration(i)*time.Minute, "ops"))
	}
	// The cutoff keeps the event created at it.
	n, err := s.PruneHistory(store.HistoryBounds{Cutoff: t0.Add(time.Minute)})
	want(t, "pruned before t0+1m", fmt.Sprint(n, err), "1 <nil>")
	n, err = s.PruneHistory(store.HistoryBounds{MaxEvents: 3})
	want(t, "pruned to 3 events", fmt.Sprint(n, err), "1 <nil>")
	n, err = s.PruneHistory(store.HistoryBounds{MaxEvents: 3})
	want(t, "pruned at 3 events", fmt.Sprint(n, err), "0 <nil>")
	events, size, err := s.HistorySize()
	if err != nil || events != 3 {
		t.Fatalf("HistorySize = %d, %d, %v; want 3 events", events, size, err)
	}
	n, err = s.PruneHistory(store.HistoryBounds{MaxBytes: size})
	want(t, "pruned at its size", fmt.Sprint(n, err), "0 <nil>")
	n, err = s.PruneHistory(store.HistoryBounds{MaxBytes: size - 1})
	want(t, "pruned a byte under its size", fmt.Sprint(n, err), "1 <nil>")
	want(t, "history left", history(t, s, store.HistoryQuery{}), []string{"evt_3 w/m [ops] []", "evt_4 w/m [ops] []"})
	if _, err := s.Replay("ops", t0, "evt_0"); !errors.Is(err, store.ErrNotInHistory) {
		t.Errorf("Replay of a pruned event: %v, want ErrNotInHistory", err)
	}
	out, err := s.OutboxAfter(0, 0)
	want(t, "outbox after pruning the history", fmt.Sprint(len(out), err), "5 <nil>")
}

func replay(t *testing.T, s Store) {
	commit(t, s, "m1", event("evt_1", "ops"), event("evt_2"))
	if err := s.MarkDelivered("ops", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay("new", t0, "evt_2", "evt_nope"); !errors.Is(err, store.ErrNotInHistory) {
		t.Errorf("Replay of an unknown id: %v, want ErrNotInHistory", err)
	}
	if out, _ := s.OutboxAfter(0, 0); len(out) != 0 {
		t.Errorf("outbox after a refused replay: %d deliveries, want none", len(out))
	}
	later := t0.Add(time.Hour)
	got, err := s.Replay("new", later, "evt_2", "evt_1")
	want(t, "Replay", fmt.Sprint(got, err), "[2 3] <nil>")
	p, err := s.PendingAfter("new", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range p {
		lines = append(lines, fmt.Sprintf("%d %s %s %s %s requeued %s", d.ID, d.EventID, d.Meeting, d.EventType, d.Body, d.RequeuedAt.Format(time.RFC3339)))
	}
	want(t, "replayed deliveries", lines, []string{
		`2 evt_2 w/m1 session.started {"data":{"id":"evt_2"}} requeued 2026-11-25T22:00:00Z`,
		`3 evt_1 w/m1 session.started {"data":{"id":"evt_1"}} requeued 2026-11-25T22:00:00Z`,
	})
	want(t, "history after replay (unchanged)", len(history(t, s, store.HistoryQuery{})), 2)
}

func silences(t *testing.T, s Store) {
	end := t0.Add(2 * time.Hour)
	id1, err := s.AddSilence(store.Silence{Watch: "w", Start: t0, End: end, Reason: "maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.AddSilence(store.Silence{Watch: "w", Notifier: "ops", Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for name, sil := range map[string]store.Silence{
		"no watch":         {Start: t0, End: end},
		"end at start":     {Watch: "w", Start: t0, End: t0},
		"end before start": {Watch: "w", Start: end, End: t0},
		"no start":         {Watch: "w", End: end},
	} {
		if _, err := s.AddSilence(sil); err == nil {
			t.Errorf("AddSilence(%s) succeeded, want an error", name)
		}
	}
	list, err := s.Silences()
	if err != nil {
		t.Fatal(err)
	}
	want(t, "silences", list, []store.Silence{
		{ID: id1, Watch: "w", Start: t0, End: end, Reason: "maintenance"},
		{ID: id2, Watch: "w", Notifier: "ops", Start: t0, End: t0.Add(time.Hour)},
	})
	// A silence that ends at now is over; one that ends after it is not.
	n, err := s.PruneSilences(t0.Add(time.Hour))
	want(t, "pruned at the end of the second", fmt.Sprint(n, err), "1 <nil>")
	if err := s.RemoveSilence(id2); !errors.Is(err, store.ErrNoSilence) {
		t.Errorf("RemoveSilence of a pruned one: %v, want ErrNoSilence", err)
	}
	if err := s.RemoveSilence(id1); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Silences(); len(list) != 0 || err != nil {
		t.Errorf("Silences after removing all = %v, %v; want none", list, err)
	}
	if id3, _ := s.AddSilence(store.Silence{Watch: "w", Start: t0, End: end}); id3 <= id2 {
		t.Errorf("a new silence has ID %d, want above %d (IDs are not reused)", id3, id2)
	}
}
