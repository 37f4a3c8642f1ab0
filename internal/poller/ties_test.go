package poller

import (
	"fmt"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestListTies: 250 sessions that share one createdAt, the list's only
// sort key, from an API that orders them differently on every request.
// Each read then sees some sessions twice and misses others; no cycle
// calls a session started or ended, and an explicit watchlist stores
// every meeting live from its first cycle on, asking those the list did
// not show directly.
func TestListTies(t *testing.T) {
	for _, allLive := range []bool{false, true} {
		t.Run(fmt.Sprintf("all_live %v", allLive), func(t *testing.T) {
			h := newHarness(t)
			var ids []string
			for i := range 250 {
				ids = append(ids, fmt.Sprintf("m%03d", i))
				h.fake.StartSession(testApp, ids[i], rtkfake.Session{LiveParticipants: 1})
			}
			h.clock.Advance(time.Hour)
			h.fake.SetPaging(rtkfake.PagingMode{ShuffleTies: true})
			w := testWatch(ids...)
			if allLive {
				w = allLiveWatch()
			}
			p := h.poller(nil)
			for cycle := range 4 {
				before := h.fake.Counts()
				h.clock.Advance(30 * time.Second)
				c := h.poll(p, w)
				if len(c.Events) != 0 {
					t.Fatalf("cycle %d: events %v; want none", cycle, summary(c.Events))
				}
				got := requestsSince(h, before)
				t.Logf("cycle %d: %d list and %d active-session requests", cycle, got.sessions, got.active)
				if allLive {
					continue
				}
				if got.active == 0 {
					t.Errorf("cycle %d: no meeting asked directly; the test needs the list to miss some", cycle)
				}
				for _, id := range ids {
					if s, _ := h.snapshot(w.Name, id); s.Session == nil {
						t.Fatalf("cycle %d: %s stored without its session", cycle, id)
					}
				}
			}
		})
	}
}
