package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/heartbeat"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Shutdown and reload bounds.
const (
	// stopCyclesWithin is how long a stop or reload waits for running poll
	// cycles before it cancels them.
	stopCyclesWithin = 10 * time.Second
	// daemonLockTimeout is how long `run` waits for the store's lock.
	daemonLockTimeout = 5 * time.Second
	// drainGrace is how long, past delivery.timeout, a stop waits for the
	// outcomes of the last deliveries to reach the store.
	drainGrace = 5 * time.Second
	// maxDrain bounds the wait for deliveries in flight whatever
	// delivery.timeout says, so that a stop (cycles, then deliveries) ends
	// well within the unit's TimeoutStopSec=30s.
	maxDrain = 15 * time.Second
	// commitLinger is how long a cycle waits for other watches' cycles to
	// share its store transaction: with many watches on short schedules,
	// one fsync serves all the cycles that end within it. At 250 watches
	// `@every 1s`, 200 ms (five transactions a second) cost a tenth less CPU
	// per request than 50 ms; events reach the outbox at most that much
	// later.
	commitLinger = 200 * time.Millisecond
)

// daemonOptions are what `run` and `demo` set differently.
type daemonOptions struct {
	// configPath is reloaded on a reload signal; "" disables reloads.
	configPath string
	// reload delivers reload requests (SIGHUP).
	reload <-chan struct{}
	// hard ends the drain at once (a second SIGTERM).
	hard <-chan struct{}
	// notifier tells systemd about the daemon's state.
	notifier systemdNotifier
	// started is called once the daemon polls and delivers.
	started func(*daemon)
}

// daemon is the running service: one store for its whole life, and a
// generation of scheduler and delivery worker per loaded config.
type daemon struct {
	env    *environment
	opts   daemonOptions
	log    zerolog.Logger
	st     stateStore // what admin and metrics read
	budget *poller.Budget
	// gate bounds the API requests in flight and their bodies' memory, for
	// the daemon's whole life: every generation's client shares it.
	gate *rtkapi.Gate
	reg  *prometheus.Registry

	pollMetrics      *poller.Metrics
	notifyMetrics    *notify.Metrics
	heartbeatMetrics *heartbeat.Metrics
	known            poller.KnownMeetings  // meetings the API said exist
	gauges           *poller.MeetingGauges // per-meeting, as metrics.meetings says

	// runMu orders reloads and, under ha, the terms that start and stop
	// generations.
	runMu sync.Mutex
	mu    sync.Mutex
	gen   *generation
	cfg   *config.Config // the config in force; under ha, for the next term
	// haNode is set under ha: a node that does not lead is healthy and
	// ready (it answers reads) with no generation running.
	haNode bool
}

// stateStore is what the daemon needs of its state store: *store.Store,
// or under ha a store in etcd.
type stateStore interface {
	notify.Store
	poller.Store
	poller.Pruner
	admin.Store
	DeadLetterCount() (int, error)
	PruneHistory(b store.HistoryBounds) (int, error)
	PruneSilences(now time.Time) (int, error)
}

// generation is what one config runs: its schedules and its delivery
// worker, and the HTTP clients they alone use.
type generation struct {
	cfg    *config.Config
	poller *poller.Poller
	st     stateStore // the store it polls into and delivers from
	// term, under ha, is the leadership it runs in: done once the term
	// ended. Nil without ha.
	term    context.Context
	sched   *poller.Scheduler
	worker  *notify.Worker
	beat    *heartbeat.Heartbeat // nil without heartbeat.url
	clients []idleCloser         // closed by stop, once nothing of gen runs
	// stopCheck ends the check of gen's meetings and waits for it.
	stopCheck func()

	stopBeat context.CancelFunc
	beatDone chan struct{}

	stopWorker     context.CancelFunc // no new deliveries
	stopWorkerHard context.CancelFunc // abandon deliveries in flight
	workerDone     chan struct{}
}

func cmdRun(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("run", env.stderr)
	path := configFlag(fset, env.getenv)
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Errorf("run takes no arguments, got %q", pos))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	return runDaemon(ctx, env, cfg, daemonOptions{
		configPath: *path,
		reload:     env.reload,
		hard:       env.hardStop,
		notifier:   newSystemdNotifier(env.getenv),
	})
}

