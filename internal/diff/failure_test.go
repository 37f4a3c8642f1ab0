package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFailureNeverChangesSessionState(t *testing.T) {
	// Every stored state a failure can meet, including one with thresholds
	// crossed and one never baselined.
	withSession, _ := play(t, testRules, Snapshot{},
		sessionObs(0, liveSession("s1", 10, 0)),
		sessionObs(30, liveSession("s1", 120, 700)),
	)
	noSession, _ := play(t, testRules, Snapshot{}, noSessionObs(0))
	prevs := map[string]Snapshot{
		"never baselined": {},
		"no session":      noSession,
		"live session":    withSession,
	}
	failures := map[string]Observation{
		"server":                   failureObs(60, FailureServer, 503),
		"auth":                     failureObs(60, FailureAuth, 401),
		"rate limited":             failureObs(60, FailureRateLimited, 429),
		"no details":               {Kind: ObservedFailure, At: at(60)},
		"session kind, no session": {Kind: ObservedSession, At: at(60)},
		"unknown kind":             {Kind: 0, At: at(60)},
		"failure carrying a final": {Kind: ObservedFailure, At: at(60), Failure: &Failure{Kind: FailureNetwork}, Final: endedSession("s1", 5)},
	}
	sessionState := cmpopts.IgnoreFields(Snapshot{}, "Meeting", "Sequence", "ConsecutiveFailures", "FirstFailureAt", "Failing", "LastError")
	for pname, prev := range prevs {
		for fname, obs := range failures {
			t.Run(pname+"/"+fname, func(t *testing.T) {
				next, evs := applyChecked(t, prev, obs, testRules)
				if diff := cmp.Diff(prev, next, sessionState); diff != "" {
					t.Errorf("failure changed the session state (-prev +next):\n%s", diff)
				}
				for _, e := range evs {
					if e.Type != TypeWatchFailing {
						t.Errorf("failure emitted %s", e.Type)
					}
				}
				if next.ConsecutiveFailures != prev.ConsecutiveFailures+1 {
					t.Errorf("consecutive failures = %d, want %d", next.ConsecutiveFailures, prev.ConsecutiveFailures+1)
				}
			})
		}
	}
}

func TestFailureBookkeeping(t *testing.T) {
	prev, _ := applyChecked(t, Snapshot{}, sessionObs(0, liveSession("s1", 1, 0)), testRules)
	next, evs := play(t, testRules, prev,
		failureObs(30, FailureServer, 503),
		failureObs(60, FailureTimeout, 0),
		failureObs(90, FailureNetwork, 0),
	)
	want := prev
	want.ConsecutiveFailures = 3
	want.FirstFailureAt = at(30)
	want.LastError = "network: boom"
	want.Failing = true
	want.Sequence = 1
	if diff := cmp.Diff(want, next); diff != "" {
		t.Errorf("snapshot after 3 failures (-want +got):\n%s", diff)
	}
	got := evs[2]
	wantEv := []Event{{
		Type: TypeWatchFailing, Timestamp: at(90),
		Data: EventData{
			ID: got[0].Data.ID, Sequence: 1,
			Watch: testMeeting.Watch, AccountID: testMeeting.AccountID, AppID: testMeeting.AppID, MeetingID: testMeeting.MeetingID,
			MeetingDisplayName: "Town hall s1", SessionID: "s1",
			Error: "network: boom", ConsecutiveFailures: ptr(3),
		},
	}}
	if diff := cmp.Diff(wantEv, got); diff != "" {
		t.Errorf("watch.failing (-want +got):\n%s", diff)
	}

	// Recovery: failed_for_seconds from the first failure of the run.
	rec, evs2 := applyChecked(t, next, Observation{Kind: ObservedSession, At: at(30).Add(125*time.Second + 900*time.Millisecond), Session: liveSession("s1", 1, 0)}, testRules)
	if len(evs2) != 1 || evs2[0].Type != TypeWatchRecovered {
		t.Fatalf("got %v, want watch.recovered", briefs(evs2))
	}
	if diff := cmp.Diff(ptr(int64(125)), evs2[0].Data.FailedForSeconds); diff != "" {
		t.Errorf("failed_for_seconds (-want +got):\n%s", diff)
	}
	if rec.ConsecutiveFailures != 0 || !rec.FirstFailureAt.IsZero() || rec.LastError != "" || rec.Failing {
		t.Errorf("recovery left failure state: %+v", rec)
	}
	if rec.Sequence != 2 || evs2[0].Data.Sequence != 2 {
		t.Errorf("sequence = %d (event %d), want 2", rec.Sequence, evs2[0].Data.Sequence)
	}
}

