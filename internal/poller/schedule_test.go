package poller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// schedAPI is an API without network for scheduler tests, which run in a
// synctest bubble: every poll finds no session, unless it is held until
// released (or its context ends) or made to panic.
type schedAPI struct {
	mu     sync.Mutex
	calls  map[string]int // by meeting, or "list:" and the app
	hold   chan struct{}  // when set, polls wait for it to close
	panics int            // how many of the next polls panic
}

func newSchedAPI() *schedAPI { return &schedAPI{calls: make(map[string]int)} }

// holdPolls makes polls wait until the returned function is called.
func (a *schedAPI) holdPolls() (release func()) {
	ch := make(chan struct{})
	a.mu.Lock()
	a.hold = ch
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		a.hold = nil
		a.mu.Unlock()
		close(ch)
	}
}

func (a *schedAPI) count(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[key]
}

func (a *schedAPI) poll(ctx context.Context, key string) error {
	a.mu.Lock()
	a.calls[key]++
	hold, explode := a.hold, a.panics > 0
	if explode {
		a.panics--
	}
	a.mu.Unlock()
	if explode {
		panic("poll exploded")
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return &rtkapi.Error{Kind: rtkapi.KindTimeout, Message: "request canceled"}
		}
	}
	return rtkapi.ErrNoActiveSession
}

func (a *schedAPI) ActiveSession(ctx context.Context, _, meetingID string) (*rtkapi.Session, error) {
	return nil, a.poll(ctx, meetingID)
}

func (a *schedAPI) SessionsPage(ctx context.Context, appID string, q rtkapi.ListQuery) (rtkapi.Page, error) {
	if q.Status == rtkapi.StatusEnded {
		return rtkapi.Page{Sessions: []rtkapi.Session{}}, nil
	}
	if err := a.poll(ctx, "list:"+appID); err != rtkapi.ErrNoActiveSession {
		return rtkapi.Page{}, err
	}
	return rtkapi.Page{Sessions: []rtkapi.Session{}}, nil
}

func (a *schedAPI) Meeting(context.Context, string, string) error { return nil }

// The scheduler's tests poll no app-wide signal.
func (a *schedAPI) Recordings(context.Context, string, rtkapi.ListOptions) (rtkapi.RecordingList, error) {
	return rtkapi.RecordingList{}, nil
}

func (a *schedAPI) Livestreams(context.Context, string, rtkapi.ListOptions) (rtkapi.LivestreamList, error) {
	return rtkapi.LivestreamList{}, nil
}

func (a *schedAPI) DaywiseUsage(context.Context, string, string, string) (rtkapi.Usage, error) {
	return rtkapi.Usage{}, nil
}

// cycleLog records what OnCycle reports.
type cycleLog struct {
	mu     sync.Mutex
	cycles []Cycle
	errs   []error
}

func (l *cycleLog) add(c Cycle, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cycles = append(l.cycles, c)
	l.errs = append(l.errs, err)
}

func (l *cycleLog) get() ([]Cycle, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Cycle(nil), l.cycles...), append([]error(nil), l.errs...)
}

func schedWatch(name, schedule string) Watch {
	return Watch{Name: name, AppID: "app", Meetings: []string{name + "-m"}, Schedule: schedule,
		Rules: diff.Rules{FailingAfter: 3}}
}

// startScheduler starts a scheduler of watches over api, with no store,
// and stops it when the test ends. Call it inside a bubble.
func startScheduler(t *testing.T, api API, watches ...Watch) (*Scheduler, *logBuffer, *cycleLog) {
	t.Helper()
	logs, cycles := &logBuffer{}, &cycleLog{}
	l := zerolog.New(logs)
	s, err := NewScheduler(New(api, Options{AccountID: "acc", Logger: l}), watches,
		SchedulerOptions{Logger: l, OnCycle: cycles.add})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	synctest.Wait()
	return s, logs, cycles
}

