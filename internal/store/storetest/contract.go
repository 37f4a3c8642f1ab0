package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Store is the contract of rtkwatchd's state store, as the poller, the
// delivery worker, the admin API and the CLI use it: what *store.Store
// does over bbolt, and what another store (over etcd, say) must do the
// same way.
type Store interface {
	Snapshots(watch string) (map[string][]byte, error)
	Commit(updates []store.Update) error
	Enqueue(events ...store.NewEvent) (int, error)
	PendingAfter(notifier string, afterID uint64, limit int) ([]store.Delivery, error)
	OutboxAfter(afterID uint64, limit int) ([]store.Delivery, error)
	OutboxDepth() (map[string]int, error)
	MarkDelivered(notifier string, id uint64) error
	RecordAttempt(notifier string, id uint64, attempts int, next time.Time, lastErr string) error
	DeadLetter(notifier string, id uint64, at time.Time, lastErr string) error
	DeadLetterAll(notifier string, at time.Time, reason string) (int, error)
	DeadLettersAfter(afterID uint64, limit int) ([]store.Delivery, error)
	DeadLetterCount() (int, error)
	Requeue(at time.Time, ids ...uint64) (int, error)
	RemoveDeadLetters(cutoff time.Time) (int, error)
	History(q store.HistoryQuery) ([]store.HistoryEvent, error)
	HistorySize() (events, size int64, err error)
	PruneHistory(b store.HistoryBounds) (int, error)
	Replay(notifier string, at time.Time, ids ...string) ([]uint64, error)
	AddSilence(s store.Silence) (uint64, error)
	Silences() ([]store.Silence, error)
	RemoveSilence(id uint64) error
	PruneSilences(now time.Time) (int, error)
	Combine(notifier string, ids []uint64, c store.Combined) (store.Delivery, error)
}

// t0 is when the contract's events happen.
var t0 = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// Run runs the contract against stores that open returns, a fresh and
// empty one per subtest; open closes it when the test ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"commit is all or nothing", commitAllOrNothing},
		{"one delivery per notifier, with its meeting", commitQueues},
		{"outcomes of deliveries", outcomes},
		{"requeue is all or nothing", requeueAllOrNothing},
		{"retire a notifier's outbox", retire},
		{"remove old dead letters", removeOld},
		{"listings page", listingsPage},
		{"history beside the outbox", historyBesideOutbox},
		{"history since a time, filtered, paged", historyListing},
		{"history pruned by age, count and size", historyPrune},
		{"replay is all or nothing, with the same ids", replay},
		{"silences", silences},
		{"combine is all or nothing", combine},
		{"enqueue events of no meeting, once each", enqueue},
		{"enqueue is all or nothing", enqueueAllOrNothing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// event returns a valid event for the notifiers.
func event(id string, notifiers ...string) store.NewEvent {
	return store.NewEvent{ID: id, Type: "session.started", CreatedAt: t0,
		Body: []byte(`{"data":{"id":"` + id + `"}}`), Notifiers: notifiers}
}

// commit commits one update of meeting of watch "w" with events, failing
// the test on an error.
func commit(t *testing.T, s Store, meeting string, events ...store.NewEvent) {
	t.Helper()
	err := s.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "w", MeetingID: meeting}, Snapshot: []byte(meeting), Events: events}})
	if err != nil {
		t.Fatal(err)
	}
}

