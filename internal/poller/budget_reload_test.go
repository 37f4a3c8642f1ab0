package poller

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// take makes n requests of b at once.
func take(t *testing.T, b *Budget, n int) {
	t.Helper()
	for range n {
		if err := b.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAt runs one Wait of b in a goroutine and reports how long after
// start it returned.
func waitAt(t *testing.T, b *Budget, start time.Time) <-chan time.Duration {
	t.Helper()
	done := make(chan time.Duration, 1)
	go func() {
		if err := b.Wait(context.Background()); err != nil {
			t.Error(err)
		}
		done <- time.Since(start)
	}()
	return done
}

// TestBudgetPauseHoldsGrantedRequests: a 429's pause that begins while a
// request waits for its token (or its slot in the window) holds that
// request until the pause ends, to the nanosecond, though the token or
// slot came earlier.
func TestBudgetPauseHoldsGrantedRequests(t *testing.T) {
	t.Run("waiting for a token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(30, nil) // one request per 10 s, burst 3
			take(t, b, 3)
			start := time.Now()
			done := waitAt(t, b, start)
			synctest.Wait() // its token comes at 10 s
			if d, _, _ := b.RateLimited(0); d != 60*time.Second {
				t.Fatalf("pause %v; want 60s", d)
			}
			if got := <-done; got != 60*time.Second {
				t.Errorf("the request went at %v; want 60s, the pause's end", got)
			}
		})
	})
	t.Run("waiting for the window", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(1<<20, nil)
			b.LimitWindow(2, 10*time.Second)
			take(t, b, 2)
			start := time.Now()
			done := waitAt(t, b, start)
			synctest.Wait() // its slot comes at 10 s
			b.Pause(15 * time.Second)
			if got := <-done; got != 15*time.Second {
				t.Errorf("the request went at %v; want 15s, the pause's end", got)
			}
		})
	})
	t.Run("a pause that ends as the token comes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(30, nil)
			take(t, b, 3)
			start := time.Now()
			done := waitAt(t, b, start)
			synctest.Wait()
			b.Pause(10 * time.Second)
			if got := <-done; got != 10*time.Second {
				t.Errorf("the request went at %v; want 10s", got)
			}
		})
	})
}

// TestBudgetReloadKeepsBookings: a reload sets the same limits again (or
// other ones); what was booked before it still counts, in the window and
// in the token bucket.
func TestBudgetReloadKeepsBookings(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		per    time.Duration
		wantAt time.Duration // when request 251 goes
	}{
		{name: "the same window", n: 250, per: 10 * time.Second, wantAt: 10 * time.Second},
		{name: "a longer span", n: 250, per: 20 * time.Second, wantAt: 20 * time.Second},
		{name: "fewer requests", n: 100, per: 10 * time.Second, wantAt: 10 * time.Second},
		{name: "one more request", n: 251, per: 10 * time.Second, wantAt: 0},
		{name: "lifted", n: 0, per: 0, wantAt: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := NewBudget(1<<20, nil)
				b.LimitWindow(WindowRequests, WindowSpan)
				start := time.Now()
				take(t, b, 250)
				b.SetRate(1 << 20)
				b.LimitWindow(tt.n, tt.per)
				if got := <-waitAt(t, b, start); got != tt.wantAt {
					t.Errorf("request 251 went at %v; want %v", got, tt.wantAt)
				}
			})
		})
	}
	t.Run("token bucket", func(t *testing.T) {
		for _, rate := range []int{300, 600} {
			synctest.Test(t, func(t *testing.T) {
				b := NewBudget(300, nil) // one a second, burst 30
				start := time.Now()
				take(t, b, 30)
				b.SetRate(rate)
				want := time.Duration(float64(time.Second) * 300 / float64(rate))
				if got := <-waitAt(t, b, start); got != want {
					t.Errorf("SetRate(%d): request 31 went at %v; want %v", rate, got, want)
				}
			})
		}
	})
}

// TestBudgetWaitSpare: a spare request waits until the bucket holds half
// its burst again (15 of 30 here, one a second), to the nanosecond; an
// ordinary request that comes later goes first.
func TestBudgetWaitSpare(t *testing.T) {
	tests := []struct {
		taken  int           // requests made at once before
		wantAt time.Duration // when the spare request goes
	}{
		{taken: 14, wantAt: 0},
		{taken: 15, wantAt: 0},
		{taken: 16, wantAt: time.Second},
		{taken: 30, wantAt: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d taken", tt.taken), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := NewBudget(300, nil)
				start := time.Now()
				for range tt.taken {
					if err := b.Wait(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				spare := make(chan time.Duration, 1)
				go func() {
					if err := b.WaitSpare(context.Background()); err != nil {
						t.Error(err)
					}
					spare <- time.Since(start)
				}()
				if got := <-spare; got != tt.wantAt {
					t.Errorf("the spare request went at %v; want %v", got, tt.wantAt)
				}
			})
		})
	}
	t.Run("polling first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(300, nil)
			start := time.Now()
			take(t, b, 30)
			spare := make(chan time.Duration, 1)
			go func() {
				_ = b.WaitSpare(context.Background())
				spare <- time.Since(start)
			}()
			synctest.Wait()
			time.Sleep(5 * time.Second) // synctest's clock: polls come at 5 s
			take(t, b, 5)
			if got, want := time.Since(start), 5*time.Second; got != want {
				t.Errorf("polling's 5 requests went at %v; want %v, before the spare one", got, want)
			}
			if got, want := <-spare, 20*time.Second; got != want {
				t.Errorf("the spare request went at %v; want %v", got, want)
			}
		})
	})
	t.Run("paused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(300, nil)
			b.Pause(time.Minute)
			start := time.Now()
			if err := b.WaitSpare(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != time.Minute {
				t.Errorf("went at %v; want 1m", got)
			}
		})
	})
}