func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestSchedulerRunsOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		start := time.Now() // the bubble starts at midnight, on every grid
		app := schedWatch("app", "*/20 * * * * *")
		app.Meetings, app.AllLive = nil, true
		// Each watch runs at start, then at its offset within its
		// interval (spreadOffset): fast every 10s from 5.5s, slow every
		// minute from 48s, app every 20s from 4s.
		offsets := map[string]time.Duration{"fast": 5500 * time.Millisecond, "slow": 48 * time.Second, "app": 4 * time.Second}
		for name, d := range map[string]time.Duration{"fast": 10 * time.Second, "slow": time.Minute, "app": 20 * time.Second} {
			if got := spreadOffset(name, d); got != offsets[name] {
				t.Fatalf("offset of %s = %s, want %s", name, got, offsets[name])
			}
		}
		s, _, cycles := startScheduler(t, api, schedWatch("fast", "@every 10s"), schedWatch("slow", "* * * * *"), app)
		check := func(when string, fast, slow, list int) {
			t.Helper()
			synctest.Wait()
			f, sl, l := api.count("fast-m"), api.count("slow-m"), api.count("list:app")
			if f != fast || sl != slow || l != list {
				t.Errorf("%s: fast polled %d times, slow %d, list %d; want %d, %d, %d", when, f, sl, l, fast, slow, list)
			}
		}
		check("at start", 1, 1, 1)
		time.Sleep(4*time.Second - 1)
		check("just before app's first slot", 1, 1, 1)
		time.Sleep(1)
		check("at app's first slot", 1, 1, 2)
		time.Sleep(35*time.Second - 4*time.Second)
		check("after 35s", 4, 1, 3) // fast at 5.5, 15.5, 25.5; app at 4, 24
		time.Sleep(30 * time.Second)
		check("after 65s", 7, 2, 5) // and fast at 35.5, 45.5, 55.5; slow at 48; app at 44, 64

		last := s.LastCycle()
		want := map[string]time.Time{"fast": start.Add(55500 * time.Millisecond), "slow": start.Add(48 * time.Second), "app": start.Add(64 * time.Second)}
		for name, at := range want {
			if !last[name].Equal(at) {
				t.Errorf("LastCycle[%s] = %s; want %s", name, last[name], at)
			}
		}
		if ok, why := s.Healthy(time.Minute); !ok {
			t.Errorf("Healthy = false (%s)", why)
		}
		stop(t, s)
		got, errs := cycles.get()
		if len(got) != 7+2+5 {
			t.Errorf("%d cycles reported; want 14", len(got))
		}
		for i, err := range errs {
			if err != nil || got[i].Polls != 1 {
				t.Errorf("cycle %+v: %v", got[i], err)
			}
		}
	})
}

func TestSchedulerSkipsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		s, logs, cycles := startScheduler(t, api, schedWatch("w", "@every 10s"))
		// The first cycle, at start, is done; w's slots are at 5s, 15s,
		// 25s …: hold the cycle of the first, and let two pass.
		release := api.holdPolls()
		time.Sleep(5*time.Second + 25*time.Second - time.Nanosecond)
		synctest.Wait()
		if n := api.count("w-m"); n != 2 {
			t.Errorf("%d polls while the second cycle runs; want 2", n)
		}
		if skips := logs.find(t, "warn", map[string]string{"watch": "w"}); len(skips) != 2 ||
			!strings.Contains(fmt.Sprint(skips[0]["message"]), "skipped") {
			t.Errorf("skip warnings = %v; want 2 naming watch w", skips)
		}

		release()
		synctest.Wait()
		if got, _ := cycles.get(); len(got) != 2 {
			t.Errorf("%d cycles after the release; want 2", len(got))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := api.count("w-m"); n != 3 {
			t.Errorf("%d polls; want the next cycle to run", n)
		}
		stop(t, s)
	})
}

// TestSchedulerFirstCycleSkipsQuietly: the first cycle, which takes every
// baseline, may outlast slots; their skips are logged at debug level only.
func TestSchedulerFirstCycleSkipsQuietly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		release := api.holdPolls()
		s, logs, cycles := startScheduler(t, api, schedWatch("w", "@every 10s"))
		time.Sleep(20 * time.Second) // slots at 5s and 15s
		synctest.Wait()
		if n := api.count("w-m"); n != 1 {
			t.Errorf("%d polls while the first cycle runs; want 1", n)
		}
		if warns := logs.find(t, "warn", nil); len(warns) != 0 {
			t.Errorf("warnings while the first cycle runs: %v", warns)
		}
		if skips := logs.find(t, "debug", map[string]string{"watch": "w"}); len(skips) != 2 ||
			!strings.Contains(fmt.Sprint(skips[0]["message"]), "first cycle") {
			t.Errorf("debug lines = %v; want 2 skips during the first cycle", skips)
		}
		release()
		synctest.Wait()
		if got, _ := cycles.get(); len(got) != 1 {
			t.Errorf("%d cycles after the release; want 1", len(got))
		}
		stop(t, s)
	})
}

func TestSchedulerStopWaitsForCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		release := api.holdPolls()
		s, _, cycles := startScheduler(t, api, schedWatch("w", "@every 10s"))

		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stopped <- s.Stop(ctx)
		}()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned %v while a cycle ran", err)
		default:
		}
		if n := api.count("w-m"); n != 1 {
			t.Errorf("%d polls after Stop began; want no new cycle", n)
		}

		release()
		if err := <-stopped; err != nil {
			t.Errorf("Stop = %v; want nil once the cycle finished", err)
		}
		got, errs := cycles.get()
		if len(got) != 1 || got[0].Polls != 1 || errs[0] != nil {
			t.Errorf("cycles %+v, errors %v; want one complete cycle", got, errs)
		}
	})
}

func TestSchedulerStopCancelsAfterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		api.holdPolls() // never released
		s, logs, cycles := startScheduler(t, api, schedWatch("w", "@every 10s"))

		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.Stop(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v; want the deadline", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Stop took %s; want the 5s deadline", d)
		}
		got, errs := cycles.get()
		if len(got) != 1 || got[0].Polls != 0 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("cycles %+v, errors %v; want one cancelled cycle that observed nothing", got, errs)
		}
		if e := logs.find(t, "error", nil); len(e) != 0 {
			t.Errorf("a cycle cancelled by Stop logged errors: %v", e)
		}
	})
}

func TestSchedulerHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		release := api.holdPolls()
		s, _, _ := startScheduler(t, api, schedWatch("w", "@every 10s"))
		if ok, why := s.Healthy(time.Minute); !ok {
			t.Errorf("Healthy at start = false (%s)", why)
		}
		time.Sleep(61 * time.Second)
		synctest.Wait()
		if ok, why := s.Healthy(time.Minute); ok || why != "cycle of watch w has made no progress for 1m1s" {
			t.Errorf("Healthy with a stalled cycle = %v (%q)", ok, why)
		}

		release()
		synctest.Wait()
		if ok, why := s.Healthy(time.Minute); !ok {
			t.Errorf("Healthy after the cycle = false (%s)", why)
		}

		// Stopping the loop silences the heartbeat (last at 60s).
		stop(t, s)
		time.Sleep(16 * time.Second)
		if ok, why := s.Healthy(time.Minute); ok || why != "scheduler loop silent for 17s" {
			t.Errorf("Healthy with a silent loop = %v (%q)", ok, why)
		}
	})
}

func TestSchedulerRecoversPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newSchedAPI()
		api.panics = 1
		w := schedWatch("panicky", "@every 1m") // first slot at 12s
		w.Meetings = []string{"w-m", "w-other"}
		s, logs, cycles := startScheduler(t, api, w)

		panics := logs.find(t, "error", map[string]string{"watch": "panicky"})
		if len(panics) != 1 || !strings.Contains(fmt.Sprint(panics[0]["error"]), "poll exploded") {
			t.Fatalf("logged panics = %v; want one naming watch panicky", panics)
		}
		time.Sleep(12*time.Second - time.Nanosecond)
		if ok, why := s.Healthy(10 * time.Second); !ok {
			t.Errorf("Healthy after a recovered panic = false (%s)", why)
		}
		if got, _ := cycles.get(); len(got) != 0 {
			t.Errorf("a panicking cycle was reported: %+v", got)
		}

		time.Sleep(20 * time.Second)
		synctest.Wait()
		got, errs := cycles.get()
		if len(got) != 1 || got[0].Polls != 2 || errs[0] != nil {
			t.Errorf("cycles %+v, errors %v; want the next cycle to run in full", got, errs)
		}
		if _, ok := s.LastCycle()["panicky"]; !ok {
			t.Error("LastCycle has no entry for panicky after a good cycle")
		}
		stop(t, s)
	})
}

func TestNewSchedulerBadSchedule(t *testing.T) {
	_, err := NewScheduler(New(newSchedAPI(), Options{}), []Watch{schedWatch("bad", "@evry 1m")}, SchedulerOptions{})
	if err == nil || !strings.Contains(err.Error(), "watch bad") {
		t.Fatalf("NewScheduler = %v; want an error naming watch bad", err)
	}
}

// slowAPI answers every poll after delay: a cycle of many meetings that
// takes long but keeps making progress.
type slowAPI struct {
	schedAPI
	delay time.Duration
}

func (a *slowAPI) ActiveSession(ctx context.Context, _, _ string) (*rtkapi.Session, error) {
	select {
	case <-time.After(a.delay):
	case <-ctx.Done():
	}
	return nil, rtkapi.ErrNoActiveSession
}

