package notify

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Notices is the part of the store that takes the Worker's own events,
// notifier.failing and notifier.recovered, which are about no meeting.
// *store.Store and *etcdstore.Store have it; with a store that does not,
// the circuit pauses and probes all the same but those events are only
// logged.
type Notices interface {
	// Enqueue queues each event once for every notifier it names and
	// records it in the history, all in one transaction, skipping an event
	// whose id the history already holds; it returns how many it queued.
	Enqueue(events ...store.NewEvent) (int, error)
}

// Silencer says which of the notifiers a silence active at t holds an
// event of watch from; *silence.Live provides it. The Worker's own events
// belong to no watch: it asks with watch "".
type Silencer interface {
	Silenced(t time.Time, watch string, notifiers []string) []string
}

// health is what a lane under Run knows of its receiver: the run of
// failed attempts since the last success, the circuit that pauses the
// lane when that run lasts CircuitAfter, and the drain that follows a
// recovery. Its methods are safe for the lane's attempts to call at once.
//
// Only retryable failures count. An attempt refused for good (a 400, say)
// says nothing either way, a broken notifier has its own metric and
// dead-letters at once, and an attempt abandoned by a shutdown counts for
// nothing.
type health struct {
	mu           sync.Mutex
	failingSince time.Time // first failed attempt of the run; zero without one
	starter      uint64    // the delivery whose failure began the run: names its events
	confirmed    bool      // a failure this process saw; a restored run waits for one
	lastErr      string
	open         bool
	nextProbe    time.Time
	drain        bool           // a success followed failures: the next pass ignores backoffs
	early        map[uint64]int // deliveries a drain retried early, with their attempts after it
}

// isOpen reports whether the circuit is open.
func (h *health) isOpen() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open
}

// Inherit hands the health of old's lanes (their runs of failures and open
// circuits) to w's lanes of the same notifier names, so that a config
// reload neither forgets a paused notifier (and its notifier.recovered)
// nor reports it failing again. Call it after old's Run returned and
// before w's starts.
func (w *Worker) Inherit(old *Worker) {
	if old == nil {
		return
	}
	for _, l := range w.lanes {
		for _, o := range old.lanes {
			if o.name == l.name && o.health != nil {
				l.health = o.health
			}
		}
	}
}

// maxEarly bounds health.early; past it the map starts afresh.
const maxEarly = maxPassPages * pendingBatch * 4

// restore picks up a run of failures from before a restart: when the
// oldest pending delivery has failed before, the run began no later than
// its queueing, with it. The run only opens the circuit once an attempt of
// this process fails too, so the events name the same run with the same
// ids, and a receiver that is up again is not reported.
func (l *lane) restore() {
	page, err := l.w.store.PendingAfter(l.name, 0, pendingBatch)
	if err != nil {
		l.log.Warn().Err(err).Msg("read outbox to restore the notifier's health")
		return
	}
	for _, d := range page {
		if d.Undecodable != "" {
			continue
		}
		if d.Attempts > 0 {
			h := l.health
			h.mu.Lock()
			h.failingSince, h.starter, h.lastErr = d.QueuedAt(), d.ID, d.LastError
			h.mu.Unlock()
		}
		return
	}
}

// failed records a failed attempt at d.
func (l *lane) failed(d store.Delivery, now time.Time, lastErr string) {
	h := l.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		h.failingSince, h.starter = now, d.ID
	}
	h.confirmed = true
	h.lastErr = lastErr
}

// succeeded records a delivered attempt at d, which began at began: the
// run of failures ends, the circuit closes (queueing notifier.recovered
// for the other notifiers) and, when the attempt began after a failure or
// retried one, the next pass drains the backlog without waiting out the
// backoffs. An attempt that began with a failing one proves nothing: the
// receiver may refuse one meeting's event and take another's.
func (l *lane) succeeded(d store.Delivery, began, now time.Time) {
	h := l.health
	h.mu.Lock()
	if (h.confirmed && h.failingSince.Before(began)) || d.Attempts > 0 {
		h.drain = true
	}
	wasOpen, since, starter, lastErr := h.open, h.failingSince, h.starter, h.lastErr
	h.failingSince, h.starter, h.confirmed, h.lastErr, h.open = time.Time{}, 0, false, "", false
	h.mu.Unlock()
	if wasOpen {
		l.w.opts.Metrics.setCircuit(l.name, false)
		l.log.Info().Dur(logFailingFor, now.Sub(since)).Msg("notifier recovered; closing its circuit")
		l.notice(typeNotifierRecovered, starter, since, now, lastErr)
	}
}

