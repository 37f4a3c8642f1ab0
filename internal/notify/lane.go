package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// lane delivers the deliveries of one notifier, up to slots at a time.
type lane struct {
	w      *Worker
	n      Notifier
	name   string
	slots  int   // attempts in flight at most
	group  Group // how to group events; zero: not at all
	wake   chan struct{}
	log    zerolog.Logger
	broken atomic.Bool // a Broken result has been logged
	// health tracks the receiver's failures, circuit and drain under Run;
	// nil under RunOnce, which neither pauses nor drains.
	health *health
	// hard ends attempts in flight and store retries; the context of run
	// only stops new attempts.
	hard context.Context
}

// run is the lane's loop: read the due deliveries, attempt them, sleep until
// the next is due, is committed, or ctx ends. While the circuit is open it
// only probes, once every ProbeInterval.
func (l *lane) run(ctx context.Context) {
	l.w.opts.Metrics.setBroken(l.name, false)
	if l.health == nil {
		l.health = &health{}
		l.restore()
	}
	l.w.opts.Metrics.setCircuit(l.name, l.health.isOpen())
	failures := 0
	for ctx.Err() == nil {
		var wait time.Duration
		var err error
		if open, _ := l.circuit(l.w.opts.Now()); open {
			if wait = l.probeWait(l.w.opts.Now()); wait == 0 {
				err = l.probe(ctx)
				wait = l.w.opts.ProbeInterval
			}
		} else {
			wait, err = l.passOf(ctx, nil, false)
			if _, until := l.circuit(l.w.opts.Now()); until < wait {
				wait = until
			}
		}
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

// unsettledPerSlot is how many attempts per slot may be finished but still
// recording their outcome in the store. The store commits the outcomes
// that wait together, so letting the next attempts start meanwhile keeps
// both the receiver and the disk busy; the bound stops the attempts when
// the store fails.
const unsettledPerSlot = 4

// maxPassPages bounds how far one pass looks into the outbox: at most
// maxPassPages pages of pendingBatch deliveries (4096). A pass reads the
// next page only while the pages so far started fewer attempts than the
// lane has slots, their other deliveries being held behind an earlier one
// of their meeting or not yet due. So one meeting's backlog waiting for a
// retry does not hold back the other meetings queued after it, unless
// more than 4096 deliveries are queued ahead of them; then those wait for
// the next pass that starts something, or for PollInterval.
const maxPassPages = 16

// pass starts an attempt at every due delivery in ID order, with at most
// l.slots in flight, skipping (and then adding to) seen when it is not
// nil. It reads the outbox a page of pendingBatch at a time and goes on to
// the next page while it has started fewer than l.slots attempts, up to
// maxPassPages pages. It returns once those attempts have finished and
// their outcomes are recorded, and says how long to wait before the next
// pass: 0 after any attempt (to look again), else until the earliest
// retry it saw, at most PollInterval. Once ctx ends it starts no more
// attempts.
func (l *lane) pass(ctx context.Context, seen map[uint64]bool) (time.Duration, error) {
	wait := l.w.opts.PollInterval
	started := 0
	// sending holds a token per attempt in flight; unsettled also holds
	// one per outcome still on its way to the store.
	sending := make(chan struct{}, l.slots)
	unsettled := make(chan struct{}, l.slots*unsettledPerSlot)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	// held marks the meetings with an earlier delivery in flight or waiting
	// for its retry: their later events wait, so that a receiver gets the
	// events of one meeting in order. It spans the pages of the pass.
	held := make(map[string]bool)
	drain := l.takeDrain()
	var after uint64
	for range maxPassPages {
		page, err := l.w.store.PendingAfter(l.name, after, pendingBatch)
		if err != nil {
			return 0, err // after the attempts started so far are recorded
		}
		for _, d := range page {
			if d.Undecodable != "" {
				l.quarantine(d)
				continue
			}
			key := orderKey(d)
			if held[key] {
				continue
			}
			held[key] = true
			if seen[d.ID] {
				continue
			}
			now := l.w.opts.Now()
			if d.NextAttempt.After(now) && !(drain && l.drainEarly(d)) {
				wait = min(wait, d.NextAttempt.Sub(now))
				continue
			}
			if !acquire(ctx, unsettled) || !acquire(ctx, sending) {
				return 0, nil
			}
			started++
			if seen != nil {
				seen[d.ID] = true
			}
			inFlight.Go(func() {
				defer func() { <-unsettled }()
				l.attempt(d, false, func() { <-sending })
			})
		}
		if len(page) < pendingBatch || started >= l.slots {
			break
		}
		after = page[len(page)-1].ID
	}
	if started > 0 {
		return 0, nil
	}
	return wait, nil
}

// orderKey names the meeting a delivery's event is about, as the store
// keeps it beside the body; the events of one meeting are delivered in
// order. A delivery without a meeting (one from before the store kept it,
// whose body named none) orders nothing.
func orderKey(d store.Delivery) string {
	if d.Meeting.MeetingID == "" {
		return "\x00" + d.EventID
	}
	return d.Meeting.Watch + "\x00" + d.Meeting.MeetingID
}

// quarantine moves a delivery whose stored record does not decode to the
// dead letters, where it stops no other delivery, and counts it. Left in
// the outbox it would fail every read of the lane's next page.
func (l *lane) quarantine(d store.Delivery) {
	reason := "quarantined: the stored record does not decode: " + d.Undecodable
	l.log.Error().Uint64(logDeliveryID, d.ID).Str(logReason, reason).Msg("delivery quarantined as a dead letter")
	if l.persist(d.ID, "quarantine", func() error { return l.w.store.DeadLetter(l.name, d.ID, l.w.opts.Now(), reason) }) {
		l.w.opts.Metrics.quarantined(l.name)
	}
}

// acquire puts a token into sem, and returns false when ctx ended first.
func acquire(ctx context.Context, sem chan<- struct{}) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
	}
	return ctx.Err() == nil
}