func TestSchedulerHealthyWhileSlowCycleProgresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &slowAPI{schedAPI: *newSchedAPI(), delay: 40 * time.Second}
		p := New(api, Options{AccountID: "acc", Concurrency: 1, Logger: zerolog.Nop()})
		w := schedWatch("w", "@every 1h")
		w.Meetings = []string{"m1", "m2", "m3"}
		s, err := NewScheduler(p, []Watch{w}, SchedulerOptions{Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer stop(t, s)
		time.Sleep(100 * time.Second) // three polls of 40 s: the cycle runs for 120 s
		synctest.Wait()
		if ok, why := s.Healthy(time.Minute); !ok {
			t.Errorf("Healthy 100 s into a cycle that answered 20 s ago = false (%s)", why)
		}
		if got := time.Since(p.LastProgress("w")); got != 20*time.Second {
			t.Errorf("last progress %s ago; want 20s", got)
		}
	})
}

// brokenDisk refuses every commit while broken is set, as a full disk would.
type brokenDisk struct {
	mu     sync.Mutex
	broken bool
}

func (f *brokenDisk) Snapshots(string) (map[string][]byte, error) { return nil, nil }

func (f *brokenDisk) Commit([]store.Update) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return errors.New("no space left on device")
	}
	return nil
}

func TestSchedulerFailingAfterCommitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &brokenDisk{broken: true}
		p := New(newSchedAPI(), Options{AccountID: "acc", Store: st, Logger: zerolog.Nop()})
		s, err := NewScheduler(p, []Watch{schedWatch("w", "@every 10s")}, SchedulerOptions{Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer stop(t, s)
		synctest.Wait()
		if w, err := s.Failing(); w != "w" || err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Errorf("Failing = %q, %v; want watch w with the store's error", w, err)
		}
		st.mu.Lock()
		st.broken = false
		st.mu.Unlock()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if w, err := s.Failing(); w != "" || err != nil {
			t.Errorf("Failing after a good cycle = %q, %v; want none", w, err)
		}
	})
}

// TestSchedulerHealthyDuringRateLimitPause: a cycle held by a 429's
// Retry-After is not stuck; its clock starts when the pause ends.
func TestSchedulerHealthyDuringRateLimitPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1000, nil)
		b.Pause(300 * time.Second)
		api := newSchedAPI()
		release := api.holdPolls() // after the pause, the poll itself hangs
		p := New(api, Options{AccountID: "acc", Budget: b, Logger: zerolog.Nop()})
		s, err := NewScheduler(p, []Watch{schedWatch("w", "@every 1h")},
			SchedulerOptions{Logger: zerolog.Nop(), PausedUntil: b.PausedUntil})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer stop(t, s)
		defer release() // before stop
		time.Sleep(250 * time.Second)
		if ok, why := s.Healthy(time.Minute); !ok {
			t.Errorf("Healthy during the pause = false (%s)", why)
		}
		time.Sleep(111 * time.Second) // 61 s past the pause, nothing heard
		if ok, why := s.Healthy(time.Minute); ok || why != "cycle of watch w has made no progress for 1m1s" {
			t.Errorf("Healthy 61 s after the pause = %v (%q)", ok, why)
		}
	})
}

// mixedAPI holds the polls of meeting "stuck" until their context ends and
// answers every other one after delay.
type mixedAPI struct {
	schedAPI
	delay time.Duration
}

func (a *mixedAPI) ActiveSession(ctx context.Context, _, meetingID string) (*rtkapi.Session, error) {
	wait := time.After(a.delay)
	if meetingID == "stuck" {
		wait = nil
	}
	select {
	case <-wait:
	case <-ctx.Done():
	}
	return nil, rtkapi.ErrNoActiveSession
}

// TestSchedulerHealthyPerWatch: one watch's steady answers do not hide
// another watch's stuck cycle.
func TestSchedulerHealthyPerWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &mixedAPI{schedAPI: *newSchedAPI(), delay: 10 * time.Second}
		p := New(api, Options{AccountID: "acc", Concurrency: 1, Logger: zerolog.Nop()})
		stuck := schedWatch("a", "@every 1h")
		stuck.Meetings = []string{"stuck"}
		busy := schedWatch("b", "@every 1h")
		busy.Meetings = nil
		for i := range 100 {
			busy.Meetings = append(busy.Meetings, fmt.Sprintf("m%d", i))
		}
		s, err := NewScheduler(p, []Watch{stuck, busy}, SchedulerOptions{Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer func() {
			// Both cycles are still running: cut them short.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = s.Stop(ctx)
		}()
		time.Sleep(61 * time.Second)
		if ok, why := s.Healthy(time.Minute); ok || why != "cycle of watch a has made no progress for 1m1s" {
			t.Errorf("Healthy = %v (%q); want watch a stuck while b progresses", ok, why)
		}
	})
}
