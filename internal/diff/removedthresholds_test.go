package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Rules of the removed-threshold tests: 10 crosses up at 10 and down below
// 10 - 2; a reload then removes it (only5), and may put it back.
var (
	with10 = Rules{ParticipantThresholds: []int{5, 10}, Hysteresis: 2, FailingAfter: 3}
	only5  = Rules{ParticipantThresholds: []int{5}, Hysteresis: 2, FailingAfter: 3}
)

// upTo10 returns the steps that make session s1 cross 5 and 10 up under
// with10: a baseline without a session, then 12 participants.
func upTo10() []ruledStep {
	return []ruledStep{
		{rules: with10, obs: noSessionObs(0)},
		{rules: with10, obs: sessionObs(30, liveSession("s1", 12, 0)), want: []brief{started(1, "s1"), upAt(2, "s1", 5), upAt(3, "s1", 10)}},
	}
}

// TestRemovedThresholdClosesItsCrossing: a participants threshold that a
// reload removes while it is up stays up, fires no up crossing again, and
// crosses down by the rule a configured one follows, at the same edges;
// once down it is forgotten. One that was not up is forgotten at once.
func TestRemovedThresholdClosesItsCrossing(t *testing.T) {
	h0 := only5
	h0.Hysteresis = 0
	with10and11, only5and11 := with10, only5
	with10and11.ParticipantThresholds = []int{5, 10, 11}
	only5and11.ParticipantThresholds = []int{5, 11}
	tests := []struct {
		name   string
		steps  []ruledStep // after upTo10
		wantUp []int
	}{
		{
			name:   "above T: stays up, no event",
			steps:  []ruledStep{{rules: only5, obs: sessionObs(60, liveSession("s1", 30, 0))}},
			wantUp: []int{5, 10},
		},
		{
			name:   "at T - hysteresis: stays up",
			steps:  []ruledStep{{rules: only5, obs: sessionObs(60, liveSession("s1", 8, 0))}},
			wantUp: []int{5, 10},
		},
		{
			name:   "at T - hysteresis - 1: goes down",
			steps:  []ruledStep{{rules: only5, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}}},
			wantUp: []int{5},
		},
		{
			name:  "down with a configured one, descending",
			steps: []ruledStep{{rules: only5, obs: sessionObs(60, liveSession("s1", 2, 0)), want: []brief{downAt(4, "s1", 10), downAt(5, "s1", 5)}}},
		},
		{
			name: "at T - hysteresis while another goes down: stays up",
			steps: []ruledStep{
				{rules: with10and11, obs: sessionObs(60, liveSession("s1", 12, 0))}, // 11 armed
				{rules: only5and11, obs: sessionObs(90, liveSession("s1", 8, 0)), want: []brief{downAt(4, "s1", 11)}},
			},
			wantUp: []int{5, 10},
		},
		{
			name: "at T - hysteresis - 1 with another: both down, descending",
			steps: []ruledStep{
				{rules: with10and11, obs: sessionObs(60, liveSession("s1", 12, 0))},
				{rules: only5and11, obs: sessionObs(90, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 11), downAt(5, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name:   "the hysteresis at hand counts, as for a configured one",
			steps:  []ruledStep{{rules: h0, obs: sessionObs(60, liveSession("s1", 9, 0)), want: []brief{downAt(4, "s1", 10)}}},
			wantUp: []int{5},
		},
		{
			name: "after a stay in the band, down below it",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 9, 0))},
				{rules: only5, obs: sessionObs(90, liveSession("s1", 8, 0)), roundTrip: true},
				{rules: only5, obs: sessionObs(120, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name: "closed, then forgotten: no up crossing again",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
				{rules: only5, obs: sessionObs(90, liveSession("s1", 30, 0))},
				{rules: only5, obs: sessionObs(120, liveSession("s1", 0, 0)), want: []brief{downAt(5, "s1", 5)}},
			},
		},
		{
			name: "a failed poll changes nothing",
			steps: []ruledStep{
				{rules: only5, obs: failureObs(60, FailureServer, 503)},
				{rules: only5, obs: sessionObs(90, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name: "removed before it was up: forgotten at once",
			steps: []ruledStep{
				{rules: with10, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
				{rules: only5, obs: sessionObs(90, liveSession("s1", 30, 0))},
				{rules: only5, obs: sessionObs(120, liveSession("s1", 0, 0)), want: []brief{downAt(5, "s1", 5)}},
			},
		},
		{
			name: "every threshold removed: each still goes down",
			steps: []ruledStep{
				{rules: Rules{Hysteresis: 2}, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
				{rules: Rules{Hysteresis: 2}, obs: sessionObs(90, liveSession("s1", 2, 0)), want: []brief{downAt(5, "s1", 5)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, append(upTo10(), tc.steps...))
			if diff := cmp.Diff(tc.wantUp, got.ParticipantsUp); diff != "" {
				t.Errorf("participants_up (-want +got):\n%s", diff)
			}
			last := tc.steps[len(tc.steps)-1].rules
			if diff := cmp.Diff(known(nil, last.ParticipantThresholds), got.KnownParticipants); diff != "" {
				t.Errorf("known_participants (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSessionEndedListsRemovedThresholds: a session that ends while a
// removed threshold is still up lists it in participant_thresholds_up,
// whichever way it ends, and at the hysteresis edge both ways; the next
// session knows only the configured thresholds.
func TestSessionEndedListsRemovedThresholds(t *testing.T) {
	tests := []struct {
		name     string
		last     int         // live_participants at the poll after the reload
		lastWant []brief     // its events
		end      Observation // the poll that ends the session
		want     []int
	}{
		{"at T - hysteresis: listed", 8, nil, noSessionObs(90), []int{5, 10}},
		{"at T - hysteresis - 1: went down before", 7, []brief{downAt(4, "s1", 10)}, noSessionObs(90), []int{5}},
		{"ENDED status", 12, nil, sessionObs(90, endedSession("s1", 80)), []int{5, 10}},
		{"replaced by another session", 12, nil, sessionObs(90, liveSession("s2", 12, 0)), []int{5, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := playRuled(t, Snapshot{}, append(upTo10(),
				ruledStep{rules: only5, obs: sessionObs(60, liveSession("s1", tt.last, 0)), want: tt.lastWant}))
			_, evs := applyChecked(t, roundTripJSON(t, before), tt.end, only5)
			if len(evs) == 0 || evs[0].Type != TypeSessionEnded {
				t.Fatalf("events at the end = %v, want session.ended first", briefs(evs))
			}
			if diff := cmp.Diff(tt.want, evs[0].Data.ParticipantThresholdsUp); diff != "" {
				t.Errorf("participant_thresholds_up (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the next session has only the configured thresholds", func(t *testing.T) {
		got := playRuled(t, Snapshot{}, append(upTo10(),
			ruledStep{rules: only5, obs: sessionObs(60, liveSession("s1", 12, 0))},
			ruledStep{rules: only5, obs: sessionObs(90, liveSession("s2", 12, 0)), want: []brief{ended(4, "s1"), started(5, "s2"), upAt(6, "s2", 5)}},
			ruledStep{rules: only5, obs: sessionObs(120, liveSession("s2", 0, 0)), want: []brief{downAt(7, "s2", 5)}}))
		if got.ParticipantsUp != nil {
			t.Errorf("participants_up = %v, want none", got.ParticipantsUp)
		}
	})
}

// TestReaddedThresholdKeepsItsCrossing: a threshold that a reload puts back
// while it is still up stays up without a second up crossing, wherever the
// session stands; put back after it went down, it is new: armed silently
// when the session is past it, crossed up when it gets there.
func TestReaddedThresholdKeepsItsCrossing(t *testing.T) {
	tests := []struct {
		name   string
		steps  []ruledStep // after upTo10
		wantUp []int
	}{
		{
			name: "put back above T: no up crossing, down later",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 12, 0))},
				{rules: with10, obs: sessionObs(90, liveSession("s1", 12, 0))},
				{rules: with10, obs: sessionObs(120, liveSession("s1", 8, 0))},
				{rules: with10, obs: sessionObs(150, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name: "put back in the band: still up",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 9, 0))},
				{rules: with10, obs: sessionObs(90, liveSession("s1", 8, 0)), roundTrip: true},
				{rules: with10, obs: sessionObs(120, liveSession("s1", 12, 0))},
			},
			wantUp: []int{5, 10},
		},
		{
			name: "put back and removed again, across a restart",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 12, 0)), roundTrip: true},
				{rules: with10, obs: sessionObs(90, liveSession("s1", 12, 0)), roundTrip: true},
				{rules: only5, obs: sessionObs(120, liveSession("s1", 12, 0)), roundTrip: true},
				{rules: only5, obs: sessionObs(150, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name: "put back after it went down, past it: armed silently",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
				{rules: with10, obs: sessionObs(90, liveSession("s1", 12, 0))},
				{rules: with10, obs: sessionObs(120, liveSession("s1", 7, 0)), want: []brief{downAt(5, "s1", 10)}},
			},
			wantUp: []int{5},
		},
		{
			name: "put back after it went down, below it: crossed up when reached",
			steps: []ruledStep{
				{rules: only5, obs: sessionObs(60, liveSession("s1", 7, 0)), want: []brief{downAt(4, "s1", 10)}},
				{rules: with10, obs: sessionObs(90, liveSession("s1", 9, 0))},
				{rules: with10, obs: sessionObs(120, liveSession("s1", 10, 0)), want: []brief{upAt(5, "s1", 10)}},
			},
			wantUp: []int{5, 10},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, append(upTo10(), tc.steps...))
			if diff := cmp.Diff(tc.wantUp, got.ParticipantsUp); diff != "" {
				t.Errorf("participants_up (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRemovedThresholdsAllocateNothing: a step where a removed threshold
// stays up, at its very edge, and nothing else changes, keeps the
// snapshot's slice.
func TestRemovedThresholdsAllocateNothing(t *testing.T) {
	prev := playRuled(t, Snapshot{}, append(upTo10(),
		ruledStep{rules: only5, obs: sessionObs(60, liveSession("s1", 12, 0))}))
	obs := sessionObs(90, liveSession("s1", 8, 0)) // 10 - 2: the edge
	next, _ := applyChecked(t, prev, obs, only5)
	if &next.ParticipantsUp[0] != &prev.ParticipantsUp[0] {
		t.Errorf("participants_up was copied though it did not change")
	}
	if n := testing.AllocsPerRun(100, func() { Apply(testMeeting, prev, obs, only5) }); n > 1 {
		t.Errorf("Apply allocated %v times, want at most 1 (the stored session)", n)
	}
}