// attempt makes one attempt at d, calls sent once the receiver has
// answered (or the attempt failed otherwise), and records the outcome in
// the outbox, unless l.hard ends first. A probe's failure does not count
// against MaxAttempts and leaves the delivery's retry as it was.
func (l *lane) attempt(d store.Delivery, probe bool, sent func()) {
	o := l.w.opts
	msg := Message{EventID: d.EventID, EventType: d.EventType, Body: d.Body, Attempt: d.Attempts + 1}
	actx, cancel := context.WithTimeout(l.hard, o.Timeout)
	began := o.Now()
	start := time.Now()
	res := l.send(actx, d, msg.Attempt)
	took := time.Since(start)
	cancel()
	sent()

	log := l.log.With().Uint64(logDeliveryID, d.ID).Str(logEventID, d.EventID).
		Str(logEventType, d.EventType).Int(logAttempt, msg.Attempt).Logger()
	if res.Err == nil {
		o.Metrics.observe(l.name, OutcomeDelivered, took)
		log.Debug().Int(logStatus, res.StatusCode).Msg("delivered")
		l.persist(d.ID, "mark delivered", func() error { return l.w.store.MarkDelivered(l.name, d.ID) })
		if l.health != nil {
			l.succeeded(d, began, o.Now())
		}
		return
	}
	if l.hard.Err() != nil {
		return // abandoned: the delivery stays as it was
	}
	if res.Broken {
		o.Metrics.setBroken(l.name, true)
		if l.broken.CompareAndSwap(false, true) {
			log.Error().Err(res.Err).Msg("notifier is misconfigured; its events become dead letters until the configuration is fixed")
		}
	}

	now := o.Now()
	attempts := d.Attempts + 1
	if probe {
		attempts = d.Attempts
	}
	lastErr := res.Err.Error()
	if l.health != nil && res.Retry {
		l.failed(d, now, lastErr)
	}
	var reason string
	var next time.Time
	switch {
	case !res.Retry:
		reason = "not retryable"
	case !probe && attempts >= o.MaxAttempts:
		reason = fmt.Sprintf("gave up after %d attempts", attempts)
	case now.Sub(d.QueuedAt()) >= o.MaxAge:
		reason = fmt.Sprintf("gave up after max age %s", o.MaxAge)
	case probe:
		next = d.NextAttempt
	default:
		next = l.w.retryAt(d.QueuedAt(), now, attempts)
		if ra := now.Add(res.RetryAfter); ra.After(next) {
			next = ra
		}
		if deadline := d.QueuedAt().Add(o.MaxAge); next.After(deadline) {
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
		if l.persist(d.ID, "record attempt", func() error {
			return l.w.store.RecordAttempt(l.name, d.ID, attempts, now, lastErr)
		}) {
			l.persist(d.ID, "dead-letter", func() error { return l.w.store.DeadLetter(l.name, d.ID, now, lastErr) })
		}
		return
	}
	o.Metrics.observe(l.name, OutcomeRetry, took)
	log.Info().Err(res.Err).Int(logStatus, res.StatusCode).Time(logNextAttempt, next).Msg("attempt failed; will retry")
	l.persist(d.ID, "record attempt", func() error {
		return l.w.store.RecordAttempt(l.name, d.ID, attempts, next, lastErr)
	})
}

// persist runs a store operation until it succeeds, backing off while it
// fails (a full disk, say): an outcome is never dropped. A delivery that
// is no longer in the outbox counts as done. It returns false when l.hard
// ended first.
func (l *lane) persist(id uint64, what string, op func() error) bool {
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
		if !l.sleep(l.hard, d, false) {
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
