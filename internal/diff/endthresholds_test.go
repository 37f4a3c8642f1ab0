package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSessionEndedListsThresholdsUp: session.ended carries the participant
// thresholds still crossed up when the session ended, at the hysteresis
// edge both ways, whichever way the session ends; a threshold crossed down
// before the end is not listed, and none at all leaves the field out.
func TestSessionEndedListsThresholdsUp(t *testing.T) {
	rules := Rules{ParticipantThresholds: []int{5, 10}, Hysteresis: 2}
	tests := []struct {
		name string
		last int         // live_participants at the last poll before the end
		end  Observation // the poll that ends the session
		want []int
	}{
		// 10 crossed down needs < 10 - 2: 8 keeps it up, 7 takes it down.
		{"at T - hysteresis, both stay up", 8, noSessionObs(90), []int{5, 10}},
		{"below T - hysteresis, the upper went down", 7, noSessionObs(90), []int{5}},
		{"5 at 3 stays up", 3, noSessionObs(90), []int{5}},
		{"all went down", 2, noSessionObs(90), nil},
		{"ENDED status", 8, sessionObs(90, endedSession("s1", 80)), []int{5, 10}},
		{"replaced by another session", 8, sessionObs(90, liveSession("s2", 0, 0)), []int{5, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, steps := play(t, rules, Snapshot{},
				noSessionObs(0), // baseline
				sessionObs(30, liveSession("s1", 12, 1)),
				sessionObs(60, liveSession("s1", tt.last, 2)),
				tt.end)
			var ended *EventData
			for i, e := range steps[3] {
				if e.Type == TypeSessionEnded {
					ended = &steps[3][i].Data
				}
			}
			if ended == nil {
				t.Fatalf("last step's events = %v, want a session.ended", briefs(steps[3]))
			}
			if diff := cmp.Diff(tt.want, ended.ParticipantThresholdsUp); diff != "" {
				t.Errorf("participant_thresholds_up (-want +got):\n%s", diff)
			}
			got := roundTripJSON(t, steps[3])
			if diff := cmp.Diff(tt.want, got[0].Data.ParticipantThresholdsUp); diff != "" {
				t.Errorf("participant_thresholds_up after JSON (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSessionEndedThresholdsArmedAtBaseline: a session already past a
// threshold at the meeting's baseline is armed for a later down crossing,
// so its end lists that threshold too; only session.ended carries the
// field.
func TestSessionEndedThresholdsArmedAtBaseline(t *testing.T) {
	rules := Rules{ParticipantThresholds: []int{5, 10}, Hysteresis: 2}
	_, steps := play(t, rules, Snapshot{},
		sessionObs(0, liveSession("s1", 6, 1)), // baseline: 5 armed silently
		sessionObs(30, liveSession("s1", 11, 1)),
		noSessionObs(60))
	for _, step := range steps[:2] {
		for _, e := range step {
			if e.Data.ParticipantThresholdsUp != nil {
				t.Errorf("%s carries participant_thresholds_up %v, want only session.ended to", e.Type, e.Data.ParticipantThresholdsUp)
			}
		}
	}
	if len(steps[2]) != 1 || steps[2][0].Type != TypeSessionEnded {
		t.Fatalf("events at the end = %v, want session.ended", briefs(steps[2]))
	}
	if diff := cmp.Diff([]int{5, 10}, steps[2][0].Data.ParticipantThresholdsUp); diff != "" {
		t.Errorf("participant_thresholds_up (-want +got):\n%s", diff)
	}
}
