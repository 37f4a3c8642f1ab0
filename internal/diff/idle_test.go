package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func idleAt(seq uint64, id string) brief {
	return brief{Type: TypeSessionIdle, Seq: seq, SessionID: id}
}

func TestIdle(t *testing.T) {
	r := Rules{Idle: IdleRule{Participants: 0, For: 15 * time.Minute}, FailingAfter: 3}
	bound2 := Rules{Idle: IdleRule{Participants: 2, For: 15 * time.Minute}, FailingAfter: 3}
	off := Rules{FailingAfter: 3}
	live := func(n int, participants int) Observation { return sessionObs(n, liveSession("s1", participants, 7)) }
	tests := []struct {
		name      string
		steps     []ruledStep
		wantSince time.Time
		wantDone  bool
	}{
		{
			name: "fires after exactly for, not a second before, once",
			steps: []ruledStep{
				{rules: r, obs: live(0, 3)},
				{rules: r, obs: live(100, 0)},
				{rules: r, obs: live(999, 0)},
				{rules: r, obs: live(1000, 0), want: []brief{idleAt(1, "s1")}},
				{rules: r, obs: live(5000, 0)},
			},
			wantSince: at(100), wantDone: true,
		},
		{
			name: "at the bound is idle, one above is not",
			steps: []ruledStep{
				{rules: bound2, obs: live(0, 3)},
				{rules: bound2, obs: live(100, 2)},
				{rules: bound2, obs: live(500, 3)},
				{rules: bound2, obs: live(1000, 2)},
				{rules: bound2, obs: live(1899, 1)},
				{rules: bound2, obs: live(1900, 2), want: []brief{idleAt(1, "s1")}},
			},
			wantSince: at(1000), wantDone: true,
		},
		{
			name: "rising above the bound re-arms it",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: live(900, 0), want: []brief{idleAt(1, "s1")}},
				{rules: r, obs: live(960, 1)},
				{rules: r, obs: live(1020, 0)},
				{rules: r, obs: live(1919, 0)},
				{rules: r, obs: live(1920, 0), want: []brief{idleAt(2, "s1")}},
			},
			wantSince: at(1020), wantDone: true,
		},
		{
			name: "the baseline starts a stretch silently",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: live(900, 0), want: []brief{idleAt(1, "s1")}},
			},
			wantSince: at(0), wantDone: true,
		},
		{
			name: "a failed poll does not end a stretch",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: failureObs(450, FailureServer, 503)},
				{rules: r, obs: live(900, 0), want: []brief{idleAt(1, "s1")}},
			},
			wantSince: at(0), wantDone: true,
		},
		{
			name: "a failed poll does not start a stretch",
			steps: []ruledStep{
				{rules: r, obs: live(0, 5)},
				{rules: r, obs: failureObs(100, FailureServer, 503)},
				{rules: r, obs: live(200, 0)},
				{rules: r, obs: live(1099, 0)},
				{rules: r, obs: live(1100, 0), want: []brief{idleAt(1, "s1")}},
			},
			wantSince: at(200), wantDone: true,
		},
		{
			name: "remembered across a restart",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: live(900, 0), want: []brief{idleAt(1, "s1")}},
				{rules: r, obs: live(1200, 0), roundTrip: true},
			},
			wantSince: at(0), wantDone: true,
		},
		{
			name: "an ended session ends its stretch; the next starts its own",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: noSessionObs(600), want: []brief{ended(1, "s1")}},
				{rules: r, obs: live(700, 0), want: []brief{started(2, "s1")}},
				{rules: r, obs: live(1599, 0)},
				{rules: r, obs: live(1600, 0), want: []brief{idleAt(3, "s1")}},
			},
			wantSince: at(700), wantDone: true,
		},
		{
			name: "an id change starts over",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: r, obs: sessionObs(900, liveSession("s2", 0, 0)), want: []brief{ended(1, "s1"), started(2, "s2")}},
			},
			wantSince: at(900),
		},
		{
			name: "a rule added by a reload starts at the next observation",
			steps: []ruledStep{
				{rules: off, obs: live(0, 0)},
				{rules: off, obs: live(900, 0)},
				{rules: r, obs: live(1000, 0)},
				{rules: r, obs: live(1899, 0)},
				{rules: r, obs: live(1900, 0), want: []brief{idleAt(1, "s1")}},
			},
			wantSince: at(1000), wantDone: true,
		},
		{
			name: "a rule removed forgets the stretch",
			steps: []ruledStep{
				{rules: r, obs: live(0, 0)},
				{rules: off, obs: live(900, 0)},
			},
		},
		{
			name: "no session, no stretch",
			steps: []ruledStep{
				{rules: r, obs: noSessionObs(0)},
				{rules: r, obs: noSessionObs(2000)},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRuled(t, Snapshot{}, tc.steps)
			if !got.IdleSince.Equal(tc.wantSince) || got.IdleReported != tc.wantDone {
				t.Errorf("idle since %v, reported %v; want %v, %v", got.IdleSince, got.IdleReported, tc.wantSince, tc.wantDone)
			}
		})
	}
}

func TestIdleData(t *testing.T) {
	r := Rules{Idle: IdleRule{Participants: 1, For: time.Minute}}
	prev, _ := play(t, r, Snapshot{}, sessionObs(0, liveSession("s1", 4, 10)), sessionObs(30, liveSession("s1", 1, 11)))
	cur := liveSession("s1", 0, 12.5)
	_, evs := applyChecked(t, prev, sessionObs(95, cur), r)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	d := evs[0].Data
	want := EventData{
		ID: d.ID, Sequence: 1, Watch: testMeeting.Watch, AccountID: testMeeting.AccountID, AppID: testMeeting.AppID,
		MeetingID: testMeeting.MeetingID, MeetingDisplayName: cur.MeetingDisplayName, SessionID: "s1",
		Previous: prev.Session, Current: cur, IdleSeconds: ptr(int64(65)), LiveParticipants: ptr(0), MinutesConsumed: ptr(12.5),
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}
