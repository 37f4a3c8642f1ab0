package poller

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budget paces every request made with one API token. It combines a token
// bucket sized from api.requests_per_5m with a pause that a 429 imposes on
// every poll of the token for its Retry-After (see [Budget.RateLimited]).
type Budget struct {
	limiter *rate.Limiter
	now     func() time.Time

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

// Wait blocks until one request may be made, or ctx is done.
func (b *Budget) Wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		until := b.pausedUntil
		ch := b.pauseCh
		b.mu.Unlock()
		d := until.Sub(b.now())
		if d <= 0 {
			break
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
	return b.limiter.Wait(ctx)
}

// MaxRetryAfter caps the pause a 429 imposes: every poll of the token
// waits for it, so one absurd header must not stop polling for a day.
// Cloudflare's own block of an over-limit token lasts five minutes.
const MaxRetryAfter = 15 * time.Minute

// defaultRateLimitPause holds requests after a 429 that names no
// Retry-After.
const defaultRateLimitPause = 30 * time.Second

// RateLimited pauses every request of the token after a 429 whose
// Retry-After asked for retryAfter: for 30 seconds when it asked for
// nothing (0), and for at most [MaxRetryAfter]. A shorter pause than one
// already in force changes nothing. It returns the pause it applied, when
// that pause ends, and whether it lengthened the pause in force.
func (b *Budget) RateLimited(retryAfter time.Duration) (d time.Duration, until time.Time, longer bool) {
	d = retryAfter
	if d <= 0 {
		d = defaultRateLimitPause
	}
	d = min(d, MaxRetryAfter)
	until, longer = b.pause(d)
	return d, until, longer
}

// Pause holds every request until d from now, unless a longer pause is
// already in force.
func (b *Budget) Pause(d time.Duration) {
	if d > 0 {
		b.pause(d)
	}
}

// pause holds every request until d from now, unless a longer pause is
// already in force, and reports when d ends and whether it lengthened the
// pause.
func (b *Budget) pause(d time.Duration) (time.Time, bool) {
	until := b.now().Add(d)
	b.mu.Lock()
	defer b.mu.Unlock()
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
