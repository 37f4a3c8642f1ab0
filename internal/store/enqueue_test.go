package store

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnqueue(t *testing.T) {
	s := mustOpen(t)
	n, err := s.Enqueue(testEvent("evt_a", "ops", "slack"), testEvent("evt_b", "ops"))
	if err != nil || n != 2 {
		t.Fatalf("Enqueue = %d, %v; want 2 queued", n, err)
	}
	// Again, after a restart say: the history has both, nothing is queued.
	if n, err := s.Enqueue(testEvent("evt_a", "ops", "slack"), testEvent("evt_c", "ops")); err != nil || n != 1 {
		t.Fatalf("second Enqueue = %d, %v; want 1 queued (evt_c)", n, err)
	}
	type row struct {
		Notifier, Event string
		Meeting         SnapshotKey
		Attempts        int
	}
	var got []row
	for _, n := range []string{"ops", "slack"} {
		ds, err := s.Pending(n, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got = append(got, row{d.Notifier, d.EventID, d.Meeting, d.Attempts})
		}
	}
	want := []row{
		{"ops", "evt_a", SnapshotKey{}, 0}, {"ops", "evt_b", SnapshotKey{}, 0}, {"ops", "evt_c", SnapshotKey{}, 0},
		{"slack", "evt_a", SnapshotKey{}, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	hist, err := s.History(HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range hist {
		ids = append(ids, e.EventID)
	}
	if diff := cmp.Diff([]string{"evt_a", "evt_b", "evt_c"}, ids); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	snaps := 0
	if err := s.ForEachSnapshot(func(SnapshotKey, []byte) error { snaps++; return nil }); err != nil {
		t.Fatal(err)
	}
	if snaps != 0 {
		t.Errorf("Enqueue wrote %d snapshots, want none", snaps)
	}
}

func TestEnqueueRejectsBadEventsWritingNothing(t *testing.T) {
	s := mustOpen(t)
	bad := testEvent("evt_b", "ops", "ops")
	_, err := s.Enqueue(testEvent("evt_a", "ops"), bad)
	if err == nil || !strings.Contains(err.Error(), `events[1]: event evt_b: notifier "ops" is listed twice`) {
		t.Fatalf("Enqueue error = %v, want events[1]'s repeated notifier", err)
	}
	ds, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Errorf("outbox holds %d deliveries after a refused Enqueue, want 0", len(ds))
	}
}
