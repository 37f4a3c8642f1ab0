package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestThresholdRulesOddities(t *testing.T) {
	up := func(seq uint64, th float64) brief {
		return brief{Type: TypeParticipantsThreshold, Seq: seq, SessionID: "s1", Threshold: th, Direction: DirectionUp}
	}
	down := func(seq uint64, th float64) brief {
		return brief{Type: TypeParticipantsThreshold, Seq: seq, SessionID: "s1", Threshold: th, Direction: DirectionDown}
	}
	mins := func(seq uint64, th float64) brief {
		return brief{Type: TypeMinutesThreshold, Seq: seq, SessionID: "s1", Threshold: th}
	}
	tests := []struct {
		name     string
		rules    Rules
		prev     Snapshot
		obs      Observation
		want     []brief
		wantUp   []int
		wantMins []float64
	}{
		{
			name:   "unsorted thresholds fire in ascending order",
			rules:  Rules{ParticipantThresholds: []int{100, 10, 50}, MinutesThresholds: []float64{20, 10}},
			prev:   Snapshot{Baselined: true, Session: liveSession("s1", 0, 0)},
			obs:    sessionObs(1, liveSession("s1", 200, 30)),
			want:   []brief{up(1, 10), up(2, 50), up(3, 100), mins(4, 10), mins(5, 20)},
			wantUp: []int{10, 50, 100}, wantMins: []float64{10, 20},
		},
		{
			name:   "duplicate thresholds fire once",
			rules:  Rules{ParticipantThresholds: []int{50, 50}, MinutesThresholds: []float64{5, 5}},
			prev:   Snapshot{Baselined: true, Session: liveSession("s1", 0, 0)},
			obs:    sessionObs(1, liveSession("s1", 60, 6)),
			want:   []brief{up(1, 50), mins(2, 5)},
			wantUp: []int{50}, wantMins: []float64{5},
		},
		{
			name:  "duplicate thresholds go down once",
			rules: Rules{ParticipantThresholds: []int{50, 50}},
			prev:  Snapshot{Baselined: true, Session: liveSession("s1", 60, 0), ParticipantsUp: []int{50}},
			obs:   sessionObs(1, liveSession("s1", 0, 0)),
			want:  []brief{down(1, 50)},
		},
		{
			name:     "a removed participants threshold still up goes down; removed minutes are forgotten silently",
			rules:    Rules{ParticipantThresholds: []int{50}, MinutesThresholds: []float64{10}},
			prev:     Snapshot{Baselined: true, Session: liveSession("s1", 80, 0), ParticipantsUp: []int{50, 70}, MinutesReached: []float64{10, 99}},
			obs:      sessionObs(1, liveSession("s1", 0, 0)),
			want:     []brief{down(1, 70), down(2, 50)},
			wantMins: []float64{10},
		},
		{
			name:   "a snapshot that does not know its thresholds evaluates them all",
			rules:  Rules{ParticipantThresholds: []int{20, 100}},
			prev:   Snapshot{Baselined: true, Session: liveSession("s1", 120, 0), ParticipantsUp: []int{100}},
			obs:    sessionObs(1, liveSession("s1", 30, 0)),
			want:   []brief{up(1, 20), down(2, 100)},
			wantUp: []int{20},
		},
		{
			name:  "a threshold added below the live count arms silently as another goes down",
			rules: Rules{ParticipantThresholds: []int{20, 100}},
			prev: Snapshot{Baselined: true, Session: liveSession("s1", 120, 0), ParticipantsUp: []int{100},
				KnownParticipants: []int{100}},
			obs:    sessionObs(1, liveSession("s1", 30, 0)),
			want:   []brief{down(1, 100)},
			wantUp: []int{20},
		},
		{
			// 20, removed while up, stays up until it crosses down; 5, a
			// minutes threshold removed, is forgotten.
			name:  "unsorted and duplicate thresholds added: armed once, ascending",
			rules: Rules{ParticipantThresholds: []int{30, 10, 10, 200}, MinutesThresholds: []float64{7, 3, 3}},
			prev: Snapshot{Baselined: true, Session: liveSession("s1", 50, 9), ParticipantsUp: []int{20},
				KnownParticipants: []int{20}, MinutesReached: []float64{5}, KnownMinutes: []float64{5}},
			obs:    sessionObs(1, liveSession("s1", 50, 9)),
			wantUp: []int{10, 20, 30}, wantMins: []float64{3, 7},
		},
		{
			name:   "negative hysteresis counts as zero",
			rules:  Rules{ParticipantThresholds: []int{50}, Hysteresis: -10},
			prev:   Snapshot{Baselined: true, Session: liveSession("s1", 60, 0), ParticipantsUp: []int{50}},
			obs:    sessionObs(1, liveSession("s1", 50, 0)),
			wantUp: []int{50},
		},
		{
			name:   "hysteresis larger than the threshold never re-arms",
			rules:  Rules{ParticipantThresholds: []int{5}, Hysteresis: 10},
			prev:   Snapshot{Baselined: true, Session: liveSession("s1", 60, 0), ParticipantsUp: []int{5}},
			obs:    sessionObs(1, liveSession("s1", 0, 0)),
			wantUp: []int{5},
		},
		{
			name:  "no thresholds",
			rules: Rules{},
			prev:  Snapshot{Baselined: true, Session: liveSession("s1", 60, 0)},
			obs:   sessionObs(1, liveSession("s1", 1e6, 1e9)),
		},
		{
			name:   "started clears stale thresholds left in the snapshot",
			rules:  Rules{ParticipantThresholds: []int{50}, MinutesThresholds: []float64{10}},
			prev:   Snapshot{Baselined: true, ParticipantsUp: []int{50}, MinutesReached: []float64{10}},
			obs:    sessionObs(1, liveSession("s1", 60, 11)),
			want:   []brief{{Type: TypeSessionStarted, Seq: 1, SessionID: "s1"}, up(2, 50), mins(3, 10)},
			wantUp: []int{50}, wantMins: []float64{10},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, evs := applyChecked(t, tc.prev, tc.obs, tc.rules)
			if diff := cmp.Diff(tc.want, briefs(evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantUp, next.ParticipantsUp); diff != "" {
				t.Errorf("participants_up (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMins, next.MinutesReached); diff != "" {
				t.Errorf("minutes_reached (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyLeavesPrevSlicesAlone(t *testing.T) {
	// Slices with spare capacity: an append in place would write into prev's
	// backing array without changing prev's length; applyChecked sees that.
	up := make([]int, 1, 8)
	up[0] = 50
	reached := make([]float64, 1, 8)
	reached[0] = 600
	prev := Snapshot{
		Meeting: testMeeting, Baselined: true, Session: liveSession("s1", 60, 700),
		ParticipantsUp: up, MinutesReached: reached, Sequence: 3,
	}
	obs := []Observation{
		sessionObs(1, liveSession("s1", 150, 1300)), // both grow
		sessionObs(1, liveSession("s1", 10, 700)),   // participants shrink
		sessionObs(1, liveSession("s1", 61, 701)),   // nothing changes
		sessionObs(1, liveSession("s2", 200, 2000)), // id change
		noSessionObs(1),                 // ended
		failureObs(1, FailureAuth, 401), // failure
	}
	for _, o := range obs {
		next, _ := applyChecked(t, prev, o, testRules)
		if len(next.ParticipantsUp) > 0 && len(prev.ParticipantsUp) > 0 && &next.ParticipantsUp[0] == &prev.ParticipantsUp[0] &&
			!cmp.Equal(next.ParticipantsUp, prev.ParticipantsUp) {
			t.Errorf("next shares prev's participants_up backing array with other contents")
		}
	}
	// Unchanged slices are shared, not copied: the common case allocates little.
	next, _ := applyChecked(t, prev, obs[2], testRules)
	if &next.ParticipantsUp[0] != &prev.ParticipantsUp[0] || &next.MinutesReached[0] != &prev.MinutesReached[0] {
		t.Errorf("unchanged threshold slices were copied")
	}
	again, _ := applyChecked(t, next, obs[2], testRules)
	if &again.KnownParticipants[0] != &next.KnownParticipants[0] || &again.KnownMinutes[0] != &next.KnownMinutes[0] {
		t.Errorf("unchanged known thresholds were copied")
	}
}
