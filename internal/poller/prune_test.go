package poller

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
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
	left := h.snapshotKeys()
	want := []string{"everything/*", "everything/x", "town-hall/m1"}
	if d := cmp.Diff(want, left); d != "" {
		t.Errorf("snapshots left (-want +got):\n%s", d)
	}
}

// TestPruneSignals checks that the states of the lists and usage blocks
// are kept while something reads them, and deleted once nothing does.
func TestPruneSignals(t *testing.T) {
	h := newHarness(t)
	media := testWatch("m1")
	media.Recordings = true
	everything := allLiveWatch()
	everything.Livestreams = true
	usage := Watch{Name: UsageWatchName(testApp), AppID: testApp, Usage: &diff.UsageRules{DailyMinutes: []float64{1}}}
	var updates []store.Update
	for _, k := range []store.SnapshotKey{
		{Watch: "town-hall", MeetingID: RecordingsMeetingID},        // kept
		{Watch: "town-hall", MeetingID: LivestreamsMeetingID},       // not read by this watch
		{Watch: "everything", MeetingID: LivestreamsMeetingID},      // kept
		{Watch: "everything", MeetingID: RecordingsMeetingID},       // not read
		{Watch: "everything", MeetingID: UsageMeetingID},            // a watch has no usage
		{Watch: UsageWatchName(testApp), MeetingID: UsageMeetingID}, // kept
		{Watch: UsageWatchName(testApp), MeetingID: "m1"},           // a usage job has no meetings
		{Watch: UsageWatchName("app-2"), MeetingID: UsageMeetingID}, // its block is gone
		{Watch: UsageWatchName(testApp), MeetingID: WatchMeetingID}, // nor a list record
	} {
		updates = append(updates, store.Update{Key: k, Snapshot: []byte(`{}`)})
	}
	if err := h.store.Commit(updates); err != nil {
		t.Fatal(err)
	}
	if _, err := Prune(h.store, []Watch{media, everything, usage}); err != nil {
		t.Fatal(err)
	}
	left := h.snapshotKeys()
	want := []string{"everything/*livestreams", "town-hall/*recordings", "usage:app-1/*usage"}
	if d := cmp.Diff(want, left); d != "" {
		t.Errorf("snapshots left (-want +got):\n%s", d)
	}
}

// snapshotKeys returns the keys of every stored snapshot, sorted, as
// "watch/meeting".
func (h *harness) snapshotKeys() []string {
	h.t.Helper()
	var keys []string
	if err := h.store.ForEachSnapshot(func(k store.SnapshotKey, _ []byte) error {
		keys = append(keys, k.String())
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}
