package poller

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

func TestPrune(t *testing.T) {
	h := newHarness(t)
	var updates []store.Update
	for _, k := range []store.SnapshotKey{
		{Watch: "town-hall", MeetingID: "m1"},
		{Watch: "town-hall", MeetingID: "m2"},            // removed from the watch
		{Watch: "town-hall", MeetingID: WatchMeetingID},  // an explicit watch keeps none
		{Watch: "removed", MeetingID: "m1"},              // the watch is gone
		{Watch: "everything", MeetingID: "x"},            // all_live keeps every meeting
		{Watch: "everything", MeetingID: WatchMeetingID}, // and its own record
	} {
		updates = append(updates, store.Update{Key: k, Snapshot: []byte(`{}`)})
	}
	if err := h.store.Commit(updates); err != nil {
		t.Fatal(err)
	}
	n, err := Prune(h.store, []Watch{testWatch("m1"), allLiveWatch()})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("pruned %d snapshots, want 3", n)
	}
	var left []string
	if err := h.store.ForEachSnapshot(func(k store.SnapshotKey, _ []byte) error {
		left = append(left, k.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(left)
	want := []string{"everything/*", "everything/x", "town-hall/m1"}
	if d := cmp.Diff(want, left); d != "" {
		t.Errorf("snapshots left (-want +got):\n%s", d)
	}
}
