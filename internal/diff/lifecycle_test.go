package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ruledStep is one observation and the rules in force when it is applied,
// with the events it should emit.
type ruledStep struct {
	rules Rules
	obs   Observation
	want  []brief
	// roundTrip stores the snapshot as JSON and reads it back before the step.
	roundTrip bool
}

// playRuled applies steps in turn from prev, failing at the first step whose
// events differ from its want, and returns the last snapshot.
func playRuled(t *testing.T, prev Snapshot, steps []ruledStep) Snapshot {
	t.Helper()
	for i, st := range steps {
		if st.roundTrip {
			prev = roundTripJSON(t, prev)
		}
		var evs []Event
		prev, evs = applyChecked(t, prev, st.obs, st.rules)
		if diff := cmp.Diff(st.want, briefs(evs)); diff != "" {
			t.Fatalf("step %d events (-want +got):\n%s", i, diff)
		}
	}
	return prev
}

func started(seq uint64, id string) brief {
	return brief{Type: TypeSessionStarted, Seq: seq, SessionID: id}
}
func ended(seq uint64, id string) brief {
	return brief{Type: TypeSessionEnded, Seq: seq, SessionID: id}
}
func upAt(seq uint64, id string, th float64) brief {
	return brief{Type: TypeParticipantsThreshold, Seq: seq, SessionID: id, Threshold: th, Direction: DirectionUp}
}
func downAt(seq uint64, id string, th float64) brief {
	return brief{Type: TypeParticipantsThreshold, Seq: seq, SessionID: id, Threshold: th, Direction: DirectionDown}
}
func minutesAt(seq uint64, id string, th float64) brief {
	return brief{Type: TypeMinutesThreshold, Seq: seq, SessionID: id, Threshold: th}
}

