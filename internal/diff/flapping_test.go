package diff

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFailingRatio(t *testing.T) {
	// failing_after 10 or more keeps the consecutive rule out of the way.
	half := healthRulesOf(10, 0.5, 0, 0)
	runHealthTable(t, []healthCase{
		{name: "0.5: the 5th failure of the last 10 polls fails", rules: half,
			polls: "FGFGFGFGF", want: "........F"},
		{name: "0.5: 4 failures in every 10 polls never fail", rules: half,
			polls: "FGGFGGFGGFGGFGGFGG", want: ".................."},
		{name: "0.4: the 4th failure of the last 10 polls fails", rules: healthRulesOf(10, 0.4, 0, 0),
			polls: "FGGFGGFGGF", want: ".........F"},
		{name: "0.5: polls not made yet count as good, 4 failures of 4 do not fail", rules: half,
			polls: "FFFF", want: "...."},
		{name: "0.5: 5 failures of 5 polls fail", rules: half,
			polls: "FFFFF", want: "....F"},
		{name: "0.5: a failure counts while it is among the last 10 polls", rules: half,
			polls: "FFFFGGGGGF", want: ".........F"},
		{name: "0.5: a failure 11 polls back counts no more", rules: half,
			polls: "FFFFGGGGGGF", want: "..........."},
		{name: "1: 9 failures of 10 do not fail", rules: healthRulesOf(20, 1, 0, 0),
			polls: "GFFFFFFFFF", want: ".........."},
		{name: "1: 10 failures of 10 fail", rules: healthRulesOf(20, 1, 0, 0),
			polls: "GFFFFFFFFFF", want: "..........F"},
		{name: "0.1: the first failure fails", rules: healthRulesOf(10, 0.1, 0, 0),
			polls: "GF", want: ".F"},
		{name: "an authentication failure still fails at once", rules: half,
			polls: "GA", want: ".F"},
		{name: "failing_after still counts beside a ratio", rules: healthRulesOf(3, 0.5, 0, 0),
			polls: "FFF", want: "..F"},
		{name: "a recovery forgets the run's failures", rules: healthRulesOf(10, 0.5, 0, 0),
			polls: "FFFFFGF", want: "....FR."},
	})
}

func TestRecoverAfter(t *testing.T) {
	three := healthRulesOf(3, 0, 3, 0)
	runHealthTable(t, []healthCase{
		{name: "3: the 3rd good poll in a row recovers", rules: three,
			polls: "FFFGGG", want: "..F..R"},
		{name: "3: 2 good polls in a row do not", rules: three,
			polls: "FFFGG", want: "..F.."},
		{name: "3: a failure in a recovery run starts it again", rules: three,
			polls: "FFFGGFGG", want: "..F....."},
		{name: "3: and the run then needs 3 more", rules: three,
			polls: "FFFGGFGGG", want: "..F.....R"},
		{name: "3: a new run after the recovery fails again", rules: three,
			polls: "FFFGGGFFF", want: "..F..R..F"},
		{name: "an authentication failure in a recovery run tells nothing new", rules: three,
			polls: "AGGAGGG", want: "F.....R"},
		{name: "1 recovers at the first good poll", rules: healthRulesOf(3, 0, 1, 0),
			polls: "FFFG", want: "..FR"},
		{name: "0 means 1", rules: healthRulesOf(3, 0, 0, 0),
			polls: "FFFG", want: "..FR"},
		{name: "one watch.failing and one watch.recovered, however the run got there", rules: healthRulesOf(3, 0.5, 3, 0),
			polls: "FGFGAFFFGGFGGG", want: "....F........R"},
	})
}

