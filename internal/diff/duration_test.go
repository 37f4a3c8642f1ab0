package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func durationAt(seq uint64, id string, th float64) brief {
	return brief{Type: TypeDurationCrossed, Seq: seq, SessionID: id, Threshold: th}
}

func TestDurationThresholds(t *testing.T) {
	r := Rules{DurationThresholds: []time.Duration{2 * time.Hour, 8 * time.Hour}, FailingAfter: 3}
	only8h := r
	only8h.DurationThresholds = []time.Duration{8 * time.Hour}
	halfSecond := Rules{DurationThresholds: []time.Duration{1500 * time.Millisecond}}
	const h2, h8 = 7200, 28800
	noStart := liveSession("s1", 1, 0)
	noStart.StartedAt = "yesterday"
	future := liveSession("s1", 1, 0)
	future.StartedAt = at(h2 + 100).Format(time.RFC3339)
	tests := []struct {
		name        string
		steps       []ruledStep
		wantReached []int64
	}{
		{
			name: "fires at exactly T, not a second before",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2-1, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
				{rules: r, obs: sessionObs(h2+1, liveSession("s1", 1, 0))},
			},
			wantReached: []int64{h2},
		},
		{
			name: "several crossed in one step fire ascending, once",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h8, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2), durationAt(2, "s1", h8)}},
				{rules: r, obs: sessionObs(h8+30, liveSession("s1", 1, 0)), roundTrip: true},
			},
			wantReached: []int64{h2, h8},
		},
		{
			name: "the baseline arms what the session has already run, silently",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(h2+5, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h8-1, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h8, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h8)}},
			},
			wantReached: []int64{h2, h8},
		},
		{
			name: "a new session first seen after T reports it with its start",
			steps: []ruledStep{
				{rules: r, obs: noSessionObs(0)},
				{rules: r, obs: sessionObs(h2+60, liveSession("s1", 1, 0)), want: []brief{started(1, "s1"), durationAt(2, "s1", h2)}},
			},
			wantReached: []int64{h2},
		},
		{
			name: "a failed poll fires nothing; the next good one does",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: failureObs(h2, FailureServer, 503)},
				{rules: r, obs: sessionObs(h2+30, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
			},
			wantReached: []int64{h2},
		},
		{
			name: "a resumed session keeps what it reported",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
				{rules: r, obs: noSessionObs(h2 + 30), want: []brief{ended(2, "s1")}, roundTrip: true},
				{rules: r, obs: sessionObs(h2+60, liveSession("s1", 1, 0)), want: []brief{started(3, "s1")}, roundTrip: true},
				{rules: r, obs: sessionObs(h8, liveSession("s1", 1, 0)), want: []brief{durationAt(4, "s1", h8)}},
			},
			wantReached: []int64{h2, h8},
		},
		{
			name: "another session counts from its own start",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
				{rules: r, obs: sessionObs(h2+30, startedAt(liveSession("s2", 1, 0), h2)), want: []brief{ended(2, "s1"), started(3, "s2")}},
				{rules: r, obs: sessionObs(2*h2-1, startedAt(liveSession("s2", 1, 0), h2))},
				{rules: r, obs: sessionObs(2*h2, startedAt(liveSession("s2", 1, 0), h2)), want: []brief{durationAt(4, "s2", h2)}},
			},
			wantReached: []int64{h2},
		},
		{
			name: "a threshold added past the session's run is armed silently",
			steps: []ruledStep{
				{rules: only8h, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: only8h, obs: sessionObs(h2-10, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2+10, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h8, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h8)}},
			},
			wantReached: []int64{h2, h8},
		},
		{
			name: "a threshold added ahead of the session's run fires when reached",
			steps: []ruledStep{
				{rules: only8h, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2-1, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
			},
			wantReached: []int64{h2},
		},
		{
			name: "without a parseable started_at, from when it was first seen",
			steps: []ruledStep{
				{rules: r, obs: noSessionObs(0)},
				{rules: r, obs: sessionObs(100, noStart), want: []brief{started(1, "s1")}},
				{rules: r, obs: sessionObs(100+h2-1, noStart)},
				{rules: r, obs: sessionObs(100+h2, noStart), want: []brief{durationAt(2, "s1", h2)}},
			},
			wantReached: []int64{h2},
		},
		{
			name: "a started_at in the future counts as no time run",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, future)},
				{rules: r, obs: sessionObs(h2+50, future)},
			},
		},
		{
			name: "a fraction of a second rounds the threshold up",
			steps: []ruledStep{
				{rules: halfSecond, obs: noSessionObs(-10)},
				{rules: halfSecond, obs: sessionObs(1, liveSession("s1", 1, 0)), want: []brief{started(1, "s1")}},
				{rules: halfSecond, obs: sessionObs(2, liveSession("s1", 1, 0)), want: []brief{durationAt(2, "s1", 2)}},
			},
			wantReached: []int64{2},
		},
		{
			name: "a threshold removed is forgotten silently",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: r, obs: sessionObs(h2, liveSession("s1", 1, 0)), want: []brief{durationAt(1, "s1", h2)}},
				{rules: only8h, obs: sessionObs(h2+30, liveSession("s1", 1, 0))},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, tc.steps)
			if diff := cmp.Diff(tc.wantReached, got.DurationReached); diff != "" {
				t.Errorf("duration_reached (-want +got):\n%s", diff)
			}
		})
	}
}

// startedAt returns s with started_at n seconds after t0.
func startedAt(s *Session, n int) *Session {
	s.StartedAt = at(n).Format(time.RFC3339)
	return s
}

func TestDurationData(t *testing.T) {
	r := Rules{DurationThresholds: []time.Duration{time.Hour}}
	prev, _ := applyChecked(t, Snapshot{}, sessionObs(3000, liveSession("s1", 4, 10)), r)
	cur := liveSession("s1", 5, 20)
	_, evs := applyChecked(t, prev, sessionObs(3725, cur), r)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	d := evs[0].Data
	want := EventData{
		ID: d.ID, Sequence: 1, Watch: testMeeting.Watch, AccountID: testMeeting.AccountID, AppID: testMeeting.AppID,
		MeetingID: testMeeting.MeetingID, MeetingDisplayName: cur.MeetingDisplayName, SessionID: "s1",
		Previous: prev.Session, Current: cur, ThresholdSeconds: ptr(int64(3600)), DurationSeconds: ptr(int64(3725)),
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}
