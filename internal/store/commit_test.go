package store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testEvent returns a valid event with the given ID for the given notifiers.
func testEvent(id string, notifiers ...string) NewEvent {
	return NewEvent{
		ID:        id,
		Type:      "session.started",
		CreatedAt: t0,
		Body:      []byte(`{"type":"session.started","data":{"id":"` + id + `"}}`),
		Notifiers: notifiers,
	}
}

// ids returns the IDs of ds, in order.
func ids(ds []Delivery) []uint64 {
	out := make([]uint64, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestCommitQueuesOneDeliveryPerNotifier(t *testing.T) {
	s := mustOpen(t)
	e1 := testEvent("evt_1", "ops", "slack")
	e2 := testEvent("evt_2") // no notifiers: nothing to queue
	e3 := testEvent("evt_3", "slack")
	err := s.Commit([]Update{
		{Key: SnapshotKey{"w", "m1"}, Snapshot: []byte("a"), Events: []NewEvent{e1, e2}},
		{Key: SnapshotKey{"w", "m2"}, Snapshot: []byte("b"), Events: []NewEvent{e3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Delivery{
		{ID: 1, Notifier: "ops", Meeting: SnapshotKey{"w", "m1"}, EventID: "evt_1", EventType: "session.started", CreatedAt: t0, Body: e1.Body},
		{ID: 2, Notifier: "slack", Meeting: SnapshotKey{"w", "m1"}, EventID: "evt_1", EventType: "session.started", CreatedAt: t0, Body: e1.Body},
		{ID: 3, Notifier: "slack", Meeting: SnapshotKey{"w", "m2"}, EventID: "evt_3", EventType: "session.started", CreatedAt: t0, Body: e3.Body},
	}
	got, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outbox (-want +got):\n%s", diff)
	}
	for _, d := range got {
		if !d.NextAttempt.IsZero() || d.Attempts != 0 {
			t.Errorf("delivery %d: attempts %d, next %s; want 0 and due now", d.ID, d.Attempts, d.NextAttempt)
		}
	}
	snaps, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"m1": []byte("a"), "m2": []byte("b")}, snaps); diff != "" {
		t.Errorf("Snapshots (-want +got):\n%s", diff)
	}
}

func TestCommitEmptyBatch(t *testing.T) {
	s := mustOpen(t)
	for _, batch := range [][]Update{nil, {}} {
		if err := s.Commit(batch); err != nil {
			t.Errorf("Commit(%#v): %v", batch, err)
		}
	}
}

func TestCommitRejectsInvalidBatch(t *testing.T) {
	good := Update{Key: SnapshotKey{"w", "good"}, Snapshot: []byte("s"), Events: []NewEvent{testEvent("evt_ok", "ops")}}
	withEvent := func(mut func(*NewEvent)) Update {
		e := testEvent("evt_bad", "ops")
		mut(&e)
		return Update{Key: SnapshotKey{"w", "bad"}, Snapshot: []byte("s"), Events: []NewEvent{e}}
	}
	tests := []struct {
		name string
		bad  Update
		want string
	}{
		{"empty watch", Update{Key: SnapshotKey{"", "m"}, Snapshot: []byte("s")}, "updates[1] (/m): watch name is empty"},
		{"NUL in watch", Update{Key: SnapshotKey{"a\x00b", "m"}, Snapshot: []byte("s")}, `watch name "a\x00b" contains a NUL byte`},
		{"empty meeting", Update{Key: SnapshotKey{"w", ""}, Snapshot: []byte("s")}, "meeting id is empty"},
		{"no snapshot", Update{Key: SnapshotKey{"w", "m"}}, "snapshot is empty (set Delete to remove it)"},
		{"delete with snapshot", Update{Key: SnapshotKey{"w", "m"}, Delete: true, Snapshot: []byte("s")}, "delete with a snapshot"},
		{"event without id", withEvent(func(e *NewEvent) { e.ID = "" }), "event id is empty"},
		{"event without type", withEvent(func(e *NewEvent) { e.Type = "" }), "event evt_bad: type is empty"},
		{"event without time", withEvent(func(e *NewEvent) { e.CreatedAt = time.Time{} }), "event evt_bad: created-at time is zero"},
		{"event without body", withEvent(func(e *NewEvent) { e.Body = nil }), "event evt_bad: body is empty"},
		{"empty notifier", withEvent(func(e *NewEvent) { e.Notifiers = []string{"ops", ""} }), "event evt_bad: notifiers[1] is empty"},
		{"notifier twice", withEvent(func(e *NewEvent) { e.Notifiers = []string{"ops", "ops"} }), `event evt_bad: notifier "ops" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			err := s.Commit([]Update{good, tt.bad})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Commit: %v; want an error containing %q", err, tt.want)
			}
			// Nothing of the valid update was written either.
			if got, _ := s.Snapshot(good.Key); got != nil {
				t.Errorf("snapshot %s = %q after a rejected batch, want none", good.Key, got)
			}
			if out, _ := s.OutboxAfter(0, 0); len(out) != 0 {
				t.Errorf("outbox has %d deliveries after a rejected batch, want none", len(out))
			}
			// Nor was an ID used up.
			if err := s.Commit([]Update{good}); err != nil {
				t.Fatal(err)
			}
			out, _ := s.OutboxAfter(0, 0)
			if diff := cmp.Diff([]uint64{1}, ids(out)); diff != "" {
				t.Errorf("IDs after a rejected and a good batch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommitKeepsBodyExact(t *testing.T) {
	s := mustOpen(t)
	bodies := [][]byte{
		[]byte("{ \"spaced\" :  true }\n"),
		[]byte("not json at all"),
		{0, 0xff, '"', '\\', 0x7f},
	}
	var events []NewEvent
	for i, b := range bodies {
		e := testEvent(fmt.Sprintf("evt_%d", i), "ops")
		e.Body = b
		events = append(events, e)
	}
	if err := s.Commit([]Update{{Key: SnapshotKey{"w", "m"}, Snapshot: []byte("s"), Events: events}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotBodies [][]byte
	for _, d := range got {
		gotBodies = append(gotBodies, d.Body)
	}
	if diff := cmp.Diff(bodies, gotBodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestCommitDoesNotKeepCallerSlices(t *testing.T) {
	s := mustOpen(t)
	snap := []byte("original")
	e := testEvent("evt_1", "ops")
	if err := s.Commit([]Update{{Key: SnapshotKey{"w", "m"}, Snapshot: snap, Events: []NewEvent{e}}}); err != nil {
		t.Fatal(err)
	}
	copy(snap, "XXXXXXXX")
	want := bytes.Clone(e.Body)
	e.Body[0] = 'X'
	got, err := s.Snapshot(SnapshotKey{"w", "m"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "original" {
		t.Errorf("snapshot = %q after the caller changed its slice, want %q", got, "original")
	}
	p, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, p[0].Body); diff != "" {
		t.Errorf("body after the caller changed its slice (-want +got):\n%s", diff)
	}
}

// benchSnapshot is a snapshot of about the size rtkwatchd stores.
var benchSnapshot = bytes.Repeat([]byte(`{"status":"LIVE","n":12}`), 25)[:600]

// benchCommit commits batches of batchSize updates, each with the given
// events, and reports snapshots per second.
func benchCommit(b *testing.B, batchSize int, events []NewEvent) {
	s := mustOpen(b)
	const meetings = 5000
	batch := make([]Update, batchSize)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = Update{
				Key:      SnapshotKey{Watch: "bench", MeetingID: fmt.Sprintf("meeting-%05d", n%meetings)},
				Snapshot: benchSnapshot,
				Events:   events,
			}
			n++
		}
		if err := s.Commit(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "snapshots/s")
	if len(events) > 0 {
		b.ReportMetric(float64(n*len(events)*len(events[0].Notifiers))/b.Elapsed().Seconds(), "deliveries/s")
	}
}

func BenchmarkCommitSnapshots(b *testing.B) {
	for _, size := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchCommit(b, size, nil)
		})
	}
}

func BenchmarkCommitWithEvents(b *testing.B) {
	e := testEvent("evt_bench", "ops", "slack")
	e.Body = bytes.Repeat([]byte("x"), 900)
	for _, size := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchCommit(b, size, []NewEvent{e})
		})
	}
}
