package diff

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// healthFuzzStep is one poll of FuzzHealth: a meeting's observation, which
// the lists and usage read as a good or failed read of their own.
type healthFuzzStep struct {
	obs       Observation
	rules     Rules // the rules from this step on
	roundTrip bool  // read the states back from JSON before the step
}

var (
	fuzzRatios  = [8]float64{0, 0, 0.1, 0.3, 0.4, 0.5, 0.7, 1}
	fuzzReminds = [4]time.Duration{0, time.Minute, 10 * time.Minute, time.Hour}
)

// fuzzHealthRules returns the rules that o selects: bits 0-1 failing_after
// 1 to 4, bits 2-4 failing_ratio (fuzzRatios), bit 5 recover_after 3 (else
// unset), bits 6-7 remind_every (fuzzReminds). The idle rule is always on.
func fuzzHealthRules(o byte) Rules {
	r := Rules{
		FailingAfter: 1 + int(o&3),
		FailingRatio: fuzzRatios[o>>2&7],
		RemindEvery:  fuzzReminds[o>>6],
		Idle:         IdleRule{Participants: 1, For: 2 * time.Minute},
	}
	if o&32 != 0 {
		r.RecoverAfter = 3
	}
	return r
}

// decodeHealthSteps turns fuzz bytes into steps: the first byte selects the
// rules (fuzzHealthRules), then three bytes each:
//
//	b0: bits 0-2 what was seen (0-3 a LIVE session, 4 no session, 5 a
//	    server failure, 6 a 401, 7 a timeout), bit 3 round trip, bit 4
//	    reload the rules that b2 selects, bits 5-7 live participants
//	b1: 30-second steps since the previous poll
//	b2: the rules of a reload
func decodeHealthSteps(data []byte) []healthFuzzStep {
	if len(data) == 0 {
		return nil
	}
	rules := fuzzHealthRules(data[0])
	data = data[1:]
	when := t0
	var steps []healthFuzzStep
	for ; len(data) >= 3; data = data[3:] {
		b0, b1, b2 := data[0], data[1], data[2]
		when = when.Add(time.Duration(b1) * 30 * time.Second)
		o := Observation{At: when}
		switch b0 & 7 {
		case 0, 1, 2, 3:
			o.Kind, o.Session = ObservedSession, liveSession("s1", int(b0>>5), 5)
		case 4:
			o.Kind = ObservedNoSession
		default:
			f := [...]Failure{{Kind: FailureServer, StatusCode: 503}, {Kind: FailureAuth, StatusCode: 401}, {Kind: FailureTimeout}}[b0&7-5]
			o.Kind, o.Failure = ObservedFailure, &f
		}
		if b0&16 != 0 {
			rules = fuzzHealthRules(b2)
		}
		steps = append(steps, healthFuzzStep{obs: o, rules: rules, roundTrip: b0&8 != 0})
	}
	return steps
}

// defaultHealth returns r without the options of issue 11.
func defaultHealth(r Rules) Rules {
	r.FailingRatio, r.RecoverAfter, r.RemindEvery = 0, 0, 0
	return r
}

func FuzzHealth(f *testing.F) {
	f.Add([]byte{0x14, 5, 1, 0, 0, 1, 0, 5, 1, 0, 0, 1, 0, 5, 1, 0, 0, 1, 0, 5, 1, 0, 0, 1, 0, 5, 1, 0, 0, 1, 0})
	f.Add([]byte{0x35, 5, 1, 0, 5, 1, 0, 0, 1, 0, 5, 1, 0, 5, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0})
	f.Add([]byte{0xc0, 0, 1, 0, 0, 10, 0, 7, 1, 0, 7, 120, 0, 6, 1, 0, 0, 1, 0, 0, 120, 0, 0x10, 1, 0x40, 0, 120, 0})
	f.Add([]byte{0x55, 0x40, 1, 0, 0x20, 4, 0, 0x48, 120, 0, 5, 1, 0x17, 5, 1, 0, 0x18, 1, 0xe9, 0, 120, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		steps := decodeHealthSteps(data)
		var (
			snap, twin Snapshot
			recs       MediaState
			usage      UsageState
			models     [3]healthModel // meeting, recordings, usage
			legacy     legacyHealth
			idle       idleReminderModel
			ids        = map[string]bool{}
		)
		for i, st := range steps {
			if st.roundTrip {
				snap, twin = roundTripJSON(t, snap), roundTripJSON(t, twin)
				recs, usage = roundTripJSON(t, recs), roundTripJSON(t, usage)
			}
			o, r := st.obs, st.rules
			step := stepName{i, o}
			next, evs := applyChecked(t, snap, o, r)
			models[0].check(t, step, "meeting", r, o, evs, ids)
			idle.check(t, step, r, snap, next, evs)

			read := RecordingsObservation{At: o.At, Failure: o.Failure}
			nextRecs, recEvs, _ := ApplyRecordings(testWatch, recs, read, mediaRulesOf(r))
			models[1].check(t, step, "recordings", r, o, recEvs, ids)
			nextUsage, usageEvs, _ := ApplyUsage(testApp, usage, UsageObservation{At: o.At, Failure: o.Failure}, usageRulesOf(r))
			models[2].check(t, step, "usage", r, o, usageEvs, ids)

			// The same polls without the options: exactly what rtkwatchd
			// did before they existed, and the same session events.
			nextTwin, twinEvs := applyChecked(t, twin, o, defaultHealth(r))
			legacy.check(t, step, defaultHealth(r), o, nextTwin, twinEvs)
			if got, want := sessionEvents(evs), sessionEvents(twinEvs); got != want {
				t.Fatalf("%s: session events %s with the options, %s without", step, got, want)
			}
			snap, recs, usage, twin = next, nextRecs, nextUsage, nextTwin
		}
		b, err := json.Marshal(twin)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"window`, `"good_streak"`, `"reminded_at"`, `"idle_reminded_at"`} {
			if strings.Contains(string(b), key) {
				t.Fatalf("without the options, the snapshot has %s: %s", key, b)
			}
		}
	})
}

// sessionEvents lists the events that are not about health or idleness,
// which the options must not change.
func sessionEvents(evs []Event) string {
	var sb strings.Builder
	for _, e := range evs {
		switch e.Type {
		case TypeWatchFailing, TypeWatchRecovered:
		case TypeSessionIdle:
			if !e.Data.Reminder {
				sb.WriteString(e.Type + " ")
			}
		default:
			sb.WriteString(e.Type + "/" + e.Data.SessionID + " ")
		}
	}
	return sb.String()
}
