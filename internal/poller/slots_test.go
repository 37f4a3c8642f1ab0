package poller

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/rs/zerolog"
)

// TestPollerBoundsMeetingsAcrossCycles: the cycles of two watches running
// at once poll Concurrency meetings at once between them, not each, on
// that many workers.
func TestPollerBoundsMeetingsAcrossCycles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		release := api.holdPolls()
		p := New(api, Options{AccountID: "acc", Concurrency: 3, Logger: zerolog.Nop()})
		defer p.Close()
		var wg sync.WaitGroup
		for _, name := range []string{"a", "b"} {
			w := schedWatch(name, "@every 1m")
			w.Meetings = nil
			for i := range 5 {
				w.Meetings = append(w.Meetings, fmt.Sprintf("%s-%d", name, i))
			}
			wg.Go(func() {
				if _, err := p.Poll(context.Background(), w); err != nil {
					t.Errorf("Poll(%s): %v", name, err)
				}
			})
		}
		polled := func() int {
			n := 0
			for _, name := range []string{"a", "b"} {
				for i := range 5 {
					n += api.count(fmt.Sprintf("%s-%d", name, i))
				}
			}
			return n
		}
		synctest.Wait()
		if polling := polled(); polling != 3 {
			t.Errorf("%d meetings polled at once by two cycles, want 3", polling)
		}
		if n := p.workers.count(); n != 3 {
			t.Errorf("%d workers polling for two cycles, want 3", n)
		}
		release()
		wg.Wait()
		if total := polled(); total != 10 {
			t.Errorf("%d meetings polled in all, want 10", total)
		}
	})
}
