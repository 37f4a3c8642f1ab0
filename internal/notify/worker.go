package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Store is what the Worker needs of the store: the outbox its lanes drain,
// and the housekeeping that bounds the dead letters. *store.Store
// provides it.
type Store interface {
	Outbox
	Housekeeping
}

// Outbox is the part of the store that a lane drains, one notifier's
// deliveries at a time.
type Outbox interface {
	// PendingAfter returns up to limit deliveries of one notifier with an
	// ID above afterID, ascending ID; one whose record does not decode has
	// Undecodable set.
	PendingAfter(notifier string, afterID uint64, limit int) ([]store.Delivery, error)
	// MarkDelivered removes a delivered delivery from the outbox.
	MarkDelivered(notifier string, id uint64) error
	// RecordAttempt records a failed attempt and when to try next.
	RecordAttempt(notifier string, id uint64, attempts int, next time.Time, lastErr string) error
	// DeadLetter moves a delivery from the outbox to the dead letters, and
	// quarantines one whose record does not decode.
	DeadLetter(notifier string, id uint64, at time.Time, lastErr string) error
	// Combine replaces several deliveries of one notifier by one, a group,
	// all or nothing.
	Combine(notifier string, ids []uint64, c store.Combined) (store.Delivery, error)
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
	logDeadLetters = "dead_letters"
	logRetention   = "retention"
	logFailingFor  = "failing_for"
)

