package poller

import (
	"context"
	"sync"
	"time"
)

// RealtimeKit's own rate limit, beside the token's requests per 5 minutes:
// at most WindowRequests requests in any WindowSpan.
const (
	WindowRequests = 250
	WindowSpan     = 10 * time.Second
)

// window allows at most n requests in any span of per. It books a time for
// each request, no earlier than the one booked before it, and no earlier
// than per after the one booked n requests before: of any n+1 requests in a
// row, the first and the last are at least per apart.
type window struct {
	per time.Duration

	mu    sync.Mutex
	times []time.Time // the last n times booked, a ring; zero when unused
	next  int         // the slot of the oldest, which the next booking takes
	last  time.Time   // the latest time booked
}

// newWindow returns a window of n requests per span of per that holds the
// latest n bookings of from (nil: none), oldest first.
func newWindow(n int, per time.Duration, from *window) *window {
	w := &window{per: per, times: make([]time.Time, n)}
	if from == nil {
		return w
	}
	from.mu.Lock()
	defer from.mu.Unlock()
	var booked []time.Time // oldest first
	for i := range from.times {
		if at := from.times[(from.next+i)%len(from.times)]; !at.IsZero() {
			booked = append(booked, at)
		}
	}
	booked = booked[max(len(booked)-n, 0):]
	copy(w.times, booked)
	w.next = len(booked) % n
	w.last = from.last
	return w
}

// book returns the time the next request may go, and books it.
func (w *window) book(now time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := now
	if w.last.After(at) {
		at = w.last
	}
	if oldest := w.times[w.next]; !oldest.IsZero() && oldest.Add(w.per).After(at) {
		at = oldest.Add(w.per)
	}
	w.times[w.next] = at
	w.next = (w.next + 1) % len(w.times)
	w.last = at
	return at
}

// wait books a time for one request and blocks until it comes, or ctx is
// done; a booking given up stays booked, which only errs on the side of
// fewer requests.
func (w *window) wait(ctx context.Context, now func() time.Time) error {
	d := w.book(now()).Sub(now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
