package diff

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkApply measures the common case: the same live session polled
// again with slightly different numbers and no threshold crossed.
func BenchmarkDiff(b *testing.B) {
	prev, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 70, 700)), testRules)
	obs := []Observation{
		sessionObs(30, liveSession("s1", 71, 701)),
		sessionObs(60, liveSession("s1", 69, 702)),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		next, evs := Apply(testMeeting, prev, obs[i%2], testRules)
		if len(evs) != 0 || next.Session.LiveParticipants == 0 {
			b.Fatal("unexpected events")
		}
	}
}

// BenchmarkApplyThresholdCrossing measures a step that crosses a
// participants threshold up and a minutes threshold.
func BenchmarkApplyThresholdCrossing(b *testing.B) {
	prev, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 40, 590)), testRules)
	obs := sessionObs(30, liveSession("s1", 60, 610))
	b.ReportAllocs()
	for b.Loop() {
		if _, evs := Apply(testMeeting, prev, obs, testRules); len(evs) != 2 {
			b.Fatalf("got %d events, want 2", len(evs))
		}
	}
}

// BenchmarkApplySessionChange measures an id change: ended, started and
// two up crossings in one step.
func BenchmarkApplySessionChange(b *testing.B) {
	prev, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 40, 590)), testRules)
	obs := Observation{Kind: ObservedSession, At: at(30), Session: liveSession("s2", 120, 0), Final: endedSession("s1", 20)}
	b.ReportAllocs()
	for b.Loop() {
		if _, evs := Apply(testMeeting, prev, obs, testRules); len(evs) != 4 {
			b.Fatalf("got %d events, want 4", len(evs))
		}
	}
}

// BenchmarkApplyFailure measures a failed poll that emits nothing.
func BenchmarkApplyFailure(b *testing.B) {
	prev, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 40, 590)), testRules)
	obs := failureObs(30, FailureServer, 503)
	b.ReportAllocs()
	for b.Loop() {
		Apply(testMeeting, prev, obs, testRules)
	}
}

// BenchmarkApplyFlapping measures a meeting whose API answers every other
// poll, under failing_ratio, recover_after and remind_every: the window
// moves at every poll, and reminders come every other failure.
func BenchmarkApplyFlapping(b *testing.B) {
	rules := testRules
	rules.FailingRatio, rules.RecoverAfter, rules.RemindEvery = 0.5, 3, time.Minute
	s, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 40, 590)), rules)
	good, bad := sessionObs(0, liveSession("s1", 40, 590)), failureObs(0, FailureServer, 503)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		o := good
		if n%2 == 0 {
			o = bad
		}
		o.At = at(30 * n)
		s, _ = Apply(testMeeting, s, o, rules)
	}
	if !s.Failing {
		b.Fatal("the flapping meeting is not failing")
	}
}

// BenchmarkDiffAllRules is BenchmarkDiff with duration thresholds, an idle
// rule and a price configured as well.
func BenchmarkDiffAllRules(b *testing.B) {
	rules := testRules
	rules.DurationThresholds = []time.Duration{2 * time.Hour, 8 * time.Hour}
	rules.Idle = IdleRule{Participants: 0, For: 15 * time.Minute}
	rules.PricePerParticipantMinute = 0.002
	prev, _ := Apply(testMeeting, Snapshot{}, sessionObs(0, liveSession("s1", 70, 700)), rules)
	obs := []Observation{
		sessionObs(30, liveSession("s1", 71, 701)),
		sessionObs(60, liveSession("s1", 69, 702)),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, evs := Apply(testMeeting, prev, obs[i%2], rules); len(evs) != 0 {
			b.Fatal("unexpected events")
		}
	}
}

// BenchmarkApplyRecordings measures a read of 100 recordings, none of which
// changed.
func BenchmarkApplyRecordings(b *testing.B) {
	var list []Recording
	for i := range 100 {
		list = append(list, rec(fmt.Sprintf("r%03d", i), fmt.Sprintf("m%02d", i%20), RecordingUploaded, i))
	}
	prev, _, _ := ApplyRecordings(testWatch, MediaState{}, recObs(200, list...), MediaRules{})
	obs := recObs(230, list...)
	b.ReportAllocs()
	for b.Loop() {
		if _, evs, _ := ApplyRecordings(testWatch, prev, obs, MediaRules{}); len(evs) != 0 {
			b.Fatal("unexpected events")
		}
	}
}
