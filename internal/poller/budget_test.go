package poller

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBudgetPacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(300, nil) // one request per second, burst 30
		ctx := t.Context()
		start := time.Now()
		for range 30 {
			if err := b.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("the burst took %v, want it at once", d)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second {
			t.Fatalf("request 31 came after %v, want ≥ 1s", d)
		}
	})
}

func TestBudgetPauseHoldsEveryWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1000, nil)
		b.Pause(7 * time.Second)
		b.Pause(2 * time.Second) // shorter: must not cut the pause
		start := time.Now()
		done := make(chan time.Duration, 3)
		for range 3 {
			go func() {
				if err := b.Wait(context.Background()); err != nil {
					t.Error(err)
				}
				done <- time.Since(start)
			}()
		}
		for range 3 {
			if d := <-done; d < 7*time.Second {
				t.Fatalf("a waiter went after %v, want ≥ 7s", d)
			}
		}
	})
}

func TestBudgetPauseExtendedWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1000, nil)
		b.Pause(time.Second)
		start := time.Now()
		done := make(chan time.Duration)
		go func() {
			_ = b.Wait(context.Background())
			done <- time.Since(start)
		}()
		synctest.Wait() // the waiter is blocked on the first pause
		b.Pause(5 * time.Second)
		if d := <-done; d < 5*time.Second {
			t.Fatalf("waiter went after %v, want ≥ 5s", d)
		}
	})
}

func TestBudgetWaitHonoursCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1000, nil)
		b.Pause(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := b.Wait(ctx); err == nil {
			t.Fatal("Wait returned nil under a cancelled context")
		}
		if d := b.PausedUntil(); d.IsZero() {
			t.Fatal("PausedUntil is zero after Pause")
		}
	})
}

// TestBudgetRateLimited: a 429 pauses for its Retry-After, 60 s when it
// named none, at most MaxRetryAfter; a shorter one leaves a longer pause
// as it is.
func TestBudgetRateLimited(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		before     time.Duration // a pause already in force
		retryAfter time.Duration
		wantPause  time.Duration
		wantLonger bool
	}{
		{name: "as asked", retryAfter: 7 * time.Second, wantPause: 7 * time.Second, wantLonger: true},
		{name: "a fraction", retryAfter: 1500 * time.Millisecond, wantPause: 1500 * time.Millisecond, wantLonger: true},
		{name: "none named", retryAfter: 0, wantPause: 60 * time.Second, wantLonger: true},
		{name: "just under the cap", retryAfter: MaxRetryAfter - time.Second, wantPause: MaxRetryAfter - time.Second, wantLonger: true},
		{name: "at the cap", retryAfter: MaxRetryAfter, wantPause: MaxRetryAfter, wantLonger: true},
		{name: "over the cap", retryAfter: 24 * time.Hour, wantPause: MaxRetryAfter, wantLonger: true},
		{name: "shorter than the pause in force", before: 10 * time.Second, retryAfter: 5 * time.Second,
			wantPause: 5 * time.Second},
		{name: "as long as the pause in force", before: 10 * time.Second, retryAfter: 10 * time.Second,
			wantPause: 10 * time.Second},
		{name: "longer than the pause in force", before: 10 * time.Second, retryAfter: 11 * time.Second,
			wantPause: 11 * time.Second, wantLonger: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(1000, func() time.Time { return now })
			b.Pause(tt.before)
			d, until, longer := b.RateLimited(tt.retryAfter)
			if d != tt.wantPause || !until.Equal(now.Add(tt.wantPause)) || longer != tt.wantLonger {
				t.Errorf("RateLimited(%s) = %s, %s, %v; want %s, %s, %v",
					tt.retryAfter, d, until, longer, tt.wantPause, now.Add(tt.wantPause), tt.wantLonger)
			}
			want := now.Add(max(tt.before, tt.wantPause))
			if got := b.PausedUntil(); !got.Equal(want) {
				t.Errorf("paused until %s; want %s", got, want)
			}
		})
	}
}

