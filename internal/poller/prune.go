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
// the watch record (WatchMeetingID) of a watch that is not all_live, the
// state of a recordings or livestreams list a watch no longer reads, and
// that of a usage block gone. Without it a meeting put back in a watch
// months later would be compared with a months-old session. It returns
// how many snapshots it deleted. Pending deliveries are not touched: their
// events happened.
func Prune(st Pruner, watches []Watch) (int, error) {
	keep := Keeps(watches)
	var gone []store.Update
	err := st.ForEachSnapshot(func(k store.SnapshotKey, _ []byte) error {
		if !keep(k.Watch, k.MeetingID) {
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

// Keeps returns whether watches still poll what the snapshot of a
// watch's meeting (or record) holds, as Prune decides it.
func Keeps(watches []Watch) func(watch, meetingID string) bool {
	keep := make(map[string]func(meetingID string) bool, len(watches))
	for _, w := range watches {
		records := map[string]bool{
			WatchMeetingID:       w.AllLive,
			RecordingsMeetingID:  w.Recordings,
			LivestreamsMeetingID: w.Livestreams,
			UsageMeetingID:       w.Usage != nil,
		}
		meetings := make(map[string]bool, len(w.Meetings))
		for _, m := range w.Meetings {
			meetings[m] = true
		}
		allLive, usage := w.AllLive, w.Usage != nil
		keep[w.Name] = func(id string) bool {
			switch {
			case !IsMeeting(id):
				return records[id]
			case usage:
				return false
			}
			return allLive || meetings[id]
		}
	}
	return func(watch, meetingID string) bool {
		k, ok := keep[watch]
		return ok && k(meetingID)
	}
}
