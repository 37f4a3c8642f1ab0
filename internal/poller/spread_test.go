package poller

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// TestSpreadOffset: the offset is a stable function of the name, one of
// spreadSteps steps of the interval, below maxSpread.
func TestSpreadOffset(t *testing.T) {
	tests := []struct {
		watch    string
		interval time.Duration
		want     time.Duration
	}{
		{"town-hall", 30 * time.Second, 28500 * time.Millisecond},
		{"town-hall", time.Minute, 57 * time.Second},
		{"town-hall", time.Hour, 57 * time.Second}, // maxSpread
		{"stand-up", time.Second, 750 * time.Millisecond},
		{"stand-up", 19 * time.Millisecond, 7 * time.Millisecond}, // steps of 1 ms
		{"stand-up", 7 * time.Millisecond, 2 * time.Millisecond},
		{"stand-up", 1999 * time.Microsecond, 0}, // one step
		{"stand-up", time.Millisecond, 0},
		{"stand-up", 0, 0},
		{"", 10 * time.Second, 8500 * time.Millisecond}, // FNV-1a's offset basis,
	}
	for _, tt := range tests {
		if got := spreadOffset(tt.watch, tt.interval); got != tt.want {
			t.Errorf("spreadOffset(%q, %s) = %s, want %s", tt.watch, tt.interval, got, tt.want)
		}
	}
	// The steps: spreadSteps of them, whole milliseconds, at the edges of
	// a millisecond a step.
	for _, tt := range []struct {
		interval, step time.Duration
		steps          int
	}{
		{time.Second, 50 * time.Millisecond, spreadSteps},
		{7 * time.Second, 350 * time.Millisecond, spreadSteps},
		{time.Hour, 3 * time.Second, spreadSteps},
		{40 * time.Millisecond, 2 * time.Millisecond, spreadSteps},
		{39 * time.Millisecond, time.Millisecond, 39},
		{20 * time.Millisecond, time.Millisecond, spreadSteps},
		{19 * time.Millisecond, time.Millisecond, 19},
	} {
		seen := make(map[time.Duration]bool)
		for i := range 2000 {
			d := spreadOffset(fmt.Sprintf("w%d", i), tt.interval)
			if d%tt.step != 0 {
				t.Fatalf("spreadOffset(w%d, %s) = %s, not a multiple of %s", i, tt.interval, d, tt.step)
			}
			seen[d] = true
		}
		if len(seen) != tt.steps {
			t.Errorf("interval %s: %d distinct offsets, want %d", tt.interval, len(seen), tt.steps)
		}
	}
	for i := range 1000 {
		name := fmt.Sprintf("w%d", i)
		if d := spreadOffset(name, 7*time.Second); d < 0 || d >= 7*time.Second {
			t.Fatalf("spreadOffset(%q, 7s) = %s, outside [0, 7s)", name, d)
		}
		if d := spreadOffset(name, time.Hour); d < 0 || d >= maxSpread {
			t.Fatalf("spreadOffset(%q, 1h) = %s, outside [0, %s)", name, d, maxSpread)
		}
	}
}

// TestGridScheduleNext: activations are k×every + offset after the epoch,
// strictly after the instant asked about, before the epoch too.
func TestGridScheduleNext(t *testing.T) {
	g := gridSchedule{every: 10 * time.Second, offset: 3 * time.Second}
	at := func(sec int64, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }
	tests := []struct {
		t, want time.Time
	}{
		{at(0, 0), at(3, 0)},
		{at(2, 999999999), at(3, 0)},
		{at(3, 0), at(13, 0)},
		{at(3, 1), at(13, 0)},
		{at(1_700_000_000, 0), at(1_700_000_003, 0)},
		{at(1_700_000_003, 0), at(1_700_000_013, 0)},
		{at(-1, 0), at(3, 0)},
		{at(-7, 0), at(3, 0)},
		{at(-8, 0), at(-7, 0)},
	}
	for _, tt := range tests {
		if got := g.Next(tt.t); !got.Equal(tt.want) {
			t.Errorf("Next(%s) = %s, want %s", tt.t, got, tt.want)
		}
	}
	if loc := g.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))).Location().String(); loc != "X" {
		t.Errorf("Next in zone X returned a time in %s", loc)
	}
}

