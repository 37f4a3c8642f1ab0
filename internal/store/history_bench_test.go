package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkHistorySince lists the last 100 events of a history of
// 100,000 (the default bound), and the 100 that match a meeting among the
// last 1,000: the seek to Since keeps both from reading the older events.
func BenchmarkHistorySince(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n, batch = 100_000, 5_000
	for i := 0; i < n; i += batch {
		var evs []NewEvent
		for j := i; j < i+batch; j++ {
			e := testEvent(fmt.Sprintf("evt_%d", j), "ops")
			e.CreatedAt = t0.Add(time.Duration(j) * time.Second)
			evs = append(evs, e)
		}
		key := SnapshotKey{Watch: "w", MeetingID: fmt.Sprintf("m%d", i/batch)}
		if err := s.Commit([]Update{{Key: key, Snapshot: []byte("s"), Events: evs}}); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []HistoryQuery{
		{Since: t0.Add((n - 100) * time.Second), Limit: 100},
		{Since: t0.Add((n - 1000) * time.Second), MeetingID: fmt.Sprintf("m%d", n/batch-1), Limit: 100},
		{MeetingID: "m0", Type: "session.ended", Limit: 100}, // matches nothing: reads it all
	} {
		b.Run(fmt.Sprintf("since=%v,meeting=%q,type=%q", !q.Since.IsZero(), q.MeetingID, q.Type), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.History(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
