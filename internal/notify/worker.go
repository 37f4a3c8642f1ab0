package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Outbox is the part of the store that the Worker drains. *store.Store
// satisfies it.
type Outbox interface {
	// Pending returns up to limit deliveries of one notifier, ascending ID.
	Pending(notifier string, limit int) ([]store.Delivery, error)
	// OutboxDepth counts the pending deliveries of every notifier.
	OutboxDepth() (map[string]int, error)
	// MarkDelivered removes a delivered delivery from the outbox.
	MarkDelivered(id uint64) error
	// RecordAttempt records a failed attempt and when to try next.
	RecordAttempt(id uint64, attempts int, next time.Time, lastErr string) error
	// DeadLetter moves a delivery from the outbox to the dead letters.
	DeadLetter(id uint64, at time.Time, lastErr string) error
}

// Log field names.
const (
	logNotifier    = "notifier"
	logDeliveryID  = "delivery_id"
	logEventID     = "event_id"
	logEventType   = "event_type"
	logAttempt     = "attempt"
	logStatus      = "status"
	logNextAttempt = "next_attempt"
	logPending     = "pending"
	logReason      = "reason"
	logRetryIn     = "retry_in"
)

// pendingBatch is how many deliveries a lane reads from the outbox at a
// time. A lane looks no further than the first pendingBatch deliveries of
// its notifier, so while all of those wait for a retry, later ones wait
// too.
const pendingBatch = 256

// maxStoreBackoff caps the pause between retries of a failing store
// operation.
const maxStoreBackoff = time.Minute

// WorkerOptions configure a Worker. Zero values take the defaults shown.
type WorkerOptions struct {
	// Timeout bounds each attempt (default 10s).
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it becomes a
	// dead letter (default 15).
	MaxAttempts int
	// MaxAge is how long after its event a failing delivery is still
	// retried (default 24h).
	MaxAge time.Duration
	// BaseBackoff and MaxBackoff shape the retry delays: after the n-th
	// failed attempt, a random delay in [0, min(MaxBackoff,
	// BaseBackoff·2^(n−1))), but never less than the receiver's Retry-After
	// (defaults 1s and 10m).
	BaseBackoff, MaxBackoff time.Duration
	// PollInterval is how often an idle lane rereads the outbox even
	// without Wake (default 1m).
	PollInterval time.Duration
	// Logger receives the Worker's logs.
	Logger zerolog.Logger
	// Metrics records attempts; nil records nothing.
	Metrics *Metrics
	// Now is the clock for due times and dead-letter times; time.Now when
	// nil. Waits use the runtime's timers, so Now must keep pace with
	// them (tests use testing/synctest).
	Now func() time.Time
	// Rand returns the jitter factor in [0, 1); math/rand/v2 when nil.
	Rand func() float64
}