// pendingBatch is how many deliveries a lane reads from the outbox at a
// time: one page. A pass reads further pages while the ones it has read
// give it little to do (see maxPassPages).
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
	// BaseBackoff is the delay before the first retry (default 1s). The
	// delays then grow fourfold until they reach the time left until
	// MaxAge shared evenly among the retries left, so the retries span
	// MaxAge and the last attempt falls at MaxAge (see RetrySchedule).
	// Jitter brings each retry but the last forward by up to a fifth of its
	// delay, and no retry comes before the receiver's Retry-After.
	BaseBackoff time.Duration
	// PollInterval is how often an idle lane rereads the outbox even
	// without Wake (default 1m).
	PollInterval time.Duration
	// Parallel is how many attempts each lane may have in flight at once
	// (default 8), never more than a notifier's Concurrency() when it has
	// that method (Slack says 1). A delivery never has two attempts in
	// flight, and attempts start in ID order; with more than one in flight
	// a receiver may see neighbouring events out of order. 1 delivers
	// strictly one at a time. An attempt that is over no longer counts,
	// though up to 4·Parallel may still be recording their outcomes.
	Parallel int
	// DeadLetterRetention is how long a dead letter is kept: older ones are
	// removed when the Worker starts and every RetentionInterval after.
	// Zero keeps them for ever.
	DeadLetterRetention time.Duration
	// CircuitAfter is how long every attempt of a notifier must have failed
	// before its lane pauses (default 10m): it then probes the notifier
	// every ProbeInterval (default 1m) with its oldest pending delivery,
	// and those probes do not count against MaxAttempts. Pausing queues
	// notifier.failing, and the first success notifier.recovered, for the
	// other notifiers that Wants says take them.
	CircuitAfter, ProbeInterval time.Duration
	// Wants reports whether a notifier takes events of a type (every
	// notifier takes every type when nil).
	Wants func(notifier, eventType string) bool
	// Silences decides which of the notifiers that take notifier.failing
	// or notifier.recovered a silence holds it from, at its time; they get
	// no delivery and the history records them. nil means none is.
	Silences Silencer
	// RetentionInterval is how often dead letters past DeadLetterRetention
	// are removed (default 1h).
	RetentionInterval time.Duration
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
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.CircuitAfter <= 0 {
		o.CircuitAfter = 10 * time.Minute
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = time.Minute
	}
	if o.Wants == nil {
		o.Wants = func(string, string) bool { return true }
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Hour
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
// Order: a lane starts attempts at its due deliveries in ID order (the
// order the events were committed), up to WorkerOptions.Parallel at once,
// but never two of one meeting at once: a meeting's later event waits while
// an earlier one is in flight or waiting for its retry, so a receiver gets
// each meeting's events in order. Events of different meetings may
// overtake each other, and one meeting that keeps failing does not hold
// back the others. A lane looks at most 4096 deliveries deep into its
// notifier's outbox, so only while all of those wait does anything newer.
// A lane whose notifier groups events is stricter (see groupPass): one
// delivery at a time, in ID order, since a group mixes meetings.
//
// A lane reads the outbox, attempts what is due and waits for those
// attempts to finish, and their outcomes to be recorded, before it reads
// the outbox again, so no delivery ever has two attempts in flight. The
// outcomes of attempts in flight at once reach the store concurrently,
// where *store.Store commits them together.
type Worker struct {
	store   Store
	opts    WorkerOptions
	lanes   []*lane
	running atomic.Bool
}

// concurrencyLimit is implemented by notifiers that should not have more
// than Concurrency() attempts in flight at once, such as Slack, whose
// messages are paced one a second anyway.
type concurrencyLimit interface {
	Concurrency() int
}

// NewWorker returns a Worker for the given notifiers, whose names must be
// unique (a repeated name is logged and ignored). When it starts, the
// deliveries queued for names without a notifier (a reload or restart
// removed it from the config) become dead letters.
func NewWorker(st Store, notifiers []Notifier, opts WorkerOptions) *Worker {
	w := &Worker{store: st, opts: opts.withDefaults()}
	seen := make(map[string]bool, len(notifiers))
	for _, n := range notifiers {
		if seen[n.Name()] {
			w.opts.Logger.Error().Str(logNotifier, n.Name()).Msg("notifier name repeated; ignoring the repeat")
			continue
		}
		seen[n.Name()] = true
		slots := w.opts.Parallel
		if c, ok := n.(concurrencyLimit); ok {
			slots = max(1, min(slots, c.Concurrency()))
		}
		var group Group
		if gn, ok := n.(GroupNotifier); ok && !gn.Grouping().IsZero() {
			group, slots = gn.Grouping(), 1 // see groupPass
		}
		w.lanes = append(w.lanes, &lane{
			w:     w,
			n:     n,
			name:  n.Name(),
			slots: slots,
			group: group,
			wake:  make(chan struct{}, 1),
			log:   w.opts.Logger.With().Str(logNotifier, n.Name()).Logger(),
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
// lets each attempt in flight finish, within its own timeout, and records
// its outcome, unless hard ends first and abandons it (its delivery stays
// in the outbox as it was). hard ending also ends ctx. It returns nil once
// every lane has stopped.
func (w *Worker) RunDrain(ctx, hard context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("notify worker: run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(hard, cancel)
	defer stop()
	w.retireOrphans()
	var wg sync.WaitGroup
	for _, l := range w.lanes {
		l.hard = hard
		wg.Go(func() { l.run(ctx) })
	}
	if w.opts.DeadLetterRetention > 0 {
		wg.Go(func() { w.retain(ctx) })
	}
	wg.Wait()
	return nil
}

// RunOnce makes one pass over each notifier's due deliveries, attempting
// each at most once, and returns when every lane is through or ctx ends
// (which abandons the attempts in flight). Failed attempts are recorded
// for a later Run, as Run would. Like Run, a lane looks at most 4096
// pending deliveries deep, though delivered ones make room for more. It is
// for one-shot commands; it must not run beside Run on the same outbox.
func (w *Worker) RunOnce(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("notify worker: run called twice")
	}
	w.retireOrphans()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, l := range w.lanes {
		l.hard = ctx
		wg.Go(func() {
			seen := make(map[uint64]bool)
			for ctx.Err() == nil {
				n := len(seen)
				if _, err := l.passOf(ctx, seen, true); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("notifier %s: %w", l.name, err))
					mu.Unlock()
					return
				}
				if len(seen) == n {
					return // nothing new was due
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
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
