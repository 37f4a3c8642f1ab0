package diff

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lines describes events in one line each: type, session and, for
// thresholds, direction and threshold.
func lines(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := e.Type + " " + e.Data.SessionID
		if e.Data.Direction != "" {
			s += " " + e.Data.Direction
		}
		if e.Data.Threshold != nil {
			s += " " + strconv.FormatFloat(*e.Data.Threshold, 'f', -1, 64)
		}
		out = append(out, s)
	}
	return out
}

// startedAtTime returns s with started_at set to t.
func startedAtTime(s *Session, t time.Time) *Session {
	s.StartedAt = t.Format(time.RFC3339Nano)
	return s
}

// TestLateBaseline: a session never seen that started more than
// LateBaselineSlack before the meeting's baseline was live, unseen, at the
// baseline. It is recorded silently, its thresholds armed; anything else is
// a start.
func TestLateBaseline(t *testing.T) {
	baseline := at(600) // the baseline poll, with no session
	edge := baseline.Add(-LateBaselineSlack)
	tests := []struct {
		name    string
		prev    func(Snapshot) Snapshot
		session *Session
		want    []string
	}{
		{name: "started long before the baseline", session: startedAtTime(liveSession("s1", 120, 700), baseline.Add(-time.Hour))},
		{name: "started just over the slack before", session: startedAtTime(liveSession("s1", 120, 700), edge.Add(-time.Millisecond))},
		{name: "started exactly the slack before", session: startedAtTime(liveSession("s1", 120, 700), edge),
			want: []string{"session.started s1", "participants.threshold_crossed s1 up 50", "participants.threshold_crossed s1 up 100",
				"minutes.threshold_crossed s1 600"}},
		{name: "started after the baseline", session: startedAtTime(liveSession("s1", 3, 1), baseline.Add(time.Second)),
			want: []string{"session.started s1"}},
		{name: "started_at that does not parse", session: func() *Session { s := liveSession("s1", 3, 1); s.StartedAt = "soon"; return s }(),
			want: []string{"session.started s1"}},
		{name: "a snapshot from before BaselineAt existed", session: startedAtTime(liveSession("s1", 3, 1), baseline.Add(-time.Hour)),
			prev: func(s Snapshot) Snapshot { s.BaselineAt = time.Time{}; return s },
			want: []string{"session.started s1"}},
		{name: "the session that ended last, back", session: startedAtTime(liveSession("s1", 3, 1), baseline.Add(-time.Hour)),
			prev: func(s Snapshot) Snapshot { s.LastEndedSessionID = "s1"; return s },
			want: []string{"session.started s1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, _ := applyChecked(t, Snapshot{}, noSessionObs(600), testRules)
			if !prev.BaselineAt.Equal(baseline) {
				t.Fatalf("baseline_at %v; want %v", prev.BaselineAt, baseline)
			}
			if tt.prev != nil {
				prev = tt.prev(prev)
			}
			next, evs := applyChecked(t, prev, sessionObs(630, tt.session), testRules)
			if diff := cmp.Diff(tt.want, lines(evs)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if next.Session == nil || next.Session.ID != "s1" || !next.SessionSeenAt.Equal(at(630)) || !next.BaselineAt.Equal(prev.BaselineAt) {
				t.Errorf("snapshot %+v; want s1 seen at the poll, the baseline kept", next)
			}
			if tt.want != nil {
				return
			}
			// Armed as at a baseline: the thresholds it is past fire on the
			// way down, never up; the minutes one not again.
			if diff := cmp.Diff([]int{50, 100}, next.ParticipantsUp); diff != "" {
				t.Errorf("participants up (-want +got):\n%s", diff)
			}
			down := *tt.session
			down.LiveParticipants, down.MinutesConsumed = 10, 800
			_, evs = applyChecked(t, next, sessionObs(660, &down), testRules)
			if diff := cmp.Diff([]string{"participants.threshold_crossed s1 down 100", "participants.threshold_crossed s1 down 50"}, lines(evs)); diff != "" {
				t.Errorf("after the late baseline (-want +got):\n%s", diff)
			}
		})
	}
}