func TestSessionComesBack(t *testing.T) {
	r := testRules // participants 50, 100 (hysteresis 5); minutes 600, 1200
	only1200 := r
	only1200.MinutesThresholds = []float64{1200}
	tests := []struct {
		name          string
		steps         []ruledStep
		wantEndedID   string
		wantEndedMins []float64
		wantReached   []float64
	}{
		{
			name: "a stray 404 does not report minutes twice; participants start over",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 0))},
				{rules: r, obs: sessionObs(30, liveSession("s1", 60, 700)), want: []brief{upAt(1, "s1", 50), minutesAt(2, "s1", 600)}},
				{rules: r, obs: noSessionObs(60), want: []brief{ended(3, "s1")}},
				{rules: r, obs: sessionObs(90, liveSession("s1", 60, 710)), want: []brief{started(4, "s1"), upAt(5, "s1", 50)}},
				{rules: r, obs: sessionObs(120, liveSession("s1", 60, 1300)), want: []brief{minutesAt(6, "s1", 1200)}},
			},
			wantReached: []float64{600, 1200},
		},
		{
			name: "a stray ENDED does not report minutes twice",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 700))},
				{rules: r, obs: sessionObs(30, endedSession("s1", 20)), want: []brief{ended(1, "s1")}},
				{rules: r, obs: sessionObs(60, liveSession("s1", 10, 710)), want: []brief{started(2, "s1")}},
			},
			wantReached: []float64{600},
		},
		{
			name: "remembered across failures and a JSON round trip",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 0))},
				{rules: r, obs: sessionObs(30, liveSession("s1", 10, 650)), want: []brief{minutesAt(1, "s1", 600)}},
				{rules: r, obs: noSessionObs(60), want: []brief{ended(2, "s1")}},
				{rules: r, obs: noSessionObs(90), roundTrip: true},
				{rules: r, obs: failureObs(120, FailureServer, 503), roundTrip: true},
			},
			wantEndedID: "s1", wantEndedMins: []float64{600},
		},
		{
			name: "a session in between makes the old one new again",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 700))},
				{rules: r, obs: noSessionObs(30), want: []brief{ended(1, "s1")}},
				{rules: r, obs: sessionObs(60, liveSession("s2", 10, 0)), want: []brief{started(2, "s2")}},
				{rules: r, obs: noSessionObs(90), want: []brief{ended(3, "s2")}},
				{rules: r, obs: sessionObs(120, liveSession("s1", 10, 700)), want: []brief{started(4, "s1"), minutesAt(5, "s1", 600)}},
			},
			wantReached: []float64{600},
		},
		{
			name: "an id change and back makes the old one new again",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 700))},
				{rules: r, obs: sessionObs(30, liveSession("s2", 10, 0)), want: []brief{ended(1, "s1"), started(2, "s2")}},
				{rules: r, obs: sessionObs(60, liveSession("s1", 10, 700)), want: []brief{ended(3, "s2"), started(4, "s1"), minutesAt(5, "s1", 600)}},
			},
			wantReached: []float64{600},
		},
		{
			name: "a threshold dropped while the session was away is forgotten",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 700))},
				{rules: r, obs: noSessionObs(30), want: []brief{ended(1, "s1")}},
				{rules: only1200, obs: sessionObs(60, liveSession("s1", 10, 700)), want: []brief{started(2, "s1")}},
			},
		},
		{
			name: "the memory ends when the session comes back",
			steps: []ruledStep{
				{rules: r, obs: sessionObs(0, liveSession("s1", 10, 700))},
				{rules: r, obs: noSessionObs(30), want: []brief{ended(1, "s1")}},
				{rules: r, obs: sessionObs(60, liveSession("s1", 10, 700)), want: []brief{started(2, "s1")}},
				{rules: r, obs: sessionObs(90, liveSession("s1", 10, 800))},
			},
			wantReached: []float64{600},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, tc.steps)
			if got.LastEndedSessionID != tc.wantEndedID {
				t.Errorf("last_ended_session_id = %q, want %q", got.LastEndedSessionID, tc.wantEndedID)
			}
			if diff := cmp.Diff(tc.wantEndedMins, got.LastEndedMinutesReached); diff != "" {
				t.Errorf("last_ended_minutes_reached (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantReached, got.MinutesReached); diff != "" {
				t.Errorf("minutes_reached (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThresholdsAddedByConfig(t *testing.T) {
	rules := func(p []int, m []float64) Rules {
		return Rules{ParticipantThresholds: p, Hysteresis: 5, MinutesThresholds: m, FailingAfter: 3}
	}
	p50 := rules([]int{50}, nil)
	p14and50 := rules([]int{14, 50}, nil)
	none := rules(nil, nil)
	m600 := rules(nil, []float64{600})
	m100and600 := rules(nil, []float64{100, 600})
	tests := []struct {
		name        string
		steps       []ruledStep
		wantUp      []int
		wantReached []float64
	}{
		{
			name: "participants threshold added below the live count is armed silently",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 15, 0))},
				{rules: p14and50, obs: sessionObs(30, liveSession("s1", 15, 0))},
				{rules: p14and50, obs: sessionObs(60, liveSession("s1", 16, 0))},
				{rules: p14and50, obs: sessionObs(90, liveSession("s1", 8, 0)), want: []brief{downAt(1, "s1", 14)}},
				{rules: p14and50, obs: sessionObs(120, liveSession("s1", 15, 0)), want: []brief{upAt(2, "s1", 14)}},
			},
			wantUp: []int{14},
		},
		{
			name: "participants threshold added above the live count fires when reached",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 10, 0))},
				{rules: p14and50, obs: sessionObs(30, liveSession("s1", 10, 0))},
				{rules: p14and50, obs: sessionObs(60, liveSession("s1", 14, 0)), want: []brief{upAt(1, "s1", 14)}},
			},
			wantUp: []int{14},
		},
		{
			name: "added while the live count sits in the hysteresis band: not armed",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 12, 0))},
				{rules: p14and50, obs: sessionObs(30, liveSession("s1", 12, 0))},
				{rules: p14and50, obs: sessionObs(60, liveSession("s1", 14, 0)), want: []brief{upAt(1, "s1", 14)}},
			},
			wantUp: []int{14},
		},
		{
			name: "added to an empty list is armed silently",
			steps: []ruledStep{
				{rules: none, obs: sessionObs(0, liveSession("s1", 60, 700)), roundTrip: true},
				{rules: rules([]int{50}, []float64{600}), obs: sessionObs(30, liveSession("s1", 60, 700)), roundTrip: true},
			},
			wantUp: []int{50}, wantReached: []float64{600},
		},
		{
			name: "minutes threshold added below the consumed minutes is armed silently",
			steps: []ruledStep{
				{rules: m600, obs: sessionObs(0, liveSession("s1", 1, 0))},
				{rules: m600, obs: sessionObs(30, liveSession("s1", 1, 300))},
				{rules: m100and600, obs: sessionObs(60, liveSession("s1", 1, 310))},
				{rules: m100and600, obs: sessionObs(90, liveSession("s1", 1, 610)), want: []brief{minutesAt(1, "s1", 600)}},
			},
			wantReached: []float64{100, 600},
		},
		{
			name: "removed and added back while past it: silent both ways",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 10, 0))},
				{rules: p50, obs: sessionObs(30, liveSession("s1", 60, 0)), want: []brief{upAt(1, "s1", 50)}},
				{rules: none, obs: sessionObs(60, liveSession("s1", 60, 0))},
				{rules: p50, obs: sessionObs(90, liveSession("s1", 60, 0))},
				{rules: p50, obs: sessionObs(120, liveSession("s1", 40, 0)), want: []brief{downAt(2, "s1", 50)}},
			},
		},
		{
			name: "added during a run of failures: compared with the last good poll",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 15, 0))},
				{rules: p14and50, obs: failureObs(30, FailureServer, 503)},
				{rules: p14and50, obs: sessionObs(60, liveSession("s1", 15, 0))},
			},
			wantUp: []int{14},
		},
		{
			name: "added while no session is live: a new session counts from zero",
			steps: []ruledStep{
				{rules: p50, obs: noSessionObs(0)},
				{rules: p14and50, obs: sessionObs(30, liveSession("s1", 15, 0)), want: []brief{started(1, "s1"), upAt(2, "s1", 14)}},
			},
			wantUp: []int{14},
		},
		{
			name: "added with a new session id: counts from zero",
			steps: []ruledStep{
				{rules: p50, obs: sessionObs(0, liveSession("s1", 15, 0))},
				{rules: p14and50, obs: sessionObs(30, liveSession("s2", 15, 0)), want: []brief{ended(1, "s1"), started(2, "s2"), upAt(3, "s2", 14)}},
			},
			wantUp: []int{14},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, tc.steps)
			if diff := cmp.Diff(tc.wantUp, got.ParticipantsUp); diff != "" {
				t.Errorf("participants_up (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantReached, got.MinutesReached); diff != "" {
				t.Errorf("minutes_reached (-want +got):\n%s", diff)
			}
			last := tc.steps[len(tc.steps)-1].rules
			if !cmp.Equal(known(nil, last.ParticipantThresholds), got.KnownParticipants) ||
				!cmp.Equal(known(nil, last.MinutesThresholds), got.KnownMinutes) {
				t.Errorf("known thresholds %v %v, want the last rules' %v %v",
					got.KnownParticipants, got.KnownMinutes, last.ParticipantThresholds, last.MinutesThresholds)
			}
		})
	}
}

