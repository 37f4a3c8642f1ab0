package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEndedFinalAndDuration(t *testing.T) {
	withStart := func(s *Session, startedAt string) *Session { s.StartedAt = startedAt; return s }
	finalS1 := endedSession("s1", 50)
	finalS2 := endedSession("s2", 50)
	tests := []struct {
		name         string
		stored       *Session // baselined at at(10)
		obs          Observation
		wantFinal    *Session
		wantDuration int64
	}{
		{
			name:         "404 without final: started_at to poll time",
			stored:       liveSession("s1", 5, 0),
			obs:          noSessionObs(90),
			wantDuration: 90,
		},
		{
			name:         "404 with matching final: its ended_at",
			stored:       liveSession("s1", 5, 0),
			obs:          Observation{Kind: ObservedNoSession, At: at(90), Final: finalS1},
			wantFinal:    finalS1,
			wantDuration: 50,
		},
		{
			name:         "final of another session is not attached",
			stored:       liveSession("s1", 5, 0),
			obs:          Observation{Kind: ObservedNoSession, At: at(90), Final: finalS2},
			wantDuration: 90,
		},
		{
			name:         "final with unparsable ended_at: poll time",
			stored:       liveSession("s1", 5, 0),
			obs:          Observation{Kind: ObservedNoSession, At: at(90), Final: func() *Session { s := endedSession("s1", 0); s.EndedAt = "soon"; return s }()},
			wantFinal:    func() *Session { s := endedSession("s1", 0); s.EndedAt = "soon"; return s }(),
			wantDuration: 90,
		},
		{
			name:         "ENDED status: ended_at minus started_at, and the session is the final",
			stored:       liveSession("s1", 5, 0),
			obs:          sessionObs(90, endedSession("s1", 42)),
			wantFinal:    endedSession("s1", 42),
			wantDuration: 42,
		},
		{
			name:         "ENDED status with a final from the list: the list's",
			stored:       liveSession("s1", 5, 0),
			obs:          Observation{Kind: ObservedSession, At: at(90), Session: endedSession("s1", 42), Final: finalS1},
			wantFinal:    finalS1,
			wantDuration: 50,
		},
		{
			name:         "id change: final only for the old id",
			stored:       liveSession("s1", 5, 0),
			obs:          Observation{Kind: ObservedSession, At: at(90), Session: liveSession("s2", 1, 0), Final: finalS1},
			wantFinal:    finalS1,
			wantDuration: 50,
		},
		{
			name:         "unparsable started_at: from when the session was first seen",
			stored:       withStart(liveSession("s1", 5, 0), "yesterday"),
			obs:          noSessionObs(90),
			wantDuration: 80,
		},
		{
			name:         "fractional started_at: whole seconds",
			stored:       withStart(liveSession("s1", 5, 0), at(0).Add(-500*time.Millisecond).Format(time.RFC3339Nano)),
			obs:          noSessionObs(90),
			wantDuration: 90,
		},
		{
			name:         "started_at after the end: zero",
			stored:       withStart(liveSession("s1", 5, 0), at(1000).Format(time.RFC3339)),
			obs:          noSessionObs(90),
			wantDuration: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, _ := applyChecked(t, Snapshot{}, sessionObs(10, tc.stored), testRules)
			_, evs := applyChecked(t, prev, tc.obs, testRules)
			if len(evs) == 0 || evs[0].Type != TypeSessionEnded {
				t.Fatalf("events %v, want session.ended first", briefs(evs))
			}
			d := evs[0].Data
			if diff := cmp.Diff(tc.wantFinal, d.Final); diff != "" {
				t.Errorf("final (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tc.wantDuration, d.DurationSeconds); diff != "" {
				t.Errorf("duration_seconds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stored, d.Previous); diff != "" {
				t.Errorf("previous (-want +got):\n%s", diff)
			}
			if d.Current != nil {
				t.Errorf("current = %+v, want nil", d.Current)
			}
			if d.SessionID != "s1" || d.MeetingDisplayName != tc.stored.MeetingDisplayName {
				t.Errorf("session_id, meeting_display_name = %q, %q; want the ended session's", d.SessionID, d.MeetingDisplayName)
			}
		})
	}
}

func TestStartedData(t *testing.T) {
	prev, _ := applyChecked(t, Snapshot{}, noSessionObs(0), testRules)
	s := liveSession("s1", 3, 1)
	next, evs := applyChecked(t, prev, sessionObs(30, s), testRules)
	want := []Event{{
		Type:      TypeSessionStarted,
		Timestamp: at(30),
		Data: EventData{
			ID: evs[0].Data.ID, Sequence: 1,
			Watch: testMeeting.Watch, AccountID: testMeeting.AccountID, AppID: testMeeting.AppID, MeetingID: testMeeting.MeetingID,
			MeetingDisplayName: s.MeetingDisplayName, SessionID: "s1",
			Current: s,
		},
	}}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantSnap := Snapshot{
		Meeting: testMeeting, Baselined: true, BaselineAt: at(0), Session: s, Sequence: 1,
		SessionSeenAt: at(30), LastGoodPoll: at(30),
		KnownParticipants: []int{50, 100}, KnownMinutes: []float64{600, 1200}, KnownDuration: []int64{},
	}
	if diff := cmp.Diff(wantSnap, next); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if next.Session == s {
		t.Error("snapshot shares the observation's session; want a copy")
	}
}

func TestThresholdData(t *testing.T) {
	first := liveSession("s1", 40, 590)
	prev, _ := applyChecked(t, Snapshot{}, sessionObs(0, first), testRules)
	second := liveSession("s1", 60, 610)
	next, evs := applyChecked(t, prev, sessionObs(30, second), testRules)
	common := EventData{
		Watch: testMeeting.Watch, AccountID: testMeeting.AccountID, AppID: testMeeting.AppID, MeetingID: testMeeting.MeetingID,
		MeetingDisplayName: second.MeetingDisplayName, SessionID: "s1",
		Previous: first, Current: second,
	}
	up := common
	up.ID, up.Sequence = evs[0].Data.ID, 1
	up.Threshold, up.Direction = ptr(50.0), DirectionUp
	up.LiveParticipants, up.PreviousLiveParticipants = ptr(60), ptr(40)
	mins := common
	mins.ID, mins.Sequence = evs[1].Data.ID, 2
	mins.Threshold, mins.MinutesConsumed = ptr(600.0), ptr(610.0)
	want := []Event{
		{Type: TypeParticipantsThreshold, Timestamp: at(30), Data: up},
		{Type: TypeMinutesThreshold, Timestamp: at(30), Data: mins},
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{50}, next.ParticipantsUp); diff != "" {
		t.Errorf("participants_up (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{600}, next.MinutesReached); diff != "" {
		t.Errorf("minutes_reached (-want +got):\n%s", diff)
	}

	// Down: previous_live_participants is the last observation's count.
	third := liveSession("s1", 10, 620)
	_, evs = applyChecked(t, next, sessionObs(60, third), testRules)
	if len(evs) != 1 {
		t.Fatalf("got %v, want one down crossing", briefs(evs))
	}
	d := evs[0].Data
	if d.Direction != DirectionDown || *d.LiveParticipants != 10 || *d.PreviousLiveParticipants != 60 || *d.Threshold != 50 {
		t.Errorf("down crossing data = %+v", d)
	}

	// A new session's first crossing: previous_live_participants 0 and no previous.
	_, evs = lastEvents(t, testRules, noSessionObs(0), sessionObs(30, liveSession("s9", 70, 0)))
	d = evs[1].Data
	if d.Previous != nil || *d.PreviousLiveParticipants != 0 {
		t.Errorf("new session crossing: previous = %v, previous_live_participants = %d; want nil, 0", d.Previous, *d.PreviousLiveParticipants)
	}
}

func TestSameSessionUpdatesNumbers(t *testing.T) {
	prev, _ := applyChecked(t, Snapshot{}, sessionObs(0, liveSession("s1", 10, 1)), testRules)
	later := liveSession("s1", 12, 2)
	later.Meta = []byte(`{"k":1}`)
	next, evs := applyChecked(t, prev, sessionObs(30, later), testRules)
	if len(evs) != 0 {
		t.Errorf("got %v, want no events", briefs(evs))
	}
	want := prev
	want.Session = later
	want.LastGoodPoll = at(30)
	if diff := cmp.Diff(want, next); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
}
