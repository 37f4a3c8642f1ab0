package poller

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
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

// TestBudgetRateLimited: a 429 pauses for its Retry-After, 30 s when it
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
		{name: "none named", retryAfter: 0, wantPause: 30 * time.Second, wantLonger: true},
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
