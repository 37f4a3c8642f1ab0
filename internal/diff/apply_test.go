package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApplyScenarios(t *testing.T) {
	type step struct {
		obs  Observation
		want []brief
	}
	failing := func(seq uint64, id string) brief { return brief{Type: TypeWatchFailing, Seq: seq, SessionID: id} }
	recovered := func(seq uint64, id string) brief { return brief{Type: TypeWatchRecovered, Seq: seq, SessionID: id} }

	tests := []struct {
		name  string
		steps []step
	}{
		{"baseline without session", []step{
			{noSessionObs(0), nil},
			{noSessionObs(30), nil},
		}},
		{"baseline live session", []step{
			{sessionObs(0, liveSession("s1", 10, 5)), nil},
			{sessionObs(30, liveSession("s1", 12, 6)), nil},
		}},
		{"baseline ENDED session counts as none", []step{
			{sessionObs(0, endedSession("s1", 10)), nil},
			{noSessionObs(30), nil},
			{sessionObs(60, liveSession("s2", 1, 0)), []brief{started(1, "s2")}},
		}},
		{"baseline above thresholds fires nothing now and down later", []step{
			{sessionObs(0, liveSession("s1", 120, 700)), nil},
			{sessionObs(30, liveSession("s1", 130, 800)), nil},
			{sessionObs(60, liveSession("s1", 44, 900)), []brief{downAt(1, "s1", 100), downAt(2, "s1", 50)}},
			{sessionObs(90, liveSession("s1", 50, 1300)), []brief{upAt(3, "s1", 50), minutesAt(4, "s1", 1200)}},
		}},
		{"started", []step{
			{noSessionObs(0), nil},
			{sessionObs(30, liveSession("s1", 3, 0)), []brief{started(1, "s1")}},
			{sessionObs(60, liveSession("s1", 4, 1)), nil},
		}},
		{"started with thresholds already crossed", []step{
			{noSessionObs(0), nil},
			{sessionObs(30, liveSession("s1", 60, 700)), []brief{started(1, "s1"), upAt(2, "s1", 50), minutesAt(3, "s1", 600)}},
		}},
		{"ended on 404", []step{
			{sessionObs(0, liveSession("s1", 60, 0)), nil},
			{noSessionObs(30), []brief{ended(1, "s1")}},
			{noSessionObs(60), nil},
		}},
		{"ended on ENDED", []step{
			{sessionObs(0, liveSession("s1", 60, 0)), nil},
			{sessionObs(30, endedSession("s1", 20)), []brief{ended(1, "s1")}},
			{sessionObs(60, endedSession("s1", 20)), nil},
		}},
		{"ENDED with another id ends the stored session only", []step{
			{sessionObs(0, liveSession("s1", 60, 0)), nil},
			{sessionObs(30, endedSession("s2", 20)), []brief{ended(1, "s1")}},
		}},
		{"unknown status counts as not live", []step{
			{sessionObs(0, liveSession("s1", 60, 0)), nil},
			{sessionObs(30, func() *Session { s := liveSession("s1", 60, 0); s.Status = "PAUSED"; return s }()), []brief{ended(1, "s1")}},
		}},
		{"lowercase live is live", []step{
			{noSessionObs(0), nil},
			{sessionObs(30, func() *Session { s := liveSession("s1", 1, 0); s.Status = "live"; return s }()), []brief{started(1, "s1")}},
		}},
		{"id change is ended then started then thresholds", []step{
			{sessionObs(0, liveSession("s1", 60, 700)), nil},
			{sessionObs(30, liveSession("s2", 120, 0)), []brief{
				ended(1, "s1"), started(2, "s2"), upAt(3, "s2", 50), upAt(4, "s2", 100),
			}},
		}},
		{"several up crossings at once", []step{
			{sessionObs(0, liveSession("s1", 10, 0)), nil},
			{sessionObs(30, liveSession("s1", 100, 0)), []brief{upAt(1, "s1", 50), upAt(2, "s1", 100)}},
			{sessionObs(60, liveSession("s1", 500, 0)), nil},
			{sessionObs(90, liveSession("s1", 0, 0)), []brief{downAt(3, "s1", 100), downAt(4, "s1", 50)}},
		}},
		{"down only below threshold minus hysteresis, then re-arm", []step{
			{sessionObs(0, liveSession("s1", 10, 0)), nil},
			{sessionObs(30, liveSession("s1", 50, 0)), []brief{upAt(1, "s1", 50)}},
			{sessionObs(60, liveSession("s1", 49, 0)), nil},
			{sessionObs(90, liveSession("s1", 45, 0)), nil},
			{sessionObs(120, liveSession("s1", 44, 0)), []brief{downAt(2, "s1", 50)}},
			{sessionObs(150, liveSession("s1", 49, 0)), nil},
			{sessionObs(180, liveSession("s1", 50, 0)), []brief{upAt(3, "s1", 50)}},
			{sessionObs(210, liveSession("s1", 50, 0)), nil},
		}},
		{"end forgets thresholds without down events", []step{
			{sessionObs(0, liveSession("s1", 10, 0)), nil},
			{sessionObs(30, liveSession("s1", 60, 0)), []brief{upAt(1, "s1", 50)}},
			{noSessionObs(60), []brief{ended(2, "s1")}},
			{sessionObs(90, liveSession("s2", 55, 0)), []brief{started(3, "s2"), upAt(4, "s2", 50)}},
		}},
		{"minutes once per session and again for a new one", []step{
			{sessionObs(0, liveSession("s1", 1, 0)), nil},
			{sessionObs(30, liveSession("s1", 1, 600)), []brief{minutesAt(1, "s1", 600)}},
			{sessionObs(60, liveSession("s1", 1, 700)), nil},
			{sessionObs(90, liveSession("s1", 1, 1300)), []brief{minutesAt(2, "s1", 1200)}},
			{sessionObs(120, liveSession("s1", 1, 1400)), nil},
			{noSessionObs(150), []brief{ended(3, "s1")}},
			{sessionObs(180, liveSession("s2", 1, 10)), []brief{started(4, "s2")}},
			{sessionObs(210, liveSession("s2", 1, 650)), []brief{minutesAt(5, "s2", 600)}},
		}},
		{"failing after N, once per run, then recovered", []step{
			{sessionObs(0, liveSession("s1", 1, 0)), nil},
			{failureObs(30, FailureServer, 503), nil},
			{failureObs(60, FailureTimeout, 0), nil},
			{failureObs(90, FailureNetwork, 0), []brief{failing(1, "s1")}},
			{failureObs(120, FailureServer, 500), nil},
			{failureObs(150, FailureAuth, 401), nil},
			{sessionObs(180, liveSession("s1", 1, 0)), []brief{recovered(2, "s1")}},
			{failureObs(210, FailureServer, 502), nil},
			{sessionObs(240, liveSession("s1", 1, 0)), nil},
		}},
		{"auth failure at once", []step{
			{noSessionObs(0), nil},
			{failureObs(30, FailureAuth, 401), []brief{failing(1, "")}},
			{failureObs(60, FailureAuth, 401), nil},
			{noSessionObs(90), []brief{recovered(2, "")}},
		}},
		{"403 status at once whatever the kind", []step{
			{noSessionObs(0), nil},
			{failureObs(30, FailureClient, 403), []brief{failing(1, "")}},
		}},
		{"recovered then session transition in one step", []step{
			{sessionObs(0, liveSession("s1", 1, 0)), nil},
			{failureObs(30, FailureAuth, 403), []brief{failing(1, "s1")}},
			{noSessionObs(60), []brief{recovered(2, "s1"), ended(3, "s1")}},
		}},
		{"failures before the baseline", []step{
			{failureObs(0, FailureNetwork, 0), nil},
			{failureObs(30, FailureNetwork, 0), nil},
			{failureObs(60, FailureNetwork, 0), []brief{failing(1, "")}},
			{sessionObs(90, liveSession("s1", 80, 0)), []brief{recovered(2, "")}},
			{sessionObs(120, liveSession("s1", 80, 0)), nil},
		}},
		{"failure between polls of one session changes nothing", []step{
			{sessionObs(0, liveSession("s1", 10, 0)), nil},
			{failureObs(30, FailureServer, 500), nil},
			{sessionObs(60, liveSession("s1", 60, 0)), []brief{upAt(1, "s1", 50)}},
			{failureObs(90, FailureServer, 500), nil},
			{noSessionObs(120), []brief{ended(2, "s1")}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var snap Snapshot
			for i, st := range tc.steps {
				var evs []Event
				snap, evs = applyChecked(t, snap, st.obs, testRules)
				if diff := cmp.Diff(st.want, briefs(evs)); diff != "" {
					t.Fatalf("step %d events (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestApplyBaselineSnapshot(t *testing.T) {
	known := func(s Snapshot) Snapshot {
		s.KnownParticipants, s.KnownMinutes, s.KnownDuration = []int{50, 100}, []float64{600, 1200}, []int64{}
		s.BaselineAt = at(0)
		return s
	}
	tests := []struct {
		name string
		obs  Observation
		want Snapshot
	}{
		{"none", noSessionObs(0), known(Snapshot{Meeting: testMeeting, Baselined: true, LastGoodPoll: at(0)})},
		{"ENDED", sessionObs(0, endedSession("s1", 0)), known(Snapshot{Meeting: testMeeting, Baselined: true, LastGoodPoll: at(0)})},
		{"live below thresholds", sessionObs(0, liveSession("s1", 10, 5)), known(Snapshot{
			Meeting: testMeeting, Baselined: true, Session: liveSession("s1", 10, 5),
			SessionSeenAt: at(0), LastGoodPoll: at(0),
		})},
		{"live above thresholds", sessionObs(0, liveSession("s1", 120, 700)), known(Snapshot{
			Meeting: testMeeting, Baselined: true, Session: liveSession("s1", 120, 700),
			ParticipantsUp: []int{50, 100}, MinutesReached: []float64{600},
			SessionSeenAt: at(0), LastGoodPoll: at(0),
		})},
		{"live exactly at thresholds", sessionObs(0, liveSession("s1", 100, 1200)), known(Snapshot{
			Meeting: testMeeting, Baselined: true, Session: liveSession("s1", 100, 1200),
			ParticipantsUp: []int{50, 100}, MinutesReached: []float64{600, 1200},
			SessionSeenAt: at(0), LastGoodPoll: at(0),
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, evs := applyChecked(t, Snapshot{}, tc.obs, testRules)
			if len(evs) != 0 {
				t.Errorf("baseline emitted %d events, want none", len(evs))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplySetsMeeting(t *testing.T) {
	prev := Snapshot{Meeting: Meeting{Watch: "old"}, Baselined: true}
	got, _ := Apply(testMeeting, prev, noSessionObs(0), testRules)
	if diff := cmp.Diff(testMeeting, got.Meeting); diff != "" {
		t.Errorf("meeting (-want +got):\n%s", diff)
	}
}

func TestEndsSession(t *testing.T) {
	stored := Snapshot{Baselined: true, Session: liveSession("s1", 5, 0)}
	tests := []struct {
		name   string
		prev   Snapshot
		obs    Observation
		wantID string
		wantOK bool
	}{
		{"404 ends", stored, noSessionObs(1), "s1", true},
		{"ENDED same id ends", stored, sessionObs(1, endedSession("s1", 1)), "s1", true},
		{"other id ends", stored, sessionObs(1, liveSession("s2", 1, 0)), "s1", true},
		{"same id live does not end", stored, sessionObs(1, liveSession("s1", 9, 0)), "", false},
		{"failure does not end", stored, failureObs(1, FailureServer, 500), "", false},
		{"session kind without session does not end", stored, Observation{Kind: ObservedSession}, "", false},
		{"unknown kind does not end", stored, Observation{Kind: 42}, "", false},
		{"nothing stored", Snapshot{Baselined: true}, noSessionObs(1), "", false},
		{"not baselined", Snapshot{Session: liveSession("s1", 5, 0)}, noSessionObs(1), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := EndsSession(tc.prev, tc.obs)
			if id != tc.wantID || ok != tc.wantOK {
				t.Errorf("EndsSession = %q, %v; want %q, %v", id, ok, tc.wantID, tc.wantOK)
			}
			// EndsSession must agree with what Apply does.
			_, evs := Apply(testMeeting, tc.prev, tc.obs, testRules)
			endedByApply := false
			for _, e := range evs {
				if e.Type == TypeSessionEnded {
					endedByApply = e.Data.SessionID == tc.wantID
				}
			}
			if endedByApply != tc.wantOK {
				t.Errorf("Apply ended a session: %v; EndsSession said %v", endedByApply, tc.wantOK)
			}
		})
	}
}