// TestFlappingPatterns plays the two patterns of issue 11 with and without
// the options.
func TestFlappingPatterns(t *testing.T) {
	const everyOther = "GFGFGFGFGFGFGFGFGFGF"
	const twoOne = "FFGFFGFFGFFGFFG"
	runHealthTable(t, []healthCase{
		{name: "every other poll: never failing by default", rules: healthRulesOf(3, 0, 0, 0),
			polls: everyOther, want: "...................."},
		{name: "every other poll: recover_after alone changes nothing", rules: healthRulesOf(3, 0, 3, 0),
			polls: everyOther, want: "...................."},
		{name: "every other poll: failing_ratio 0.5 fails at the 5th failure, and again 5 failures after each recovery",
			rules: healthRulesOf(3, 0.5, 0, 0),
			polls: everyOther, want: ".........FR........F"},
		{name: "every other poll: with recover_after 3, one watch.failing", rules: healthRulesOf(3, 0.5, 3, 0),
			polls: everyOther + "GG", want: ".........F............"},
		{name: "every other poll: then 3 good polls recover", rules: healthRulesOf(3, 0.5, 3, 0),
			polls: everyOther + "GGG", want: ".........F............R"},
		{name: "2 failures, 1 success: a pair every 3 polls by default", rules: healthRulesOf(2, 0, 0, 0),
			polls: twoOne, want: ".FR.FR.FR.FR.FR"},
		{name: "2 failures, 1 success: with recover_after 3, one pair", rules: healthRulesOf(2, 0, 3, 0),
			polls: twoOne + "GG", want: ".F..............R"},
		{name: "2 failures, 1 success: failing_after 3 alone never fails", rules: healthRulesOf(3, 0, 0, 0),
			polls: twoOne, want: "..............."},
		{name: "2 failures, 1 success: failing_ratio 0.5 fails at the 5th failure", rules: healthRulesOf(3, 0.5, 0, 0),
			polls: twoOne + "F", want: "......F.R......F"},
		{name: "2 failures, 1 success: failing_ratio 0.5 and recover_after 3, one watch.failing", rules: healthRulesOf(3, 0.5, 3, 0),
			polls: twoOne + "F", want: "......F........."},
	})
}

