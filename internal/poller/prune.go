package poller

import (
	"fmt"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Pruner is what Prune needs of the store; *store.Store provides it.
type Pruner interface {
	ForEachSnapshot(fn func(store.SnapshotKey, []byte) error) error
	Commit(updates []store.Update) error
}

// Prune deletes the snapshots that no watch polls any more: those of
// watches gone from the config, of meetings gone from an explicit watch,
// and the watch record (WatchMeetingID) of a watch that is not all_live.
// Without it a meeting put back in a watch months later would be compared
// with a months-old session. It returns how many snapshots it deleted.
// Pending deliveries are not touched: their events happened.
func Prune(st Pruner, watches []Watch) (int, error) {
	keep := make(map[string]func(meetingID string) bool, len(watches))
	for _, w := range watches {
		if w.AllLive {
			keep[w.Name] = func(string) bool { return true }
			continue
		}
		meetings := make(map[string]bool, len(w.Meetings))
		for _, m := range w.Meetings {
			meetings[m] = true
		}
		keep[w.Name] = func(id string) bool { return meetings[id] }
	}
	var gone []store.Update
	err := st.ForEachSnapshot(func(k store.SnapshotKey, _ []byte) error {
		if wanted, ok := keep[k.Watch]; !ok || !wanted(k.MeetingID) {
			gone = append(gone, store.Update{Key: k, Delete: true})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune snapshots: %w", err)
	}
	for i := 0; i < len(gone); i += commitBatch {
		if err := st.Commit(gone[i:min(i+commitBatch, len(gone))]); err != nil {
			return i, fmt.Errorf("prune snapshots: %w", err)
		}
	}
	return len(gone), nil
}
