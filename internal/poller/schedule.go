package poller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// heartbeatEvery is how often the scheduler proves that its loop still runs.
const heartbeatEvery = 5 * time.Second

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Logger zerolog.Logger
	// OnCycle is called after every cycle, from the cycle's goroutine.
	OnCycle func(Cycle, error)
	// Now is the clock for health checks; default time.Now.
	Now func() time.Time
	// PausedUntil says until when a 429 holds every request of the API
	// token (Budget.PausedUntil); nil when nothing can. A cycle that waits
	// for it is not stalled, and the cycles it makes the schedule skip are
	// expected.
	PausedUntil func() time.Time
}

// Scheduler runs each watch's cycles on its cron schedule: one cron entry
// per watch, a cycle skipped while the previous one still runs, a panic in a
// cycle recovered and logged. Every watch also runs once at Start, so that a
// fresh daemon takes its baselines at once. Watches that share a schedule
// do not fire together: each runs at a stable offset within its interval,
// from a hash of its name (see spread).
type Scheduler struct {
	p    *Poller
	opts SchedulerOptions
	cron *cron.Cron
	jobs []cron.Job // one per watch, wrapped in its skip-and-recover chain
	// schedules are the watches' schedules, by name, for Progressed.
	schedules map[string]cron.Schedule

	ctx    context.Context // cycles run under it; cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // the start-up runs
	// firsts holds a token for each watch's first cycle while it runs: at
	// most as many at once as the poller polls meetings at once. Every
	// watch starts with a cycle, and 250 watches all in their first cycle
	// at once held their state together for no gain (their polls share the
	// poller's slots anyway), a third more live heap than later cycles and
	// the daemon's peak memory.
	firsts chan struct{}
	// stopping is closed when Stop begins: first cycles still waiting for
	// a token of firsts do not start.
	stopping chan struct{}
	stopOnce sync.Once

	mu        sync.Mutex
	heartbeat time.Time
	running   map[string]time.Time // watch → start of its running cycle
	queued    map[string]bool      // watches whose first cycle waits for a token of firsts
	lastCycle map[string]time.Time // watch → end of its last cycle
	failed    map[string]error     // watch → why its last cycle failed
}

// NewScheduler prepares the schedules of watches over p, which it owns
// from then on (Stop closes it); nothing runs until Start.
func NewScheduler(p *Poller, watches []Watch, opts SchedulerOptions) (*Scheduler, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnCycle == nil {
		opts.OnCycle = func(Cycle, error) {}
	}
	if opts.PausedUntil == nil {
		opts.PausedUntil = func() time.Time { return time.Time{} }
	}
	s := &Scheduler{
		p:         p,
		opts:      opts,
		cron:      cron.New(cron.WithLogger(cronLogger{l: opts.Logger})),
		running:   make(map[string]time.Time),
		lastCycle: make(map[string]time.Time),
		failed:    make(map[string]error),
		schedules: make(map[string]cron.Schedule, len(watches)),
		firsts:    make(chan struct{}, p.opts.Concurrency),
		stopping:  make(chan struct{}),
		queued:    make(map[string]bool),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, w := range watches {
		sched, err := config.ParseSchedule(w.Schedule)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", w.Name, err)
		}
		// Recover sits inside SkipIfStillRunning: robfig/cron's skip
		// wrapper hands its token back only when the job returns, so a
		// panic passing through it would skip the watch for ever. The
		// logger names the watch in skip and panic messages.
		l := cronLogger{l: opts.Logger.With().Str(logWatch, w.Name).Logger(), paused: opts.PausedUntil,
			starting: func() bool { return s.starting(w.Name) }}
		job := cron.NewChain(cron.SkipIfStillRunning(l), cron.Recover(l)).Then(cron.FuncJob(func() { s.runCycle(w) }))
		s.cron.Schedule(spread(w.Name, sched, opts.Now()), job)
		s.jobs = append(s.jobs, job)
		s.schedules[w.Name] = sched
	}
	hb, _ := config.ParseSchedule("@every " + heartbeatEvery.String())
	s.cron.Schedule(hb, cron.FuncJob(s.beat))
	return s, nil
}

// Start begins the schedules and the start-up cycle of every watch.
func (s *Scheduler) Start() {
	s.beat()
	s.cron.Start()
	for _, job := range s.jobs {
		s.wg.Go(job.Run)
	}
}

// Stop stops scheduling new cycles and waits for running ones until ctx is
// done; then it cancels them and waits for them to return. Then it closes
// the poller, which the scheduler owns from NewScheduler on.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	done := s.cron.Stop().Done()
	all := make(chan struct{})
	go func() {
		<-done
		s.wg.Wait()
		s.p.Close()
		close(all)
	}()
	select {
	case <-all:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-all
		return fmt.Errorf("stop scheduler: cycles cut short: %w", ctx.Err())
	}
}

