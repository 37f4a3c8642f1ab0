package notify

import (
	"time"
)

// retryGrowth is how much each retry delay grows over the one before, until
// the delays reach the even share of the time left until max age.
const retryGrowth = 4

// retryJitter is the largest fraction by which a retry is brought forward,
// so that the retries of many deliveries that failed together spread out.
const retryJitter = 0.2

// nominalDelay is the delay, before jitter, after the attempts-th failed
// attempt of a delivery, with left the time that remains until its max age
// and maxAttempts the attempts it gets: BaseBackoff·4^(attempts−1), or the
// time left shared evenly among the retries left, whichever is less, but
// never less than BaseBackoff (so little time left does not become a
// burst of attempts). The retry after the next-to-last attempt waits all
// the time left, so the last attempt falls at max age. A delay past max
// age is the caller's to cut.
//
// Shared evenly, the delays reach a cap and stay there: with the defaults
// (1s, 15 attempts, 24h) the retries wait 1s, 4s, 16s, 1m4s, 4m16s, 17m4s,
// 1h8m16s and then 3h12m42s seven times, the 15th attempt at 24h.
func nominalDelay(base time.Duration, attempts, maxAttempts int, left time.Duration) time.Duration {
	retriesLeft := maxAttempts - attempts
	if retriesLeft <= 1 {
		return max(left, 0)
	}
	even := left / time.Duration(retriesLeft)
	d := base
	for i := 1; i < attempts && d < even; i++ {
		d *= retryGrowth
	}
	return max(min(d, even), base)
}

// RetrySchedule returns when each attempt of a delivery that keeps failing
// is made, counted from the delivery's event, before jitter: the first
// attempt at 0 and the last at maxAge, or fewer when BaseBackoff between
// attempts reaches maxAge first. Jitter brings each retry but the last
// forward by up to a fifth of its delay. base is the first retry's delay
// (1s when not positive).
func RetrySchedule(base time.Duration, maxAttempts int, maxAge time.Duration) []time.Duration {
	if base <= 0 {
		base = time.Second
	}
	out := []time.Duration{0}
	var at time.Duration
	for n := 1; n < maxAttempts; n++ {
		at += nominalDelay(base, n, maxAttempts, maxAge-at)
		if at >= maxAge {
			return append(out, maxAge)
		}
		out = append(out, at)
	}
	return out
}

// retryAt is when to try again after the attempts-th failed attempt at a
// delivery queued at queued, failing at now: the nominal delay brought
// forward by jitter, except for the last attempt, which falls at max age.
// The caller cuts a time past max age.
func (w *Worker) retryAt(queued, now time.Time, attempts int) time.Time {
	o := w.opts
	deadline := queued.Add(o.MaxAge)
	if o.MaxAttempts-attempts <= 1 {
		return deadline
	}
	d := nominalDelay(o.BaseBackoff, attempts, o.MaxAttempts, deadline.Sub(now))
	return now.Add(d - time.Duration(o.Rand()*retryJitter*float64(d)))
}