// TestBudgetRateLimitedBackoff proves the pauses of 429s without a
// Retry-After to the nanosecond: 60 s, then doubling while 429s continue,
// up to 5 minutes; a 429 sent before the pause began changes nothing; any
// other answer starts over at 60 s.
func TestBudgetRateLimitedBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1000, nil)
		start := time.Now()
		// rateLimited is a 429 now; it checks the pause it applied, and
		// that the next request waits exactly until its end.
		rateLimited := func(retryAfter, want time.Duration) {
			t.Helper()
			at := time.Since(start)
			d, until, longer := b.RateLimited(retryAfter)
			if d != want || !longer || !until.Equal(start.Add(at+want)) {
				t.Fatalf("429 at %v: pause %v until %v (longer %v); want %v until %v", at, d, until.Sub(start), longer, want, at+want)
			}
			if err := b.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != at+want {
				t.Fatalf("after the 429 at %v the next request went at %v; want %v", at, got, at+want)
			}
		}
		rateLimited(0, 60*time.Second)  // 0 → 60s
		rateLimited(0, 120*time.Second) // → 180s
		rateLimited(0, 240*time.Second) // → 420s
		rateLimited(0, 300*time.Second) // 480s would be over the cap → 720s
		rateLimited(0, 300*time.Second) // → 1020s

		// A 429 of a request sent before the pause began: no doubling, no
		// longer pause, even a nanosecond before its end.
		b.RateLimited(0) // → a pause until 1320s
		time.Sleep(300*time.Second - time.Nanosecond)
		if d, until, longer := b.RateLimited(0); d != 0 || longer || !until.Equal(start.Add(1320*time.Second)) ||
			!b.PausedUntil().Equal(start.Add(1320*time.Second)) {
			t.Fatalf("429 during the pause: %v until %v (longer %v); want nothing changed", d, until.Sub(start), longer)
		}
		time.Sleep(time.Nanosecond)
		rateLimited(0, 300*time.Second) // at the pause's end: one in a row

		// Any other answer ends the run.
		b.Answered()
		rateLimited(0, 60*time.Second)
		// A Retry-After is honoured and counts in the run.
		rateLimited(10*time.Second, 10*time.Second)
		rateLimited(0, 240*time.Second)
		b.Answered()
		rateLimited(0, 60*time.Second)
	})
}

// TestBudgetWindow: with a window of 3 requests per 10 s, a fourth request
// waits exactly until 10 s after the first, whatever the token bucket
// allows; a request that finds the window free goes at once.
func TestBudgetWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1_000_000, nil) // a bucket that never holds anything back
		b.LimitWindow(3, 10*time.Second)
		start := time.Now()
		var went []time.Duration
		request := func() {
			t.Helper()
			if err := b.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			went = append(went, time.Since(start))
		}
		request() // 0
		time.Sleep(4 * time.Second)
		request() // 4s
		request() // 4s
		request() // 10s: 10 s after the first
		request() // 14s
		request() // 14s
		time.Sleep(30 * time.Second)
		request() // 44s: the window is free again
		s := time.Second
		if diff := cmp.Diff([]time.Duration{0, 4 * s, 4 * s, 10 * s, 14 * s, 14 * s, 44 * s}, went); diff != "" {
			t.Errorf("request times (-want +got):\n%s", diff)
		}

		// In any 10 s, never more than 3, with many waiting at once.
		var mu sync.Mutex
		var times []time.Duration
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if err := b.Wait(t.Context()); err != nil {
					t.Error(err)
				}
				mu.Lock()
				times = append(times, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(times)
		for i := 3; i < len(times); i++ {
			if times[i]-times[i-3] < 10*s {
				t.Errorf("requests %d and %d went %v apart; want ≥ 10s", i-3, i, times[i]-times[i-3])
			}
		}

		// Lifted, the window holds nothing back.
		b.LimitWindow(0, 0)
		now := time.Since(start)
		for range 10 {
			request()
		}
		if got := went[len(went)-1]; got != now {
			t.Errorf("without a window, 10 requests took until %v; want %v", got, now)
		}
	})
}

// TestBudgetWindowCancel: a request that gives up waiting for the window
// returns its context's error.
func TestBudgetWindowCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1_000_000, nil)
		b.LimitWindow(1, time.Minute)
		if err := b.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := b.Wait(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Wait = %v; want the deadline", err)
		}
	})
}
