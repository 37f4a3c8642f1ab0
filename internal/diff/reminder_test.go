package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFailingReminders(t *testing.T) {
	hourly := healthRulesOf(1, 0, 0, time.Hour)
	runHealthTable(t, []healthCase{
		{name: "due exactly remind_every after watch.failing, not a second before", rules: hourly,
			polls: "FFFFF", seconds: []int{0, 3599, 3600, 7199, 7200}, want: "F.r.r"},
		{name: "counted from the last reminder, not from watch.failing", rules: hourly,
			polls: "FFFF", seconds: []int{0, 5000, 8599, 8600}, want: "Fr.r"},
		{name: "none after watch.recovered; a new run counts afresh", rules: hourly,
			polls: "FFGFFF", seconds: []int{0, 3600, 3700, 3800, 7399, 7400}, want: "FrRF.r"},
		{name: "none before watch.failing", rules: healthRulesOf(3, 0, 0, time.Hour),
			polls: "FFFFF", seconds: []int{0, 4000, 8000, 11599, 11600}, want: "..F.r"},
		{name: "none at the good polls of a recovery run: at the next failure", rules: healthRulesOf(1, 0, 3, time.Hour),
			polls: "FGGFGGG", seconds: []int{0, 3600, 3700, 3800, 3900, 4000, 4100}, want: "F..r..R"},
		{name: "none after a recovery run ends the run", rules: healthRulesOf(1, 0, 3, time.Hour),
			polls: "FGGGF", seconds: []int{0, 3600, 3700, 3800, 7500}, want: "F..RF"},
		{name: "of an authentication failure", rules: healthRulesOf(3, 0, 0, time.Hour),
			polls: "AAA", seconds: []int{0, 3599, 3600}, want: "F.r"},
		{name: "of a watch.failing by ratio", rules: healthRulesOf(10, 0.5, 3, time.Hour),
			polls: "FGFGFGFGFFF", seconds: []int{0, 30, 60, 90, 120, 150, 180, 210, 240, 3839, 3840}, want: "........F.r"},
		{name: "off by default", rules: healthRulesOf(1, 0, 0, 0),
			polls: "FFF", seconds: []int{0, 3600, 86400}, want: "F.."},
	})
}

// markStep is one step of a table whose rules may change between steps, as
// a reload changes them.
type markStep struct {
	rules Rules
	obs   Observation
	want  string // the marks of its events (see healthMarks)
}

// playMarks applies steps in turn from the zero snapshot and fails at the
// first whose events differ from its mark. It returns the last snapshot and
// every event.
func playMarks(t *testing.T, steps []markStep) (Snapshot, []Event) {
	t.Helper()
	var s Snapshot
	var all []Event
	for i, st := range steps {
		var evs []Event
		s, evs = applyChecked(t, s, st.obs, st.rules)
		if got := healthMarks([][]Event{evs}); got != st.want {
			t.Fatalf("step %d: %s (%v), want %s", i, got, briefs(evs), st.want)
		}
		all = append(all, evs...)
	}
	return s, all
}

func TestRemindersTurnedOnAndOff(t *testing.T) {
	off, on := healthRulesOf(1, 0, 0, 0), healthRulesOf(1, 0, 0, time.Hour)
	fail := func(n int) Observation { return failureObs(n, FailureServer, 503) }
	s, _ := playMarks(t, []markStep{
		{off, fail(0), "F"},
		{on, fail(7200), "."}, // turned on: counts from here
		{on, fail(10799), "."},
		{on, fail(10800), "r"},
		{off, fail(14400), "."}, // turned off: stops
		{on, fail(18000), "."},
		{on, fail(21600), "r"},
		{off, fail(21630), "."},
	})
	if !s.RemindedAt.IsZero() {
		t.Errorf("reminded at %v with reminders off; want zero", s.RemindedAt)
	}
}