// Healthy reports whether the schedules make progress: the cron loop ticks,
// and no cycle has been running for longer than stallAfter.
func (s *Scheduler) Healthy(stallAfter time.Duration) (bool, string) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if since := now.Sub(s.heartbeat); since > 3*heartbeatEvery {
		return false, fmt.Sprintf("scheduler loop silent for %s", since.Round(time.Second))
	}
	// A cycle that waits for a 429's Retry-After is not stuck: its clock
	// starts when the pause ends.
	paused := s.opts.PausedUntil()
	for w, start := range s.running {
		// A long cycle is fine while its requests keep coming back: only
		// one that has heard nothing for stallAfter is stuck.
		progress := later(s.p.LastProgress(w), paused)
		if d := now.Sub(later(start, progress)); d > stallAfter {
			return false, fmt.Sprintf("cycle of watch %s has made no progress for %s", w, d.Round(time.Second))
		}
	}
	return true, ""
}

// Failing reports a watch whose last cycle could not run or commit (a full
// disk, say), with the error; "" and nil when every watch's last cycle
// went through.
func (s *Scheduler) Failing() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.failed))
	for w := range s.failed {
		names = append(names, w)
	}
	if len(names) == 0 {
		return "", nil
	}
	slices.Sort(names)
	return names[0], s.failed[names[0]]
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// LastCycle returns when each watch last finished a cycle.
func (s *Scheduler) LastCycle() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]time.Time, len(s.lastCycle))
	for k, v := range s.lastCycle {
		m[k] = v
	}
	return m
}

// starting reports whether watch has not finished a cycle yet: its first
// cycle, at Start, still runs.
func (s *Scheduler) starting(watch string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, done := s.lastCycle[watch]
	return !done
}

func (s *Scheduler) beat() {
	now := s.opts.Now()
	s.mu.Lock()
	s.heartbeat = now
	s.mu.Unlock()
}

// awaitFirst takes a token of firsts for watch's first cycle, and reports
// whether it did: false once Stop was called. While it waits, the watch is
// queued: its cycle does not run yet, so it cannot stall (Healthy), and it
// moves as the first cycles ahead of it do, which are themselves held to
// making progress (Progressed).
func (s *Scheduler) awaitFirst(watch string) bool {
	s.mu.Lock()
	s.queued[watch] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.queued, watch)
		s.mu.Unlock()
	}()
	select {
	case s.firsts <- struct{}{}:
	case <-s.stopping:
		return false
	}
	select {
	case <-s.stopping: // both were ready: a stop wins
		<-s.firsts
		return false
	default:
		return true
	}
}

// runCycle runs one cycle of w; the cron chain keeps it from overlapping.
func (s *Scheduler) runCycle(w Watch) {
	if s.ctx.Err() != nil {
		return
	}
	if s.starting(w.Name) {
		if !s.awaitFirst(w.Name) {
			return
		}
		defer func() { <-s.firsts }()
	}
	s.mu.Lock()
	s.running[w.Name] = s.opts.Now()
	s.mu.Unlock()
	finished := false
	defer func() {
		if !finished {
			// A panic, which the cron chain recovers: the cycle is over
			// and must not count as stalled.
			s.mu.Lock()
			delete(s.running, w.Name)
			s.mu.Unlock()
		}
	}()
	c, err := s.p.Poll(s.ctx, w)
	s.mu.Lock()
	delete(s.running, w.Name)
	s.lastCycle[w.Name] = s.opts.Now()
	switch {
	case err == nil:
		delete(s.failed, w.Name)
	case s.ctx.Err() == nil:
		s.failed[w.Name] = err
	}
	s.mu.Unlock()
	finished = true
	if err != nil && s.ctx.Err() == nil {
		s.opts.Logger.Error().Err(err).Str(logWatch, w.Name).Msg("poll cycle failed")
	}
	s.opts.OnCycle(c, err)
}

// cronLogger sends robfig/cron's messages to zerolog.
type cronLogger struct {
	l zerolog.Logger
	// paused says until when a 429 holds every request; zero when nothing
	// does.
	paused func() time.Time
	// starting says whether the watch's first cycle still runs; nil when
	// it cannot.
	starting func() bool
}

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		if c.starting != nil && c.starting() {
			// The first cycle takes every baseline, and may take longer
			// than one interval: skipping is expected.
			c.l.Debug().Msg("the first cycle still runs; this one is skipped")
			return
		}
		if c.paused != nil && time.Until(c.paused()) > 0 {
			// Cycles wait for the API's Retry-After: skipping is expected,
			// and the 429 was logged when it came.
			c.l.Debug().Time(logPausedUntil, c.paused()).Msg("previous cycle waits for the API's Retry-After; this one is skipped")
			return
		}
		c.l.Warn().Msg("previous cycle still running; this one is skipped (poll less often?)")
		return
	}
	c.l.Debug().Fields(kv).Msg("cron: " + msg)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}
