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