func TestFailedForWithFlapping(t *testing.T) {
	tests := []struct {
		name  string
		rules Rules
		polls string
		want  int64 // failed_for_seconds of the last poll's watch.recovered
	}{
		{"recover_after: from the run's first failure, across its good polls", healthRulesOf(3, 0, 3, 0), "FFFGGFGGG", 8 * 30},
		{"ratio: from the first failure since the window held none", healthRulesOf(10, 0.5, 0, 0), "FGFGFGFGFG", 9 * 30},
		{"ratio: a window that emptied starts a new run", healthRulesOf(10, 0.5, 0, 0), "FGGGGGGGGGGFGFGFGFGFG", 9 * 30},
	}
	for _, tc := range tests {
		for _, sub := range healthSubjects {
			t.Run(tc.name+"/"+sub.name, func(t *testing.T) {
				steps := sub.play(t, tc.rules, healthPolls(tc.polls))
				last := steps[len(steps)-1]
				if len(last) != 1 || last[0].Type != TypeWatchRecovered {
					t.Fatalf("marks %s; want watch.recovered last", healthMarks(steps))
				}
				if diff := cmp.Diff(&tc.want, last[0].Data.FailedForSeconds); diff != "" {
					t.Errorf("failed_for_seconds (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestFlappingFailingData(t *testing.T) {
	// watch.failing by the ratio says how many failures in a row it saw.
	_, steps := play(t, healthRulesOf(10, 0.5, 0, 0), Snapshot{},
		failureObs(0, FailureServer, 503), noSessionObs(30), failureObs(60, FailureServer, 503), noSessionObs(90),
		failureObs(120, FailureTimeout, 0), failureObs(150, FailureServer, 502), noSessionObs(180), failureObs(210, FailureServer, 500))
	last := steps[len(steps)-1]
	if len(last) != 1 || last[0].Type != TypeWatchFailing {
		t.Fatalf("got %v, want watch.failing", briefs(last))
	}
	d := last[0].Data
	if *d.ConsecutiveFailures != 1 || *d.StatusCode != 500 || d.Error != "server: boom" || d.Reminder {
		t.Errorf("data = %+v; want 1 consecutive failure, status 500, not a reminder", d)
	}
}

func TestFlappingWindowState(t *testing.T) {
	half := healthRulesOf(10, 0.5, 0, 0)
	s, _ := play(t, half, Snapshot{},
		failureObs(0, FailureServer, 503), noSessionObs(30), failureObs(60, FailureServer, 503), noSessionObs(90))
	if s.Window != 0b1010 || s.WindowPolls != 4 {
		t.Fatalf("window %b of %d polls; want 1010 of 4", s.Window, s.WindowPolls)
	}

	t.Run("survives a restart", func(t *testing.T) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"window":10,"window_polls":4`) {
			t.Errorf("stored snapshot %s; want the window in it", b)
		}
		var back Snapshot
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		_, steps := play(t, half, back, failureObs(120, FailureServer, 503), noSessionObs(150),
			failureObs(180, FailureServer, 503), failureObs(210, FailureServer, 503))
		if got := healthMarks(steps); got != "...F" {
			t.Errorf("after the restart: %s, want ...F", got)
		}
	})

	t.Run("turned off, it empties; turned on, it starts empty", func(t *testing.T) {
		off, _ := applyChecked(t, s, failureObs(120, FailureServer, 503), healthRulesOf(10, 0, 0, 0))
		if off.Window != 0 || off.WindowPolls != 0 {
			t.Errorf("window %b of %d polls with no ratio; want none", off.Window, off.WindowPolls)
		}
		on, steps := play(t, half, off, failureObs(150, FailureServer, 503), noSessionObs(180),
			failureObs(210, FailureServer, 503), failureObs(240, FailureServer, 503), failureObs(270, FailureServer, 503),
			failureObs(300, FailureServer, 503))
		if got := healthMarks(steps); got != ".....F" {
			t.Errorf("after turning it on: %s (window %b), want .....F", got, on.Window)
		}
	})

	t.Run("a stored window with more than 10 outcomes keeps 10", func(t *testing.T) {
		odd := Snapshot{Baselined: true, Window: 0xffff, WindowPolls: 99}
		next, evs := applyChecked(t, odd, noSessionObs(0), half)
		if next.Window != 0b1111111110 || next.WindowPolls != WindowSize || len(evs) != 0 {
			t.Errorf("window %b of %d polls, events %v; want 1111111110 of 10, none", next.Window, next.WindowPolls, briefs(evs))
		}
	})
}

func TestDefaultOptionsLeaveNoTrace(t *testing.T) {
	// Without the options, a flapping meeting stores exactly what it
	// stored before they existed, and RecoverAfter 1 is the default.
	obs := []Observation{
		failureObs(0, FailureServer, 503), noSessionObs(30), failureObs(60, FailureServer, 503),
		failureObs(90, FailureServer, 503), failureObs(120, FailureServer, 503), failureObs(150, FailureAuth, 401),
		noSessionObs(180), failureObs(210, FailureServer, 503),
	}
	zero, zeroSteps := play(t, healthRulesOf(3, 0, 0, 0), Snapshot{}, obs...)
	one, oneSteps := play(t, healthRulesOf(3, 0, 1, 0), Snapshot{}, obs...)
	if diff := cmp.Diff(zeroSteps, oneSteps); diff != "" {
		t.Errorf("recover_after 1 differs from the default (-0 +1):\n%s", diff)
	}
	if diff := cmp.Diff(zero, one); diff != "" {
		t.Errorf("recover_after 1 stores another snapshot (-0 +1):\n%s", diff)
	}
	b, err := json.Marshal(zero)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"window", "good_streak", "reminded_at", "idle_reminded_at", "reminder"} {
		if strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("snapshot %s has %q", b, key)
		}
	}
}

func TestRatioFailures(t *testing.T) {
	tests := []struct {
		ratio float64
		want  int
	}{
		{0, 0}, {-0.5, 0}, {math.NaN(), 0},
		{math.SmallestNonzeroFloat64, 1}, {0.1, 1}, {math.Nextafter(0.1, 1), 2},
		{0.3, 3}, {0.45, 5}, {0.5, 5}, {math.Nextafter(0.5, 1), 6}, {0.7, 7}, {0.9, 9},
		{1, 10}, {math.Nextafter(1, 2), 11}, {math.Inf(1), 11},
	}
	for _, tt := range tests {
		if got := RatioFailures(tt.ratio); got != tt.want {
			t.Errorf("RatioFailures(%v) = %d, want %d", tt.ratio, got, tt.want)
		}
	}
}