// runDaemon runs the service on cfg until ctx ends, then drains.
func runDaemon(ctx context.Context, env *environment, cfg *config.Config, opts daemonOptions) error {
	if opts.notifier == nil {
		opts.notifier = noSystemd{}
	}
	if err := checkBudget(cfg); err != nil {
		return usageError(err)
	}
	d := &daemon{env: env, opts: opts, log: newLogger(cfg.Log, env.stdout), reg: prometheus.NewRegistry(), cfg: cfg}
	d.budget = newBudget(cfg)
	d.gate = rtkapi.NewGate(rtkapi.DefaultMaxInFlight)
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.pollMetrics = poller.NewMetrics(d.reg, d.budget)
	d.gauges = poller.NewMeetingGauges(d.reg)
	d.notifyMetrics = notify.NewMetrics(d.reg)
	d.heartbeatMetrics = heartbeat.NewMetrics(d.reg)
	if cfg.HA != nil {
		return d.runHA(ctx, cfg)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{LockTimeout: daemonLockTimeout})
	if err != nil {
		logDamage(d.log, err)
		return err
	}
	d.st = st
	defer func() {
		if err := st.Close(); err != nil {
			d.log.Error().Err(err).Msg("close store")
		}
	}()
	d.reg.MustRegister(storeCollector{st: st, log: d.log})

	gen, err := d.build(cfg, st)
	if err != nil {
		return usageError(err)
	}
	d.prune(gen)
	d.start(gen)
	stopMaintain := d.startMaintain(st)
	return d.serve(ctx, cfg, func() {
		d.mu.Lock()
		gen := d.gen
		d.mu.Unlock()
		d.stop(gen, opts.hard)
		stopMaintain()
	})
}

// serve answers the admin API and systemd until ctx ends, applying
// reloads, then stops the work with stopWork and returns.
func (d *daemon) serve(ctx context.Context, cfg *config.Config, stopWork func()) error {
	opts := d.opts
	var adm *admin.Server
	if cfg.Admin.Listen != "" {
		var err error
		adm, err = admin.Start(cfg.Admin.Listen, admin.Handlers{
			Registry: d.reg, Store: d.st, Healthy: d.healthy, Ready: d.ready, Log: d.log,
			Requeued: d.wake, Watch: d.hasWatch, Notifier: d.hasNotifier,
		})
		if err != nil {
			stopWork()
			return err
		}
		d.log.Info().Str("listen", adm.Addr()).Msg("admin server listening")
	}
	d.tellSystemd(sd.SdNotifyReady)
	where := cfg.Store.Path
	if cfg.HA != nil {
		where = "etcd " + cfg.HA.Etcd.Prefix
	}
	d.log.Info().Int("watches", len(cfg.Watches)).Int("notifiers", len(cfg.Notifiers)).
		Str("store", where).Msg("rtkwatchd running")
	if opts.started != nil {
		opts.started(d)
	}

	watchdog, err := d.opts.notifier.WatchdogInterval()
	if err != nil {
		d.log.Error().Err(err).Msg("sd_notify: the watchdog stays off")
	}
	var tick <-chan time.Time
	if watchdog > 0 {
		t := time.NewTicker(watchdog / 2)
		defer t.Stop()
		tick = t.C
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-opts.reload:
			d.reloadConfig()
		case <-tick:
			if ok, why := d.healthy(); ok {
				d.tellSystemd(sd.SdNotifyWatchdog)
			} else {
				d.log.Warn().Str("reason", why).Msg("schedules make no progress; withholding the watchdog ping")
			}
		}
	}

	d.tellSystemd(sd.SdNotifyStopping)
	d.log.Info().Msg("stopping: finishing running cycles and deliveries in flight")
	stopWork()
	if adm != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = adm.Close(sctx)
		cancel()
	}
	d.log.Info().Msg("stopped")
	return nil
}

// checkBudget refuses a plan that needs more requests than the budget
// allows: it would poll late, all the time.
func checkBudget(cfg *config.Config) error {
	plan, err := poller.MakePlan(cfg)
	if err != nil {
		return err
	}
	if over := plan.Over(); over > 0 {
		return fmt.Errorf("the plan needs %d API requests per 5 minutes, %d more than api.requests_per_5m (%d); `rtkwatchd check` shows each watch's share",
			plan.RequestsPer5m, over, plan.Budget)
	}
	return nil
}

// build makes the scheduler and delivery worker of cfg on st without
// starting them.
func (d *daemon) build(cfg *config.Config, st stateStore) (*generation, error) {
	log := d.log.Level(newLogger(cfg.Log, d.env.stdout).GetLevel())
	notifiers, clients, err := loadNotifiers(d.opts.configPath, cfg)
	if err != nil {
		return nil, err
	}
	windows, err := silence.Windows(cfg)
	if err != nil {
		return nil, err
	}
	silences := silence.NewLive(windows, st, log)
	worker := notify.NewWorker(st, notifiers, notify.WorkerOptions{
		Timeout:             cfg.Delivery.Timeout,
		MaxAttempts:         cfg.Delivery.MaxAttempts,
		MaxAge:              cfg.Delivery.MaxAge,
		DeadLetterRetention: cfg.Delivery.DeadLetterRetention,
		CircuitAfter:        cfg.Delivery.CircuitAfter,
		Wants:               notifierWants(cfg),
		Silences:            silences,
		Logger:              log,
		Metrics:             d.notifyMetrics,
	})
	client := newAPIClient(cfg, d.gate)
	clients = append(clients, client)
	p := poller.New(client, poller.Options{
		AccountID:    cfg.API.AccountID,
		Store:        st,
		Budget:       d.budget,
		CommitLinger: commitLinger,
		Observer:     d.pollMetrics,
		Silences:     silences,
		Signals:      d.pollMetrics,
		Gauges:       d.gauges,
		Logger:       log,
	})
	sched, err := poller.NewScheduler(p, poller.Watches(cfg), poller.SchedulerOptions{
		Logger:      log,
		PausedUntil: d.budget.PausedUntil,
		OnCycle: func(c poller.Cycle, err error) {
			if len(c.Events) > 0 {
				worker.Wake()
			}
			log.Debug().Str("watch", c.Watch).Int("polls", c.Polls).Int("failed", c.Failures).
				Int("events", len(c.Events)).Msg("cycle done")
		},
	})
	if err != nil {
		return nil, err
	}
	gen := &generation{cfg: cfg, poller: p, st: st, sched: sched, worker: worker, clients: clients}
	if cfg.Heartbeat.Enabled() {
		hc := newHeartbeatClient()
		gen.clients = append(gen.clients, hc)
		gen.beat, err = heartbeat.New(heartbeat.Options{
			URL:        cfg.Heartbeat.URL.Value(),
			Method:     cfg.Heartbeat.Method,
			Every:      cfg.Heartbeat.Every,
			Timeout:    cfg.Heartbeat.Timeout,
			Progressed: sched.Progressed,
			Client:     hc,
			Logger:     log.With().Str("component", "heartbeat").Logger(),
			Metrics:    d.heartbeatMetrics,
		})
		if err != nil {
			return nil, err
		}
	}
	return gen, nil
}