// withDefaults fills in the zero options.
func (o WorkerOptions) withDefaults() WorkerOptions {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 15
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// Worker drains the outbox into the notifiers. Each notifier has its own
// lane, a goroutine that delivers only that notifier's deliveries, so a
// slow or failing receiver never delays another.
//
// Order: a lane attempts its due deliveries in ID order (the order the
// events were committed) and skips those waiting for a retry, so a
// receiver sees events in order while it accepts them, and in best-effort
// order after a failure: one event that keeps failing does not hold back
// the ones after it. A lane looks at the oldest 256 pending deliveries of
// its notifier only, so while all of those wait for a retry, newer ones
// wait too.
type Worker struct {
	outbox  Outbox
	opts    WorkerOptions
	lanes   []*lane
	running atomic.Bool
}

// NewWorker returns a Worker for the given notifiers, whose names must be
// unique (a repeated name is logged and ignored). Deliveries for names
// without a notifier stay in the outbox.
func NewWorker(outbox Outbox, notifiers []Notifier, opts WorkerOptions) *Worker {
	w := &Worker{outbox: outbox, opts: opts.withDefaults()}
	seen := make(map[string]bool, len(notifiers))
	for _, n := range notifiers {
		if seen[n.Name()] {
			w.opts.Logger.Error().Str(logNotifier, n.Name()).Msg("notifier name repeated; ignoring the repeat")
			continue
		}
		seen[n.Name()] = true
		w.lanes = append(w.lanes, &lane{
			w:    w,
			n:    n,
			name: n.Name(),
			wake: make(chan struct{}, 1),
			log:  w.opts.Logger.With().Str(logNotifier, n.Name()).Logger(),
		})
	}
	return w
}

// Wake tells every lane that new deliveries were committed. It never
// blocks.
func (w *Worker) Wake() {
	for _, l := range w.lanes {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx is done, then returns nil once every lane has
// stopped. An attempt in flight when ctx ends is abandoned and its delivery
// stays in the outbox as it was. Run, or RunDrain, may be called only once.
func (w *Worker) Run(ctx context.Context) error {
	return w.RunDrain(ctx, ctx)
}

// RunDrain delivers until ctx is done. Then it starts no new attempt, but
// lets each attempt in flight finish, within its own timeout, unless hard
// ends first and abandons it (its delivery stays in the outbox as it was).
// It returns nil once every lane has stopped.
func (w *Worker) RunDrain(ctx, hard context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("notify worker: run called twice")
	}
	w.reportOrphans()
	var wg sync.WaitGroup
	for _, l := range w.lanes {
		l.hard = hard
		wg.Go(func() { l.run(ctx) })
	}
	wg.Wait()
	return nil
}

// RunOnce makes one pass over each notifier's due deliveries, attempting
// each at most once, and returns when every lane is through or ctx ends.
// Failed attempts are recorded for a later Run, as Run would. It is for
// one-shot commands; it must not run beside Run on the same outbox.
func (w *Worker) RunOnce(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("notify worker: run called twice")
	}
	w.reportOrphans()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, l := range w.lanes {
		l.hard = ctx
		wg.Go(func() {
			if _, err := l.pass(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("notifier %s: %w", l.name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reportOrphans logs, once, every notifier name that has pending deliveries
// but no notifier: they stay in the outbox until the notifier comes back
// or an operator deals with them.
func (w *Worker) reportOrphans() {
	depth, err := w.outbox.OutboxDepth()
	if err != nil {
		w.opts.Logger.Warn().Err(err).Msg("read outbox depth")
		return
	}
	names := make([]string, 0, len(depth))
	for name := range depth {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if depth[name] == 0 || slices.ContainsFunc(w.lanes, func(l *lane) bool { return l.name == name }) {
			continue
		}
		w.opts.Logger.Warn().Str(logNotifier, name).Int(logPending, depth[name]).
			Msg("deliveries for a notifier that is not configured stay in the outbox")
	}
}

// retryDelay is the full-jitter backoff after the attempts-th failed
// attempt.
func (w *Worker) retryDelay(attempts int) time.Duration {
	ceiling := w.opts.MaxBackoff
	if shift := attempts - 1; shift < 62 {
		if c := w.opts.BaseBackoff << shift; c > 0 && c>>shift == w.opts.BaseBackoff && c < ceiling {
			ceiling = c
		}
	}
	return time.Duration(w.opts.Rand() * float64(ceiling))
}

// storeDelay is the pause before the n-th retry of a failing store
// operation.
func (w *Worker) storeDelay(n int) time.Duration {
	d := w.opts.BaseBackoff
	for i := 1; i < n && d < maxStoreBackoff; i++ {
		d *= 2
	}
	return min(d, maxStoreBackoff)
}

// lane delivers the deliveries of one notifier, one at a time.
type lane struct {
	w      *Worker
	n      Notifier
	name   string
	wake   chan struct{}
	log    zerolog.Logger
	broken bool // a Broken result has been logged
	// hard ends attempts in flight and store retries; the context of run
	// only stops new attempts.
	hard context.Context
}

// run is the lane's loop: read the due deliveries, attempt them, sleep until
// the next is due, is committed, or ctx ends.
func (l *lane) run(ctx context.Context) {
	l.w.opts.Metrics.setBroken(l.name, false)
	failures := 0
	for ctx.Err() == nil {
		wait, err := l.pass(ctx)
		if err != nil {
			failures++
			d := l.w.storeDelay(failures)
			l.log.Error().Err(err).Dur(logRetryIn, d).Msg("read outbox; retrying")
			l.sleep(ctx, d, false)
			continue
		}
		failures = 0
		l.sleep(ctx, wait, true)
	}
}

// pass attempts every due delivery of one batch in ID order, and says how
// long to wait before the next pass: 0 after any attempt (to look again),
// else until the earliest retry, at most PollInterval.
func (l *lane) pass(ctx context.Context) (time.Duration, error) {
	batch, err := l.w.outbox.Pending(l.name, pendingBatch)
	if err != nil {
		return 0, err
	}
	wait := l.w.opts.PollInterval
	attempted := false
	now := l.w.opts.Now()
	for _, d := range batch {
		if ctx.Err() != nil {
			return 0, nil
		}
		if d.NextAttempt.After(now) {
			wait = min(wait, d.NextAttempt.Sub(now))
			continue
		}
		if !l.attempt(ctx, d) {
			return 0, nil
		}
		attempted = true
		now = l.w.opts.Now()
	}
	if attempted {
		return 0, nil
	}
	return wait, nil
}

// attempt makes one attempt at d and records the outcome in the outbox. It
// returns false when ctx ended first.
func (l *lane) attempt(ctx context.Context, d store.Delivery) bool {
	o := l.w.opts
	msg := Message{EventID: d.EventID, EventType: d.EventType, Body: d.Body, Attempt: d.Attempts + 1}
	actx, cancel := context.WithTimeout(l.hard, o.Timeout)
	start := time.Now()
	res := l.n.Notify(actx, msg)
	took := time.Since(start)
	cancel()

	log := l.log.With().Uint64(logDeliveryID, d.ID).Str(logEventID, d.EventID).
		Str(logEventType, d.EventType).Int(logAttempt, msg.Attempt).Logger()
	if res.Err == nil {
		o.Metrics.observe(l.name, OutcomeDelivered, took)
		log.Debug().Int(logStatus, res.StatusCode).Msg("delivered")
		return l.persist(l.hard, d.ID, "mark delivered", func() error { return l.w.outbox.MarkDelivered(d.ID) })
	}
	if l.hard.Err() != nil {
		return false // abandoned: the delivery stays as it was
	}
	if res.Broken {
		o.Metrics.setBroken(l.name, true)
		if !l.broken {
			l.broken = true
			log.Error().Err(res.Err).Msg("notifier is misconfigured; its events become dead letters until the configuration is fixed")
		}
	}

	now := o.Now()
	attempts := d.Attempts + 1
	lastErr := res.Err.Error()
	var reason string
	var next time.Time
	switch {
	case !res.Retry:
		reason = "not retryable"
	case attempts >= o.MaxAttempts:
		reason = fmt.Sprintf("gave up after %d attempts", attempts)
	case now.Sub(d.CreatedAt) >= o.MaxAge:
		reason = fmt.Sprintf("gave up after max age %s", o.MaxAge)
	default:
		next = now.Add(max(l.w.retryDelay(attempts), res.RetryAfter))
		if deadline := d.CreatedAt.Add(o.MaxAge); next.After(deadline) {
			if now.Add(res.RetryAfter).After(deadline) {
				reason = fmt.Sprintf("retry-after %s is past max age %s", res.RetryAfter, o.MaxAge)
			} else {
				next = deadline // one last attempt at max age
			}
		}
	}
	if reason != "" {
		if res.Retry {
			lastErr += " (" + reason + ")"
		}
		o.Metrics.observe(l.name, OutcomeDead, took)
		log.Warn().Err(res.Err).Int(logStatus, res.StatusCode).Str(logReason, reason).Msg("dead letter")
		// DeadLetter keeps the stored attempt count, so count this attempt
		// first; a crash in between leaves the delivery due at once.
		return l.persist(l.hard, d.ID, "record attempt", func() error {
			return l.w.outbox.RecordAttempt(d.ID, attempts, now, lastErr)
		}) && l.persist(l.hard, d.ID, "dead-letter", func() error {
			return l.w.outbox.DeadLetter(d.ID, now, lastErr)
		})
	}
	o.Metrics.observe(l.name, OutcomeRetry, took)
	log.Info().Err(res.Err).Int(logStatus, res.StatusCode).Time(logNextAttempt, next).Msg("attempt failed; will retry")
	return l.persist(l.hard, d.ID, "record attempt", func() error {
		return l.w.outbox.RecordAttempt(d.ID, attempts, next, lastErr)
	})
}

// persist runs a store operation until it succeeds, backing off while it
// fails (a full disk, say): an outcome is never dropped. A delivery that
// is no longer in the outbox counts as done. It returns false when ctx
// ended first.
func (l *lane) persist(ctx context.Context, id uint64, what string, op func() error) bool {
	for n := 1; ; n++ {
		err := op()
		switch {
		case err == nil:
			return true
		case errors.Is(err, store.ErrNotFound):
			l.log.Warn().Uint64(logDeliveryID, id).Msg(what + ": delivery no longer in the outbox")
			return true
		}
		d := l.w.storeDelay(n)
		l.log.Error().Err(err).Uint64(logDeliveryID, id).Dur(logRetryIn, d).Msg(what + "; retrying")
		if !l.sleep(ctx, d, false) {
			return false
		}
	}
}

// sleep waits for d, or for a Wake when wakeable, and returns false when
// ctx ended first.
func (l *lane) sleep(ctx context.Context, d time.Duration, wakeable bool) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	var wake <-chan struct{}
	if wakeable {
		wake = l.wake
	}
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}
