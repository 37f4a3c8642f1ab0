package poller

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// BenchmarkPollCycle measures one steady cycle (no transitions) against the
// fake API and a real store: 2,000 explicit meetings, 500 of them live, read
// through the sessions list; and 200 meetings, 50 live, polled one by one.
// Allocations include the fake server's, which runs in the same process.
func BenchmarkPollCycle(b *testing.B) {
	for _, bc := range []struct {
		name     string
		meetings int
		viaList  bool
	}{
		{"list/2000", 2000, true},
		{"meetings/200", 200, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			ids := make([]string, bc.meetings)
			for i := range ids {
				ids[i] = fmt.Sprintf("meeting-%04d", i)
				if i%4 == 0 {
					h.fake.StartSession(testApp, ids[i], rtkfake.Session{LiveParticipants: i % 30})
				}
			}
			w := testWatch(ids...)
			p := h.poller(func(o *Options) { o.Logger = zerolog.Nop() })
			if !bc.viaList {
				p.pages[w.Name] = len(ids) // make the list look too dear
			}
			h.poll(p, w) // the baseline
			counts := h.fake.Counts()

			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mallocs := ms.Mallocs
			cycles := 0
			for b.Loop() {
				c := h.poll(p, w)
				if len(c.Events) != 0 {
					b.Fatalf("steady cycle emitted %v", summary(c.Events))
				}
				cycles++
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			per := float64(cycles) * float64(bc.meetings)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/meeting")
			b.ReportMetric(float64(ms.Mallocs-mallocs)/per, "allocs/meeting")
			after := h.fake.Counts()
			b.ReportMetric(float64(after.Total-counts.Total)/float64(cycles), "requests/cycle")
			if bc.viaList != (after.ActiveSession == counts.ActiveSession) {
				b.Fatalf("via list %v, but %d active-session requests", bc.viaList, after.ActiveSession-counts.ActiveSession)
			}
		})
	}
}