// start runs gen's worker and schedules, and makes it the current one.
func (d *daemon) start(gen *generation) {
	wctx, cancel := context.WithCancel(context.Background())
	hard, hardCancel := context.WithCancel(context.Background())
	gen.stopWorker, gen.stopWorkerHard = cancel, hardCancel
	gen.workerDone = make(chan struct{})
	go func() {
		defer close(gen.workerDone)
		defer hardCancel()
		_ = gen.worker.RunDrain(wctx, hard)
	}()
	gen.sched.Start()
	d.startMeetingCheck(gen)
	gen.beatDone = make(chan struct{})
	bctx, stopBeat := context.WithCancel(context.Background())
	gen.stopBeat = stopBeat
	go func() {
		defer close(gen.beatDone)
		if gen.beat != nil {
			_ = gen.beat.Run(bctx)
		}
	}()
	d.mu.Lock()
	d.gen, d.cfg = gen, gen.cfg
	d.mu.Unlock()
}

// stop stops gen: no new cycle, running ones finish (or are cancelled after
// stopCyclesWithin), then no new delivery, and attempts in flight finish
// within delivery.timeout unless hard closes first. Then nothing of gen
// runs, and the connections its clients keep open for reuse are closed: a
// reload would otherwise leave them to their idle timeout.
func (d *daemon) stop(gen *generation, hard <-chan struct{}) {
	defer closeIdle(gen.clients)
	gen.stopBeat()
	<-gen.beatDone
	if gen.stopCheck != nil {
		gen.stopCheck()
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopCyclesWithin)
	go func() {
		select {
		case <-hard:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := gen.sched.Stop(ctx); err != nil {
		d.log.Warn().Err(err).Msg("stop schedules")
	}
	cancel()
	gen.stopWorker()
	// Attempts in flight have delivery.timeout; outcomes that the store
	// cannot write (a full disk) are retried, so bound the wait for those.
	drain := time.NewTimer(min(gen.cfg.Delivery.Timeout+drainGrace, maxDrain))
	defer drain.Stop()
	select {
	case <-gen.workerDone:
		return
	case <-hard:
		d.log.Warn().Msg("second signal: abandoning deliveries in flight (they stay in the outbox)")
	case <-drain.C:
		d.log.Warn().Msg("deliveries did not finish in time; abandoning them (they stay in the outbox)")
	}
	gen.stopWorkerHard()
	<-gen.workerDone
}

// wake tells the current worker that deliveries were queued.
func (d *daemon) wake() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen != nil {
		d.gen.worker.Wake()
	}
}

// hasWatch reports whether the running config has a watch of that name.
func (d *daemon) hasWatch(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.ContainsFunc(d.gen.cfg.Watches, func(w config.Watch) bool { return w.Name == name })
}

// hasNotifier reports whether the running config has a notifier of that
// name.
func (d *daemon) hasNotifier(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.gen.cfg.Notifier(name)
	return ok
}

// healthy reports whether the schedules make progress.
func (d *daemon) healthy() (bool, string) {
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	if gen == nil {
		if d.haNode {
			return true, "" // it follows, and answers reads
		}
		return false, "starting"
	}
	return gen.sched.Healthy(2*gen.cfg.API.Timeout + time.Minute)
}

// ready reports whether the daemon polls and delivers.
func (d *daemon) ready() (bool, string) {
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	if gen == nil {
		if d.haNode {
			return true, "" // it follows, and answers reads
		}
		return false, "starting"
	}
	if ok, why := gen.sched.Healthy(24 * time.Hour); !ok {
		return false, why
	}
	if w, err := gen.sched.Failing(); err != nil {
		return false, fmt.Sprintf("the last cycle of watch %s failed: %v", w, err)
	}
	return true, ""
}