// circuit opens the circuit when the run of failures has lasted
// CircuitAfter, queueing notifier.failing for the other notifiers, and
// says whether it is open, and when not, how long until it would open
// (PollInterval when no run is under way).
func (l *lane) circuit(now time.Time) (open bool, until time.Duration) {
	o := l.w.opts
	h := l.health
	h.mu.Lock()
	if h.open {
		h.mu.Unlock()
		return true, 0
	}
	if h.failingSince.IsZero() || !h.confirmed {
		h.mu.Unlock()
		return false, o.PollInterval
	}
	if at := h.failingSince.Add(o.CircuitAfter); now.Before(at) {
		h.mu.Unlock()
		return false, at.Sub(now)
	}
	h.open, h.nextProbe = true, now.Add(o.ProbeInterval)
	since, starter, lastErr := h.failingSince, h.starter, h.lastErr
	h.mu.Unlock()
	o.Metrics.setCircuit(l.name, true)
	l.log.Warn().Dur(logFailingFor, now.Sub(since)).Str(logReason, lastErr).
		Msg("every delivery failed for circuit_after; pausing the notifier and probing it once a minute")
	l.notice(typeNotifierFailing, starter, since, now, lastErr)
	return true, 0
}

// probeWait says how long until the open circuit's next probe, and, when
// that is now, schedules the one after.
func (l *lane) probeWait(now time.Time) time.Duration {
	h := l.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if wait := h.nextProbe.Sub(now); wait > 0 {
		return wait
	}
	h.nextProbe = now.Add(l.w.opts.ProbeInterval)
	return 0
}

// takeDrain reports whether this pass drains, and clears the request.
func (l *lane) takeDrain() bool {
	h := l.health
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.drain
	h.drain = false
	return d
}

// drainEarly reports whether a drain may attempt d before its retry is
// due, and if so notes it: once per failed attempt, so that a delivery
// that fails again waits out its backoff even while others succeed.
func (l *lane) drainEarly(d store.Delivery) bool {
	h := l.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if at, ok := h.early[d.ID]; ok && at == d.Attempts {
		return false
	}
	if h.early == nil || len(h.early) >= maxEarly {
		h.early = make(map[uint64]int)
	}
	h.early[d.ID] = d.Attempts + 1
	return true
}

// notice queues an event of typ about this lane's notifier for every other
// notifier that takes it but those a silence holds it from (the history
// records them), retrying while the store fails, and wakes them.
// Its id derives from the notifier, the type and the delivery whose
// failure began the run, so the same run after a restart has the same
// id, which the store's history then holds: it is not queued again.
func (l *lane) notice(typ string, starter uint64, since, now time.Time, lastErr string) {
	var to []string
	for _, o := range l.w.lanes {
		if o != l && l.w.opts.Wants(o.name, typ) {
			to = append(to, o.name)
		}
	}
	nq, ok := l.w.store.(Notices)
	if len(to) == 0 || !ok {
		if !ok {
			l.log.Warn().Str(logEventType, typ).Msg("this store cannot queue notifier events; not sent")
		}
		return
	}
	id := noticeID(l.name, typ, starter)
	failingFor := int64(now.Sub(since) / time.Second)
	body, err := json.Marshal(map[string]any{
		"type":      typ,
		"timestamp": now.UTC().Truncate(time.Second),
		"data": map[string]any{
			"id": id, "notifier": l.name, "error": lastErr, "failing_for_seconds": failingFor,
		},
	})
	if err != nil {
		l.log.Error().Err(err).Msg("encode " + typ)
		return
	}
	var silenced []string
	if l.w.opts.Silences != nil {
		silenced = l.w.opts.Silences.Silenced(now, "", to)
		to = slices.DeleteFunc(to, func(n string) bool { return slices.Contains(silenced, n) })
	}
	e := store.NewEvent{ID: id, Type: typ, CreatedAt: now, Body: body, Notifiers: to, Silenced: silenced}
	queued := 0
	if l.persist(0, "queue "+typ, func() (err error) { queued, err = nq.Enqueue(e); return err }) && queued > 0 {
		l.w.Wake()
	}
}

// noticeIDEncoding is the lower-case base32 alphabet of event ids.
var noticeIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// noticeID is the id of a notifier event: "evt_" and 26 base32 characters
// of a SHA-256 over the notifier, the type and the run's first failed
// delivery.
func noticeID(notifier, typ string, starter uint64) string {
	buf := append([]byte(notifier), 0)
	buf = append(buf, typ...)
	buf = append(buf, 0)
	buf = strconv.AppendUint(buf, starter, 10)
	sum := sha256.Sum256(buf)
	return "evt_" + noticeIDEncoding.EncodeToString(sum[:17])[:26]
}

// probe attempts the oldest pending delivery once, whatever its backoff,
// without counting the attempt against MaxAttempts: a success closes the
// circuit. It quarantines the undecodable records it passes.
func (l *lane) probe(ctx context.Context) error {
	page, err := l.w.store.PendingAfter(l.name, 0, pendingBatch)
	if err != nil {
		return err
	}
	for _, d := range page {
		if d.Undecodable != "" {
			l.quarantine(d)
			continue
		}
		if ctx.Err() == nil {
			l.log.Debug().Uint64(logDeliveryID, d.ID).Msg("probing the paused notifier")
			l.attempt(d, true, func() {})
		}
		return nil
	}
	return nil
}
