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

// firstsScheduler starts, in a bubble, a scheduler of watches @every 1h
// over api, one meeting polled at once, and returns it with the time it
// started.
func firstsScheduler(t *testing.T, api API, watches ...Watch) (*Scheduler, time.Time) {
	t.Helper()
	s, err := NewScheduler(New(api, Options{AccountID: "acc", Concurrency: 1, Logger: zerolog.Nop()}), watches,
		SchedulerOptions{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start()
	return s, start
}

// hourly is a watch @every 1h of meetings.
func hourly(name string, meetings ...string) Watch {
	w := schedWatch(name, "@every 1h")
	w.Meetings = meetings
	return w
}

// TestSchedulerQueuedFirstCyclesProgress: a watch whose first cycle waits
// behind another's, which takes 90 s (9 answers of 10 s), is neither
// stalled nor without progress, at the edge of a minute's stall and after
// it; a first cycle that hears nothing still stalls, whatever waits
// behind it.
func TestSchedulerQueuedFirstCyclesProgress(t *testing.T) {
	nine := func(name string) []string {
		ms := make([]string, 9)
		for i := range ms {
			ms[i] = fmt.Sprintf("%s%d", name, i)
		}
		return ms
	}
	synctest.Test(t, func(t *testing.T) {
		api := &mixedAPI{schedAPI: *newSchedAPI(), delay: 10 * time.Second}
		s, start := firstsScheduler(t, api, hourly("a", nine("a")...), hourly("b", nine("b")...))
		defer stop(t, s)
		for _, at := range []time.Duration{60 * time.Second, 61 * time.Second, 85 * time.Second} {
			time.Sleep(time.Until(start.Add(at)))
			synctest.Wait()
			if ok, why := s.Healthy(time.Minute); !ok {
				t.Errorf("at %s: Healthy = false (%s)", at, why)
			}
			if ok, why := s.Progressed(time.Now().Add(-30 * time.Second)); !ok {
				t.Errorf("at %s: Progressed = false (%s)", at, why)
			}
		}
	})
	synctest.Test(t, func(t *testing.T) {
		api := &mixedAPI{schedAPI: *newSchedAPI(), delay: 10 * time.Second}
		s, _ := firstsScheduler(t, api, hourly("a", "stuck"), hourly("b", "b0"))
		defer func() { // the stuck cycle ends only when Stop gives up on it
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = s.Stop(ctx)
		}()
		time.Sleep(71 * time.Second) // b's 10 s, if it went first, and 61 s
		synctest.Wait()
		if ok, _ := s.Healthy(time.Minute); ok {
			t.Error("a first cycle that heard nothing for 61s: Healthy = true")
		}
		if ok, _ := s.Progressed(time.Now().Add(-30 * time.Second)); ok {
			t.Error("a first cycle that heard nothing for 61s: Progressed = true")
		}
	})
}

// TestSchedulerStopSkipsQueuedFirstCycles: Stop lets the first cycle that
// runs finish and starts none of those still waiting for their turn.
func TestSchedulerStopSkipsQueuedFirstCycles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &mixedAPI{schedAPI: *newSchedAPI(), delay: 10 * time.Second}
		var ws []Watch
		for _, name := range []string{"a", "b", "c", "d"} {
			ws = append(ws, hourly(name, name+"0", name+"1"))
		}
		s, _ := firstsScheduler(t, api, ws...)
		time.Sleep(time.Second)
		begin := time.Now()
		stop(t, s)
		if d := time.Since(begin); d != 19*time.Second {
			t.Errorf("Stop took %s, want the 19 s left of the running first cycle", d)
		}
		if got := len(s.LastCycle()); got != 1 {
			t.Errorf("%d first cycles ran; want only the one running when Stop came", got)
		}
	})
}