// TestSpreadCronSpec: a cron spec moves by the offset within its shortest
// gap; one that never fires again still never fires.
func TestSpreadCronSpec(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) // a Monday
	parse := func(spec string) cron.Schedule {
		s, err := config.ParseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		spec string
		gap  time.Duration
	}{
		{"*/20 * * * * *", 20 * time.Second},
		{"0,10 * * * * *", 10 * time.Second},
		{"* * * * *", time.Minute},
		{"0 9 * * MON-FRI", 24 * time.Hour},
	}
	for _, tt := range tests {
		s := parse(tt.spec)
		if g := shortestGap(s, now); g != tt.gap {
			t.Errorf("%s: shortest gap %s, want %s", tt.spec, g, tt.gap)
		}
		off := spreadOffset("town-hall", tt.gap)
		sp := spread("town-hall", s, now)
		for t0 := now; t0.Before(now.Add(48 * time.Hour)); t0 = t0.Add(7 * time.Minute) {
			if got, want := sp.Next(t0), s.Next(t0.Add(-off)).Add(off); !got.Equal(want) || !got.After(t0) {
				t.Fatalf("%s: Next(%s) = %s, want %s (offset %s)", tt.spec, t0, got, want, off)
			}
		}
	}
	never := parse("0 0 30 2 *") // 30 February
	if g := shortestGap(never, now); g != 0 {
		t.Errorf("a spec that never fires: gap %s, want 0", g)
	}
	if n := spread("w", never, now).Next(now); !n.IsZero() {
		t.Errorf("a spec that never fires: Next = %s, want the zero time", n)
	}
}

// stampAPI records when each meeting is polled; it finds no session. The
// other requests are schedAPI's.
type stampAPI struct {
	*schedAPI
	mu    sync.Mutex
	stamp map[string][]time.Time
}

func newStampAPI() *stampAPI {
	return &stampAPI{schedAPI: newSchedAPI(), stamp: make(map[string][]time.Time)}
}

func (a *stampAPI) ActiveSession(_ context.Context, _, meetingID string) (*rtkapi.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stamp[meetingID] = append(a.stamp[meetingID], time.Now())
	return nil, rtkapi.ErrNoActiveSession
}

func (a *stampAPI) times(meeting string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.stamp[meeting]...)
}

// TestSchedulerSpreadsWatches: 40 watches on "@every 10s" each run at start,
// then at their own offset within every 10 s, exactly; a scheduler started
// 3.3 s later runs each on the same grid.
func TestSchedulerSpreadsWatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, every = 40, 10 * time.Second
		watches := make([]Watch, n)
		for i := range watches {
			watches[i] = schedWatch(fmt.Sprintf("w%02d", i), "@every 10s")
		}
		epoch := time.Unix(0, 0)
		// check holds each watch's polls to one at start, then one at
		// each of its slots before end.
		check := func(api *stampAPI, start, end time.Time) {
			t.Helper()
			seconds := make(map[int64]int)
			for _, w := range watches {
				got := api.times(w.Name + "-m")
				off := spreadOffset(w.Name, every)
				want := []time.Time{start}
				for slot := (gridSchedule{every: every, offset: off}).Next(start); slot.Before(end); slot = slot.Add(every) {
					if slot.Sub(epoch)%every != off {
						t.Fatalf("watch %s: slot %s is not at its offset %s", w.Name, slot, off)
					}
					want = append(want, slot)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("watch %s (offset %s): polled at %v, want %v", w.Name, off, got, want)
				}
				seconds[int64(off/time.Second)]++
			}
			for sec, k := range seconds {
				if k > n/4 {
					t.Errorf("%d of %d watches fire in second %d of every 10", k, n, sec)
				}
			}
		}

		api := newStampAPI()
		start := time.Now()
		s, _, _ := startScheduler(t, api, watches...)
		time.Sleep(30*time.Second - time.Nanosecond)
		synctest.Wait()
		check(api, start, time.Now().Add(time.Nanosecond)) // at start, then each slot since
		stop(t, s)

		time.Sleep(3300 * time.Millisecond)
		api = newStampAPI()
		start = time.Now()
		s, _, _ = startScheduler(t, api, watches...)
		time.Sleep(30*time.Second - time.Nanosecond)
		synctest.Wait()
		check(api, start, time.Now().Add(time.Nanosecond))
		stop(t, s)
	})
}
