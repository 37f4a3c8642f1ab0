package diff

import (
	"strings"
	"testing"
	"time"
)

// A health table plays one string of polls through every rule that keeps a
// Health (a meeting's polls, a watch's recordings and livestreams, an app's
// usage) and renders what each poll emitted as one mark, so that a table
// row reads as a timeline:
//
//	polls: G a good poll, F a failed one (503), A an authentication failure (401)
//	marks: . nothing, F watch.failing, r a reminder of it, R watch.recovered,
//	       I session.idle, i a reminder of it, ? anything else;
//	       a poll that emitted more than one event shows them in parentheses

// healthPoll is one poll of a health table.
type healthPoll struct {
	at      time.Time
	failure *Failure // nil for a good poll
}

// healthPolls returns the polls that s spells, made at the given seconds
// after t0, or, without seconds, one every 30 seconds from t0.
func healthPolls(s string, seconds ...int) []healthPoll {
	if len(seconds) != 0 && len(seconds) != len(s) {
		panic("healthPolls: one time per poll")
	}
	polls := make([]healthPoll, len(s))
	for i := range len(s) {
		n := 30 * i
		if len(seconds) != 0 {
			n = seconds[i]
		}
		polls[i].at = at(n)
		switch s[i] {
		case 'G':
		case 'A':
			polls[i].failure = &Failure{Kind: FailureAuth, StatusCode: 401, Message: "denied"}
		case 'F':
			polls[i].failure = &Failure{Kind: FailureServer, StatusCode: 503, Message: "boom"}
		default:
			panic("healthPolls: unknown poll " + string(s[i]))
		}
	}
	return polls
}

// healthRulesOf returns meeting rules with the given failure policy.
func healthRulesOf(failingAfter int, ratio float64, recoverAfter int, remind time.Duration) Rules {
	return Rules{FailingAfter: failingAfter, FailingRatio: ratio, RecoverAfter: recoverAfter, RemindEvery: remind}
}

// mediaRulesOf returns the list rules with the failure policy of r.
func mediaRulesOf(r Rules) MediaRules {
	return MediaRules{FailingAfter: r.FailingAfter, FailingRatio: r.FailingRatio, RecoverAfter: r.RecoverAfter, RemindEvery: r.RemindEvery}
}

// usageRulesOf returns the usage rules with the failure policy of r.
func usageRulesOf(r Rules) UsageRules {
	return UsageRules{FailingAfter: r.FailingAfter, FailingRatio: r.FailingRatio, RecoverAfter: r.RecoverAfter, RemindEvery: r.RemindEvery}
}

// healthSubjects are the rules that keep a Health, each playing polls from
// its zero state under a meeting's Rules (the lists and usage take its
// failure policy) and returning the events of every poll. Every other state
// goes through JSON first, as a restart would read it from the store.
var healthSubjects = []struct {
	name string
	play func(t *testing.T, r Rules, polls []healthPoll) [][]Event
}{
	{"meeting", func(t *testing.T, r Rules, polls []healthPoll) [][]Event {
		return playHealth(t, polls, func(s Snapshot, p healthPoll) (Snapshot, []Event) {
			obs := Observation{Kind: ObservedNoSession, At: p.at}
			if p.failure != nil {
				obs = Observation{Kind: ObservedFailure, At: p.at, Failure: p.failure}
			}
			return applyChecked(t, s, obs, r)
		})
	}},
	{"recordings", func(t *testing.T, r Rules, polls []healthPoll) [][]Event {
		return playHealth(t, polls, func(s MediaState, p healthPoll) (MediaState, []Event) {
			next, evs, _ := ApplyRecordings(testWatch, s, RecordingsObservation{At: p.at, Failure: p.failure}, mediaRulesOf(r))
			return next, evs
		})
	}},
	{"livestreams", func(t *testing.T, r Rules, polls []healthPoll) [][]Event {
		return playHealth(t, polls, func(s MediaState, p healthPoll) (MediaState, []Event) {
			next, evs, _ := ApplyLivestreams(testWatch, s, LivestreamsObservation{At: p.at, Failure: p.failure}, mediaRulesOf(r))
			return next, evs
		})
	}},
	{"usage", func(t *testing.T, r Rules, polls []healthPoll) [][]Event {
		return playHealth(t, polls, func(s UsageState, p healthPoll) (UsageState, []Event) {
			next, evs, _ := ApplyUsage(testApp, s, UsageObservation{At: p.at, Failure: p.failure}, usageRulesOf(r))
			return next, evs
		})
	}},
}

// playHealth applies polls in turn from the zero state with apply, reading
// every other state back from JSON first, and returns each poll's events.
func playHealth[S any](t *testing.T, polls []healthPoll, apply func(S, healthPoll) (S, []Event)) [][]Event {
	t.Helper()
	var s S
	out := make([][]Event, len(polls))
	for i, p := range polls {
		if i%2 == 1 {
			s = roundTripJSON(t, s)
		}
		s, out[i] = apply(s, p)
	}
	return out
}

// healthMarks renders each step's events as marks (see above).
func healthMarks(steps [][]Event) string {
	var sb strings.Builder
	for _, evs := range steps {
		if len(evs) == 0 {
			sb.WriteByte('.')
			continue
		}
		if len(evs) > 1 {
			sb.WriteByte('(')
		}
		for _, e := range evs {
			sb.WriteByte(healthMark(e))
		}
		if len(evs) > 1 {
			sb.WriteByte(')')
		}
	}
	return sb.String()
}

// healthMark is the mark of one event.
func healthMark(e Event) byte {
	switch {
	case e.Type == TypeWatchFailing && e.Data.Reminder:
		return 'r'
	case e.Type == TypeWatchFailing:
		return 'F'
	case e.Type == TypeWatchRecovered && !e.Data.Reminder:
		return 'R'
	case e.Type == TypeSessionIdle && e.Data.Reminder:
		return 'i'
	case e.Type == TypeSessionIdle:
		return 'I'
	}
	return '?'
}

// healthCase is one row of a health table.
type healthCase struct {
	name    string
	rules   Rules
	polls   string
	seconds []int // when each poll was made; nil: every 30 s
	want    string
}

// runHealthTable plays every case through every subject.
func runHealthTable(t *testing.T, tests []healthCase) {
	t.Helper()
	for _, tc := range tests {
		if len(tc.want) != len(tc.polls) {
			t.Fatalf("%s: %d marks for %d polls", tc.name, len(tc.want), len(tc.polls))
		}
		for _, sub := range healthSubjects {
			t.Run(tc.name+"/"+sub.name, func(t *testing.T) {
				steps := sub.play(t, tc.rules, healthPolls(tc.polls, tc.seconds...))
				if got := healthMarks(steps); got != tc.want {
					t.Errorf("polls %s\n got %s\nwant %s", tc.polls, got, tc.want)
				}
				ids, seq := map[string]bool{}, uint64(0)
				for _, evs := range steps {
					for _, e := range evs {
						if ids[e.Data.ID] || e.Data.Sequence != seq+1 {
							t.Errorf("%s: id %s seen before, or sequence %d after %d", e.Type, e.Data.ID, e.Data.Sequence, seq)
						}
						ids[e.Data.ID], seq = true, e.Data.Sequence
					}
				}
			})
		}
	}
}