func TestFailingData(t *testing.T) {
	tests := []struct {
		name    string
		failure *Failure
		want    EventData
	}{
		{"status code", &Failure{Kind: FailureAuth, StatusCode: 403, Message: "forbidden"},
			EventData{Error: "auth: forbidden", StatusCode: ptr(403), ConsecutiveFailures: ptr(1)}},
		{"no status code", &Failure{Kind: FailureAuth},
			EventData{Error: "auth", ConsecutiveFailures: ptr(1)}},
		{"no kind", &Failure{StatusCode: 401, Message: "who?"},
			EventData{Error: "unknown: who?", StatusCode: ptr(401), ConsecutiveFailures: ptr(1)}},
	}
	ignore := cmpopts.IgnoreFields(EventData{}, "ID", "Sequence", "Watch", "AccountID", "AppID", "MeetingID")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := applyChecked(t, Snapshot{}, Observation{Kind: ObservedFailure, At: at(0), Failure: tc.failure}, testRules)
			if len(evs) != 1 {
				t.Fatalf("got %v, want one watch.failing", briefs(evs))
			}
			if diff := cmp.Diff(tc.want, evs[0].Data, ignore); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedObservationsAreDecodeFailures(t *testing.T) {
	tests := []struct {
		name string
		obs  Observation
		want string
	}{
		{"session kind without session", Observation{Kind: ObservedSession, At: at(0)}, "decode: session observation without a session"},
		{"zero kind", Observation{At: at(0)}, "decode: unknown observation kind 0"},
		{"unknown kind", Observation{Kind: 7, At: at(0), Session: liveSession("s1", 1, 0)}, "decode: unknown observation kind 7"},
		{"failure without details", Observation{Kind: ObservedFailure, At: at(0)}, "decode: failure observation without details"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, _ := applyChecked(t, Snapshot{}, tc.obs, Rules{FailingAfter: 5})
			if next.LastError != tc.want || next.ConsecutiveFailures != 1 || next.Baselined {
				t.Errorf("snapshot = %+v; want last_error %q, one failure, not baselined", next, tc.want)
			}
		})
	}
}

func TestFailingAfterBelowOneMeansOne(t *testing.T) {
	for _, n := range []int{0, -3, 1} {
		_, evs := applyChecked(t, Snapshot{}, failureObs(0, FailureServer, 500), Rules{FailingAfter: n})
		if diff := cmp.Diff([]brief{{Type: TypeWatchFailing, Seq: 1}}, briefs(evs)); diff != "" {
			t.Errorf("failing_after %d (-want +got):\n%s", n, diff)
		}
	}
}

func TestRecoveredWithoutFirstFailureTime(t *testing.T) {
	// A snapshot that says failing but lost its start time still recovers.
	prev := Snapshot{Baselined: true, Failing: true, ConsecutiveFailures: 4}
	_, evs := applyChecked(t, prev, noSessionObs(10), testRules)
	if len(evs) != 1 || *evs[0].Data.FailedForSeconds != 0 {
		t.Errorf("got %v, want watch.recovered with failed_for_seconds 0", briefs(evs))
	}
}
