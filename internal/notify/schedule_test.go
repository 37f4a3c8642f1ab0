package notify

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetrySchedule(t *testing.T) {
	s, m, h := time.Second, time.Minute, time.Hour
	share := (24*h - 5461*s) / 7
	tests := []struct {
		name        string
		base        time.Duration
		maxAttempts int
		maxAge      time.Duration
		want        []time.Duration
	}{
		{name: "defaults", base: s, maxAttempts: 15, maxAge: 24 * h, want: []time.Duration{
			0, 1 * s, 5 * s, 21 * s, 85 * s, 341 * s, 1365 * s, 5461 * s, // 1s, 4s, 16s, … 1h8m16s apart
			// then the 80939s left shared by the 7 retries left: 3h12m42.714s
			// each; the division's remainder (2ns) shows in the 6th.
			5461*s + share, 5461*s + 2*share, 5461*s + 3*share, 5461*s + 4*share,
			5461*s + 5*share, 5461*s + 6*share + time.Nanosecond,
			24 * h, // the last attempt at max age
		}},
		{name: "one attempt", base: s, maxAttempts: 1, maxAge: 24 * h, want: []time.Duration{0}},
		{name: "two attempts", base: s, maxAttempts: 2, maxAge: 24 * h, want: []time.Duration{0, 24 * h}},
		// The even share (10m/3 = 3m20s) is below the second delay's 4m from
		// the start: the cap holds from the second retry on.
		{name: "early cap", base: m, maxAttempts: 5, maxAge: 11 * m, want: []time.Duration{0, m, m + 200*s, m + 400*s, 11 * m}},
		// 4m equals the even share (12m/3) exactly: either gives 4m.
		{name: "growth meets the cap", base: m, maxAttempts: 5, maxAge: 13 * m, want: []time.Duration{0, m, 5 * m, 9 * m, 13 * m}},
		{name: "zero base", base: 0, maxAttempts: 3, maxAge: 3 * s, want: []time.Duration{0, s, 3 * s}},
		// The even share (0.5s) is below the base: the base holds, and max age
		// comes after two retries, not four.
		{name: "base over the share", base: s, maxAttempts: 5, maxAge: 2 * s, want: []time.Duration{0, s, 2 * s}},
		// The base reaches max age exactly: that retry is the last attempt.
		{name: "base reaches max age", base: s, maxAttempts: 5, maxAge: 3 * s, want: []time.Duration{0, s, 2 * s, 3 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RetrySchedule(tt.base, tt.maxAttempts, tt.maxAge)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RetrySchedule(%s, %d, %s) (-want +got):\n%s", tt.base, tt.maxAttempts, tt.maxAge, diff)
			}
		})
	}
}

func TestRetryAtJitter(t *testing.T) {
	queued := t0
	tests := []struct {
		name     string
		rand     float64
		attempts int
		now      time.Time
		want     time.Time
	}{
		{name: "no jitter", rand: 0, attempts: 2, now: t0.Add(time.Second), want: t0.Add(5 * time.Second)},
		{name: "most jitter", rand: 0.999, attempts: 2, now: t0.Add(time.Second), want: t0.Add(time.Second + 3200800*time.Microsecond)},
		// The attempt before the last: the last falls at max age, no jitter.
		{name: "last attempt", rand: 0.999, attempts: 14, now: t0.Add(20 * time.Hour), want: t0.Add(24 * time.Hour)},
		// A late attempt shares what is left: 10h over 2 retries.
		{name: "late", rand: 0, attempts: 13, now: t0.Add(14 * time.Hour), want: t0.Add(19 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWorker(nil, nil, WorkerOptions{Rand: func() float64 { return tt.rand }})
			if got := w.retryAt(queued, tt.now, tt.attempts); !got.Equal(tt.want) {
				t.Errorf("retryAt after attempt %d at %s = %s, want %s", tt.attempts, tt.now.Sub(t0), got.Sub(t0), tt.want.Sub(t0))
			}
		})
	}
}
