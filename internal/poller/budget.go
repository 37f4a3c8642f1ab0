package poller

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budget paces every request made with one API token. It combines a token
// bucket sized from api.requests_per_5m with a pause that a 429 imposes on
// every poll of the token for its Retry-After.
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

// Pause holds every request until d from now, unless a longer pause is
// already in force.
func (b *Budget) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := b.now().Add(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
		close(b.pauseCh)
		b.pauseCh = make(chan struct{})
	}
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