func TestIdleReminders(t *testing.T) {
	r := Rules{Idle: IdleRule{Participants: 0, For: 15 * time.Minute}, FailingAfter: 3, RemindEvery: time.Hour}
	quietRules := r
	quietRules.RemindEvery = 0
	live := func(n, participants int) Observation { return sessionObs(n, liveSession("s1", participants, 7)) }
	other := func(n int) Observation { return sessionObs(n, liveSession("s2", 0, 7)) }
	tests := []struct {
		name  string
		steps []markStep
	}{
		{"due exactly remind_every after session.idle, not a second before", []markStep{
			{r, live(0, 0), "."}, {r, live(900, 0), "I"},
			{r, live(4499, 0), "."}, {r, live(4500, 0), "i"},
			{r, live(8099, 0), "."}, {r, live(8100, 0), "i"},
		}},
		{"counted from the last reminder", []markStep{
			{r, live(0, 0), "."}, {r, live(900, 0), "I"}, {r, live(5000, 0), "i"},
			{r, live(8599, 0), "."}, {r, live(8600, 0), "i"},
		}},
		{"none after the stretch ends; the next stretch idles anew", []markStep{
			{r, live(0, 0), "."}, {r, live(900, 0), "I"}, {r, live(4500, 0), "i"},
			{r, live(4600, 1), "."}, {r, live(4700, 0), "."}, {r, live(5599, 0), "."}, {r, live(5600, 0), "I"},
			{r, live(9199, 0), "."}, {r, live(9200, 0), "i"},
		}},
		{"none after the session ends; the next session idles anew", []markStep{
			{r, live(0, 0), "."}, {r, live(900, 0), "I"},
			{r, noSessionObs(4500), "?"}, {r, other(8100), "?"}, {r, other(9000), "I"}, {r, other(12600), "i"},
		}},
		{"a failed poll never reminds of idle; the next observation does", []markStep{
			{r, live(0, 0), "."}, {r, live(900, 0), "I"},
			{r, failureObs(4500, FailureServer, 503), "."}, {r, live(4600, 0), "i"},
		}},
		{"off by default", []markStep{
			{quietRules, live(0, 0), "."}, {quietRules, live(900, 0), "I"},
			{quietRules, live(4500, 0), "."}, {quietRules, live(90000, 0), "."},
		}},
		{"turned on while idle: counted from the next observation", []markStep{
			{quietRules, live(0, 0), "."}, {quietRules, live(900, 0), "I"},
			{r, live(4500, 0), "."}, {r, live(8099, 0), "."}, {r, live(8100, 0), "i"},
			{quietRules, live(11700, 0), "."},
		}},
		{"idle and failing remind apart", []markStep{
			{healthRulesOfIdle(r, 1), live(0, 0), "."}, {healthRulesOfIdle(r, 1), live(900, 0), "I"},
			{healthRulesOfIdle(r, 1), failureObs(1000, FailureServer, 503), "F"},
			{healthRulesOfIdle(r, 1), failureObs(4599, FailureServer, 503), "."},
			{healthRulesOfIdle(r, 1), failureObs(4600, FailureServer, 503), "r"},
			{healthRulesOfIdle(r, 1), live(4700, 0), "(Ri)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := playMarks(t, tc.steps)
			if r := tc.steps[len(tc.steps)-1].rules; r.RemindEvery == 0 && !s.IdleRemindedAt.IsZero() {
				t.Errorf("idle reminded at %v with reminders off; want zero", s.IdleRemindedAt)
			}
		})
	}
}

// healthRulesOfIdle returns r failing after failingAfter failures.
func healthRulesOfIdle(r Rules, failingAfter int) Rules {
	r.FailingAfter = failingAfter
	return r
}

func TestReminderData(t *testing.T) {
	rules := Rules{Idle: IdleRule{Participants: 0, For: 15 * time.Minute}, FailingAfter: 1, RemindEvery: time.Hour}
	quiet := liveSession("s1", 0, 7)
	prev, steps := play(t, rules, Snapshot{},
		sessionObs(0, liveSession("s1", 4, 5)),
		sessionObs(100, quiet),
		sessionObs(1000, quiet),              // session.idle
		failureObs(1100, FailureServer, 503), // watch.failing
		failureObs(4700, FailureTimeout, 0),  // its reminder
		failureObs(4730, FailureServer, 502), // nothing
		sessionObs(4800, quiet),              // watch.recovered, then the idle reminder
	)
	idle, failing, failReminder, both := steps[2][0], steps[3][0], steps[4][0], steps[6]
	if got := healthMarks([][]Event{steps[4], both}); got != "r(Ri)" {
		t.Fatalf("marks %s, want r(Ri)", got)
	}
	idleReminder := both[1]

	// A reminder is its event again, with reminder, its own id and
	// sequence, and the numbers of the poll at hand.
	wantFail := failing.Data
	wantFail.ID, wantFail.Sequence, wantFail.Reminder = failReminder.Data.ID, 3, true
	wantFail.StatusCode, wantFail.ConsecutiveFailures, wantFail.Error = nil, ptr(2), "timeout: boom"
	if diff := cmp.Diff(wantFail, failReminder.Data); diff != "" {
		t.Errorf("reminder of watch.failing (-want +got):\n%s", diff)
	}
	wantIdle := idle.Data
	wantIdle.ID, wantIdle.Sequence, wantIdle.Reminder = idleReminder.Data.ID, 5, true
	wantIdle.IdleSeconds = ptr(int64(4700))
	if diff := cmp.Diff(wantIdle, idleReminder.Data); diff != "" {
		t.Errorf("reminder of session.idle (-want +got):\n%s", diff)
	}
	if idle.Data.Reminder || failing.Data.Reminder {
		t.Error("the first session.idle or watch.failing is marked as a reminder")
	}
	if failReminder.Data.ID == failing.Data.ID || idleReminder.Data.ID == idle.Data.ID {
		t.Error("a reminder has the id of the event it repeats")
	}
	if !prev.IdleRemindedAt.Equal(at(4800)) || !prev.RemindedAt.IsZero() {
		t.Errorf("idle reminded at %v, failing reminded at %v; want %v and zero", prev.IdleRemindedAt, prev.RemindedAt, at(4800))
	}
}

func TestReminderIDsAreRecomputed(t *testing.T) {
	// A crash between Apply and the commit makes the daemon apply the same
	// observation to the same snapshot again: the reminder keeps its id.
	rules := healthRulesOf(1, 0, 0, time.Hour)
	prev, _ := play(t, rules, Snapshot{}, failureObs(0, FailureServer, 503), failureObs(3600, FailureServer, 503))
	_, first := applyChecked(t, prev, failureObs(7200, FailureServer, 503), rules)
	_, again := applyChecked(t, roundTripJSON(t, prev), failureObs(7200, FailureServer, 503), rules)
	if len(first) != 1 || !first[0].Data.Reminder {
		t.Fatalf("got %v, want a reminder", briefs(first))
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("recomputed reminder (-first +again):\n%s", diff)
	}
	// Even at the same sequence number and time, a reminder's id is not
	// the event's it repeats.
	if eventID(testMeeting, 2, TypeWatchFailing, "s1", at(0), noThreshold) ==
		eventID(testMeeting, 2, TypeWatchFailing, reminderSubject("s1"), at(0), noThreshold) {
		t.Error("a reminder's id equals its event's")
	}
}

// TestGoldenReminders pins the JSON of a reminder of watch.failing, of
// session.idle and of a list's watch.failing. Refresh with
// go test ./internal/diff -run Golden -update.
func TestGoldenReminders(t *testing.T) {
	rules := Rules{Idle: IdleRule{Participants: 0, For: 15 * time.Minute}, FailingAfter: 2, RemindEvery: time.Hour}
	s1 := liveSession("b0b0e1a5-0000-4000-8000-000000000001", 3, 590)
	quiet := *s1
	quiet.LiveParticipants, quiet.MinutesConsumed = 0, 640
	later := quiet
	later.MinutesConsumed = 760
	_, steps := play(t, rules, Snapshot{},
		sessionObs(2400, s1),
		sessionObs(3000, &quiet),
		sessionObs(3900, &quiet), // session.idle
		sessionObs(7500, &later), // its reminder
		failureObs(7530, FailureServer, 502),
		failureObs(7560, FailureServer, 503), // watch.failing
		failureObs(11160, FailureTimeout, 0), // its reminder
	)
	mr := MediaRules{FailingAfter: 1, RemindEvery: time.Hour}
	rs, _, _ := ApplyRecordings(testWatch, MediaState{}, recFailure(0, FailureServer, 502), mr)
	_, recs, _ := ApplyRecordings(testWatch, rs, recFailure(3600, FailureRateLimited, 429), mr)
	for name, evs := range map[string][]Event{
		"session.idle.reminder":             steps[3],
		"watch.failing.reminder":            steps[6],
		"watch.failing.recordings.reminder": recs,
	} {
		t.Run(name, func(t *testing.T) {
			if len(evs) != 1 || !evs[0].Data.Reminder {
				t.Fatalf("got %v, want one reminder", briefs(evs))
			}
			checkGolden(t, name, evs[0])
		})
	}
}
