package storetest

import (
	"fmt"
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// notice returns an event about no meeting, as the delivery worker queues
// notifier.failing, for the notifiers.
func notice(id string, notifiers ...string) store.NewEvent {
	e := event(id, notifiers...)
	e.Type = "notifier.failing"
	return e
}

// enqueued calls s.Enqueue and fails the test unless it queued n events.
func enqueued(t *testing.T, s Store, n int, events ...store.NewEvent) {
	t.Helper()
	got, err := s.Enqueue(events...)
	if err != nil || got != n {
		t.Fatalf("Enqueue(%d events) = %d, %v; want %d queued", len(events), got, err, n)
	}
}

func enqueue(t *testing.T, s Store) {
	commit(t, s, "m1", event("evt_0", "ops"))
	silenced := notice("evt_b", "ops")
	silenced.Silenced = []string{"chat"}
	enqueued(t, s, 2, notice("evt_a", "ops", "chat"), silenced)
	// Again, after a restart or under a new leader: the history holds evt_a,
	// and an event named twice in one call is queued once.
	enqueued(t, s, 1, notice("evt_a", "ops", "chat"), notice("evt_c", "chat"), notice("evt_c", "chat"))
	enqueued(t, s, 0)
	// An event silenced for every notifier is queued for none and kept.
	held := notice("evt_d")
	held.Silenced = []string{"ops"}
	enqueued(t, s, 1, held)

	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out {
		got = append(got, fmt.Sprintf("%d %s %q %s %s attempts %d", d.ID, d.Notifier, d.Meeting.String(), d.EventID, d.EventType, d.Attempts))
	}
	want(t, "outbox (IDs continue Commit's, no meeting)", got, []string{
		`1 ops "w/m1" evt_0 session.started attempts 0`,
		`2 ops "/" evt_a notifier.failing attempts 0`,
		`3 chat "/" evt_a notifier.failing attempts 0`,
		`4 ops "/" evt_b notifier.failing attempts 0`,
		`5 chat "/" evt_c notifier.failing attempts 0`,
	})
	want(t, "history", history(t, s, store.HistoryQuery{Type: "notifier.failing"}), []string{
		"evt_a / [ops chat] []", "evt_b / [ops] [chat]", "evt_c / [chat] []", "evt_d / [] [ops]",
	})
	if n, _, err := s.HistorySize(); n != 5 || err != nil {
		t.Errorf("HistorySize = %d, %v; want 5 events", n, err)
	}
	snaps, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	want(t, "snapshots (Enqueue writes none)", len(snaps), 1)
	// A delivery queued by Enqueue has the outcomes of any other.
	if err := s.MarkDelivered("chat", 3); err != nil {
		t.Fatal(err)
	}
	p, err := s.PendingAfter("chat", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "chat's outbox after a delivery", ids(p), []uint64{5})
}

func enqueueAllOrNothing(t *testing.T, s Store) {
	enqueued(t, s, 1, notice("evt_kept", "ops"))
	bad := map[string]store.NewEvent{
		"a repeated notifier":            notice("evt_bad", "ops", "ops"),
		"a notifier queued and silenced": func() store.NewEvent { e := notice("evt_bad", "ops"); e.Silenced = []string{"ops"}; return e }(),
		"an empty notifier":              notice("evt_bad", ""),
		"no id":                          notice("", "ops"),
		"no body":                        func() store.NewEvent { e := notice("evt_bad", "ops"); e.Body = nil; return e }(),
		"no type":                        func() store.NewEvent { e := notice("evt_bad", "ops"); e.Type = ""; return e }(),
	}
	for name, e := range bad {
		if n, err := s.Enqueue(notice("evt_new", "ops"), e); err == nil || n != 0 {
			t.Errorf("Enqueue of an event with %s = %d, %v; want an error and nothing queued", name, n, err)
		}
	}
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "outbox after refused Enqueues", ids(out), []uint64{1})
	want(t, "history after refused Enqueues", history(t, s, store.HistoryQuery{}), []string{"evt_kept / [ops] []"})
}
