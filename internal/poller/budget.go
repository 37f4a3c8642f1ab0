package poller

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Budget paces every request made with one API token. It combines a token
// bucket sized from api.requests_per_5m, optionally a window that holds
// RealtimeKit's own limit ([Budget.LimitWindow]), and a pause that a 429
// imposes on every poll of the token (see [Budget.RateLimited], the one
// place that decides how long).
type Budget struct {
	limiter *rate.Limiter
	now     func() time.Time
	window  atomic.Pointer[window] // nil: no window

	// streak counts the 429s in a row (see RateLimited); Answered resets
	// it.
	streak atomic.Int32

	mu          sync.Mutex
	pausedUntil time.Time
	pauseCh     chan struct{} // closed and replaced whenever a pause is extended
}

// NewBudget returns a budget that allows requestsPer5m requests in any five
// minutes on average, with bursts of up to a tenth of that (at least one).
// A nil now uses time.Now.
func NewBudget(requestsPer5m int, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	requestsPer5m = max(requestsPer5m, 1)
	return &Budget{
		limiter: rate.NewLimiter(rate.Limit(float64(requestsPer5m)/300), max(requestsPer5m/10, 1)),
		now:     now,
		pauseCh: make(chan struct{}),
	}
}

// SetRate changes the budget to requestsPer5m, as NewBudget sizes it; a
// config reload uses it so that the pace carries over.
func (b *Budget) SetRate(requestsPer5m int) {
	requestsPer5m = max(requestsPer5m, 1)
	b.limiter.SetBurst(max(requestsPer5m/10, 1))
	b.limiter.SetLimit(rate.Limit(float64(requestsPer5m) / 300))
}

// LimitWindow makes the budget also allow at most n requests in any span
// of per, as RealtimeKit's own limit of 250 requests per 10 seconds asks,
// beside the token's requests per 5 minutes; n <= 0 lifts the window.
// Requests already waiting keep the window they found. A config reload
// calls it again: the requests already booked carry over (the latest n of
// them), so that a reload never allows n more at once.
func (b *Budget) LimitWindow(n int, per time.Duration) {
	if n <= 0 || per <= 0 {
		b.window.Store(nil)
		return
	}
	old := b.window.Load()
	if old != nil && old.per == per && len(old.times) == n {
		return
	}
	b.window.Store(newWindow(n, per, old))
}

// Wait blocks until one request may be made, or ctx is done. A request
// goes only outside a pause: one that got its token or its slot in the
// window while a 429's pause began waits that pause out too, keeping its
// token, and then books the window again (the slot it gave up stays booked,
// which only errs on the side of fewer requests).
func (b *Budget) Wait(ctx context.Context) error {
	token := false
	for {
		if err := b.waitPause(ctx); err != nil {
			return err
		}
		if !token {
			if err := b.limiter.Wait(ctx); err != nil {
				return err
			}
			token = true
			if b.paused() {
				continue
			}
		}
		if w := b.window.Load(); w != nil {
			if err := w.wait(ctx, b.now); err != nil {
				return err
			}
		}
		if !b.paused() {
			return nil
		}
	}
}

// WaitSpare is [Budget.Wait] at a lower priority, for requests that can
// wait (the check of the meetings at start and on reload): it takes a
// request only once the token bucket holds at least half its burst, so
// that polling, which waits with Wait, always finds requests left.
func (b *Budget) WaitSpare(ctx context.Context) error {
	for {
		if err := b.waitPause(ctx); err != nil {
			return err
		}
		need := float64(b.limiter.Burst()) / 2
		tokens := b.limiter.TokensAt(b.now())
		if tokens >= need {
			return b.Wait(ctx)
		}
		t := time.NewTimer(time.Duration(math.Ceil((need - tokens) / float64(b.limiter.Limit()) * float64(time.Second))))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// waitPause blocks until no pause is in force, or ctx is done.
func (b *Budget) waitPause(ctx context.Context) error {
	for {
		b.mu.Lock()
		until := b.pausedUntil
		ch := b.pauseCh
		b.mu.Unlock()
		d := until.Sub(b.now())
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-ch: // the pause changed; look again
			t.Stop()
		}
	}
}

// paused reports whether a pause is in force now.
func (b *Budget) paused() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now().Before(b.pausedUntil)
}

// MaxRetryAfter caps the pause a 429 imposes: every poll of the token
// waits for it, so one absurd header must not stop polling for a day.
// Cloudflare's own block of an over-limit token lasts five minutes.
const MaxRetryAfter = 15 * time.Minute

// The pause after a 429 that names no Retry-After: firstRateLimitPause,
// doubled by each further 429 in a row, up to maxRateLimitPause, the time
// Cloudflare blocks a token that went over its limit.
const (
	firstRateLimitPause = 60 * time.Second
	maxRateLimitPause   = 5 * time.Minute
)

// RateLimited pauses every request of the token after a 429 whose
// Retry-After asked for retryAfter (0: it named none), and returns the
// pause it applied (0 for none), when that pause ends, and whether it
// lengthened the pause in force.
//
// A 429 that names a Retry-After pauses for it, at most [MaxRetryAfter].
// One that names none pauses for 60 s the first time, and for twice the
// previous pause with each further 429 in a row, up to 5 minutes. A 429
// is one in a row when no other answer came since the last one
// ([Budget.Answered]). A 429 that comes while a pause is in force was sent
// before that pause began: it neither counts nor doubles, though a longer
// Retry-After lengthens the pause. A pause never shortens one in force.
func (b *Budget) RateLimited(retryAfter time.Duration) (d time.Duration, until time.Time, longer bool) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	paused := now.Before(b.pausedUntil)
	if paused && retryAfter <= 0 {
		return 0, b.pausedUntil, false // sent before this pause: says nothing new
	}
	streak := b.streak.Load()
	if !paused {
		streak = b.streak.Add(1)
	}
	d = retryAfter
	if d <= 0 {
		d = firstRateLimitPause
		for i := int32(1); i < streak && d < maxRateLimitPause; i++ {
			d *= 2
		}
		d = min(d, maxRateLimitPause)
	}
	d = min(d, MaxRetryAfter)
	until, longer = b.pauseLocked(now, d)
	return d, until, longer
}

// Answered tells the budget that the API answered a request with something
// other than a 429: a run of 429s is over.
func (b *Budget) Answered() {
	if b.streak.Load() != 0 {
		b.streak.Store(0)
	}
}

// Pause holds every request until d from now, unless a longer pause is
// already in force.
func (b *Budget) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pauseLocked(now, d)
}

// pauseLocked holds every request until d after now, unless a longer pause
// is already in force, and reports when d ends and whether it lengthened
// the pause. The caller holds b.mu.
func (b *Budget) pauseLocked(now time.Time, d time.Duration) (time.Time, bool) {
	until := now.Add(d)
	if !until.After(b.pausedUntil) {
		return until, false
	}
	b.pausedUntil = until
	close(b.pauseCh)
	b.pauseCh = make(chan struct{})
	return until, true
}

// PausedUntil reports when the current pause ends; the zero time when none
// was ever imposed.
func (b *Budget) PausedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pausedUntil
}

// Available reports how many requests could be made at once now, for the
// budget-left metric.
func (b *Budget) Available() float64 {
	return b.limiter.TokensAt(b.now())
}