// TestSnapshotWithoutKnownThresholds covers a snapshot stored before the
// Known fields existed: it is taken to know the current rules' thresholds.
func TestSnapshotWithoutKnownThresholds(t *testing.T) {
	legacy := Snapshot{
		Meeting: testMeeting, Baselined: true, Session: liveSession("s1", 60, 700), Sequence: 4,
		ParticipantsUp: []int{50}, MinutesReached: []float64{600},
	}
	tests := []struct {
		name   string
		obs    Observation
		want   []brief
		wantUp []int
	}{
		{"nothing fires again", sessionObs(30, liveSession("s1", 61, 710)), nil, []int{50}},
		{"crossings still fire", sessionObs(30, liveSession("s1", 100, 710)), []brief{upAt(5, "s1", 100)}, []int{50, 100}},
		{"a new session counts from zero", sessionObs(30, liveSession("s2", 60, 0)), []brief{ended(5, "s1"), started(6, "s2"), upAt(7, "s2", 50)}, []int{50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, evs := applyChecked(t, roundTripJSON(t, legacy), tc.obs, testRules)
			if diff := cmp.Diff(tc.want, briefs(evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantUp, next.ParticipantsUp); diff != "" {
				t.Errorf("participants_up (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]int{50, 100}, next.KnownParticipants); diff != "" {
				t.Errorf("known_participants (-want +got):\n%s", diff)
			}
		})
	}
}
