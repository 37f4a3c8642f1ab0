package poller

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// readsStore is a Store with nothing in it that records which watches had
// their snapshots read.
type readsStore struct {
	mu    sync.Mutex
	reads map[string]int
}

func (s *readsStore) Snapshots(watch string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[watch]++
	return map[string][]byte{}, nil
}

func (s *readsStore) Commit([]store.Update) error { return nil }

func (s *readsStore) watches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reads)
}

// TestSchedulerBoundsFirstCycles: every watch starts with a cycle, but at
// most Concurrency of those first cycles run at once; the others wait for
// one to end, and then run too.
func TestSchedulerBoundsFirstCycles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const concurrency, watches = 2, 6
		api := newSchedAPI()
		release := api.holdPolls()
		st := &readsStore{reads: make(map[string]int)}
		cycles := &cycleLog{}
		ws := make([]Watch, watches)
		for i := range ws {
			ws[i] = schedWatch(fmt.Sprintf("w%d", i), "@every 1h")
			ws[i].Meetings = []string{ws[i].Name + "-a", ws[i].Name + "-b"}
		}
		p := New(api, Options{AccountID: "acc", Store: st, Concurrency: concurrency, Logger: zerolog.Nop()})
		s, err := NewScheduler(p, ws, SchedulerOptions{Logger: zerolog.Nop(), OnCycle: cycles.add})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		synctest.Wait()
		if n := st.watches(); n != concurrency {
			t.Errorf("%d watches began their first cycle while the polls hang, want %d", n, concurrency)
		}
		release()
		synctest.Wait()
		if got, _ := cycles.get(); len(got) != watches || st.watches() != watches {
			t.Errorf("%d first cycles ran (%d watches read), want %d", len(got), st.watches(), watches)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}