// ids returns the IDs of ds.
func ids(ds []store.Delivery) []uint64 {
	out := []uint64{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// want fails the test when got is not want.
func want[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

func commitAllOrNothing(t *testing.T, s Store) {
	commit(t, s, "kept", event("evt_kept", "ops"))
	bad := []store.Update{
		{Key: store.SnapshotKey{Watch: "w", MeetingID: "new"}, Snapshot: []byte("new"), Events: []store.NewEvent{event("evt_new", "ops")}},
		{Key: store.SnapshotKey{Watch: "w", MeetingID: "bad"}, Snapshot: []byte("bad"), Events: []store.NewEvent{event("evt_bad", "ops", "ops")}},
	}
	if err := s.Commit(bad); err == nil {
		t.Fatal("Commit with a repeated notifier succeeded, want an error")
	}
	snaps, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	want(t, "snapshots after a refused batch", snaps, map[string][]byte{"kept": []byte("kept")})
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "outbox after a refused batch", ids(out), []uint64{1})
}

func commitQueues(t *testing.T, s Store) {
	commit(t, s, "m1", event("evt_1", "ops", "chat"), event("evt_2"))
	commit(t, s, "m2", event("evt_3", "chat"))
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out {
		got = append(got, fmt.Sprintf("%d %s %s %s %s", d.ID, d.Notifier, d.Meeting, d.EventID, d.Body))
	}
	want(t, "outbox", got, []string{
		`1 ops w/m1 evt_1 {"data":{"id":"evt_1"}}`,
		`2 chat w/m1 evt_1 {"data":{"id":"evt_1"}}`,
		`3 chat w/m2 evt_3 {"data":{"id":"evt_3"}}`,
	})
	p, err := s.PendingAfter("chat", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "chat's outbox", ids(p), []uint64{2, 3})
	depth, err := s.OutboxDepth()
	if err != nil {
		t.Fatal(err)
	}
	want(t, "OutboxDepth", depth, map[string]int{"ops": 1, "chat": 2})
}

func outcomes(t *testing.T, s Store) {
	commit(t, s, "m", event("evt_1", "ops"), event("evt_2", "ops"), event("evt_3", "ops"))
	next := t0.Add(time.Minute)
	if err := s.RecordAttempt("ops", 1, 2, next, "503"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered("ops", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter("ops", 3, t0, ""); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"MarkDelivered of a delivered one": s.MarkDelivered("ops", 2),
		"MarkDelivered of a dead letter":   s.MarkDelivered("ops", 3),
		"MarkDelivered of another's":       s.MarkDelivered("chat", 1),
		"RecordAttempt of an unknown ID":   s.RecordAttempt("ops", 99, 1, t0, "x"),
		"DeadLetter of an unknown ID":      s.DeadLetter("ops", 99, t0, "x"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	p, err := s.PendingAfter("ops", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].Attempts != 2 || !p[0].NextAttempt.Equal(next) || p[0].LastError != "503" {
		t.Errorf("outbox after the outcomes: %+v, want delivery 1 with 2 attempts, next at %s, last error 503", p, next)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != 3 || !dead[0].DeadAt.Equal(t0) {
		t.Errorf("dead letters: %+v, want delivery 3, dead at %s", dead, t0)
	}
	if n, err := s.DeadLetterCount(); n != 1 || err != nil {
		t.Errorf("DeadLetterCount = %d, %v; want 1", n, err)
	}
}

func requeueAllOrNothing(t *testing.T, s Store) {
	commit(t, s, "m", event("evt_1", "ops"), event("evt_2", "ops"))
	for _, id := range []uint64{1, 2} {
		if err := s.DeadLetter("ops", id, t0, "410"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Requeue(t0, 1, 7); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Requeue(1, 7): %v, want ErrNotFound", err)
	}
	if n, _ := s.DeadLetterCount(); n != 2 {
		t.Errorf("%d dead letters after a refused requeue, want 2", n)
	}
	at := t0.Add(time.Hour)
	if n, err := s.Requeue(at, 2, 2); n != 1 || err != nil {
		t.Errorf("Requeue(2, 2) = %d, %v; want 1", n, err)
	}
	p, err := s.PendingAfter("ops", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].ID != 2 || !p[0].RequeuedAt.Equal(at) || p[0].LastError != "" || !p[0].DeadAt.IsZero() {
		t.Errorf("outbox after requeue: %+v, want delivery 2 requeued at %s, cleared", p, at)
	}
	if n, err := s.Requeue(at); n != 1 || err != nil {
		t.Errorf("Requeue() = %d, %v; want the 1 left", n, err)
	}
}

func retire(t *testing.T, s Store) {
	commit(t, s, "m", event("evt_1", "gone", "ops"), event("evt_2", "gone"))
	n, err := s.DeadLetterAll("gone", t0, "notifier gone is no longer configured")
	if n != 2 || err != nil {
		t.Errorf("DeadLetterAll = %d, %v; want 2", n, err)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		if d.Notifier != "gone" || d.LastError != "notifier gone is no longer configured" {
			t.Errorf("dead letter %+v", d)
		}
	}
	want(t, "dead letters", ids(dead), []uint64{1, 3})
	p, _ := s.PendingAfter("ops", 0, 0)
	want(t, "ops' outbox", ids(p), []uint64{2})
}

func removeOld(t *testing.T, s Store) {
	commit(t, s, "m", event("evt_1", "ops"), event("evt_2", "ops"), event("evt_3", "ops"))
	cutoff := t0
	for id, at := range map[uint64]time.Time{1: cutoff.Add(-time.Nanosecond), 2: cutoff, 3: cutoff.Add(time.Second)} {
		if err := s.DeadLetter("ops", id, at, "410"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RemoveDeadLetters(cutoff); n != 1 || err != nil {
		t.Errorf("RemoveDeadLetters = %d, %v; want 1 (only the one that died before the cutoff)", n, err)
	}
	dead, _ := s.DeadLettersAfter(0, 0)
	want(t, "dead letters left", ids(dead), []uint64{2, 3})
}

func listingsPage(t *testing.T, s Store) {
	for i := range 5 {
		commit(t, s, fmt.Sprint("m", i), event(fmt.Sprint("evt_", i), "ops", "chat")) // ops odd, chat even IDs
	}
	for _, id := range []uint64{2, 5, 8} {
		n := "chat"
		if id%2 == 1 {
			n = "ops"
		}
		if err := s.DeadLetter(n, id, t0, "410"); err != nil {
			t.Fatal(err)
		}
	}
	var pages [][]uint64
	for after := uint64(0); ; {
		page, err := s.OutboxAfter(after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, ids(page))
		after = page[len(page)-1].ID
	}
	want(t, "outbox pages of 3", pages, [][]uint64{{1, 3, 4}, {6, 7, 9}, {10}})
	dead, err := s.DeadLettersAfter(2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "dead letters after 2, 1 of them", ids(dead), []uint64{5})
	rest, _ := s.DeadLettersAfter(5, 10)
	want(t, "dead letters after 5", ids(rest), []uint64{8})
}

func combine(t *testing.T, s Store) {
	commit(t, s, "m1", event("evt_1", "chat"))
	commit(t, s, "m2", event("evt_2", "chat", "ops"), event("evt_3", "chat"))
	commit(t, s, "m3", event("evt_4", "chat"))
	if err := s.RecordAttempt("chat", 2, 1, t0, "503"); err != nil { // chat's IDs: 1, 2, 4, 5
		t.Fatal(err)
	}
	c := store.Combined{EventID: "grp_evt_2", EventType: "group", Body: []byte(`[2,3]`)}
	for name, ids := range map[string][]uint64{
		"another notifier's": {2, 3},
		"an unknown ID":      {2, 99},
	} {
		if _, err := s.Combine("chat", ids, c); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Combine of %s: %v, want ErrNotFound", name, err)
		}
	}
	for _, ids := range [][]uint64{{2}, {2, 2}} {
		if _, err := s.Combine("chat", ids, c); err == nil {
			t.Errorf("Combine(%v) succeeded, want an error", ids)
		}
	}
	p, _ := s.PendingAfter("chat", 0, 0)
	want(t, "chat's outbox after refused combines", ids(p), []uint64{1, 2, 4, 5})

	got, err := s.Combine("chat", []uint64{5, 2, 4}, c)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = s.PendingAfter("chat", 0, 0)
	want(t, "chat's outbox after the combine", ids(p), []uint64{1, 2})
	d := p[1]
	want(t, "combined delivery", fmt.Sprintf("%d %s %s %s %s attempts %d", d.ID, d.Meeting, d.EventID, d.EventType, d.Body, d.Attempts),
		`2 w/m2 grp_evt_2 group [2,3] attempts 0`)
	want(t, "returned delivery", fmt.Sprint(got.ID, got.EventID, string(got.Body)), fmt.Sprint(d.ID, d.EventID, string(d.Body)))
	if !d.CreatedAt.Equal(t0) {
		t.Errorf("combined delivery created %s, want its first's %s", d.CreatedAt, t0)
	}
	ops, _ := s.PendingAfter("ops", 0, 0)
	want(t, "ops' outbox", ids(ops), []uint64{3})
}
