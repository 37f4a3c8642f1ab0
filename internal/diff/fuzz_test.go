package diff

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var fuzzRules = Rules{
	ParticipantThresholds: []int{10, 50, 100, 200},
	Hysteresis:            5,
	MinutesThresholds:     []float64{100, 1000, 2000},
	FailingAfter:          3,
	DurationThresholds:    []time.Duration{time.Minute, 10 * time.Minute, 30 * time.Minute},
	Idle:                  IdleRule{Participants: 5, For: 2 * time.Minute},
}

// fuzzRulesFor returns fuzzRules with only the thresholds that mask selects:
// bits 0-3 the participant thresholds, bits 4-6 the minutes thresholds; bit
// 7 drops the 10-minute duration threshold and lowers the idle bound to 0.
func fuzzRulesFor(mask byte) Rules {
	r := fuzzRules
	if mask&128 != 0 {
		r.DurationThresholds = []time.Duration{time.Minute, 30 * time.Minute}
		r.Idle.Participants = 0
	}
	r.ParticipantThresholds, r.MinutesThresholds = nil, nil
	for i, t := range fuzzRules.ParticipantThresholds {
		if mask&(1<<i) != 0 {
			r.ParticipantThresholds = append(r.ParticipantThresholds, t)
		}
	}
	for i, t := range fuzzRules.MinutesThresholds {
		if mask&(1<<(4+i)) != 0 {
			r.MinutesThresholds = append(r.MinutesThresholds, t)
		}
	}
	return r
}

var fuzzFailures = []Failure{
	{Kind: FailureAuth, StatusCode: 401},
	{Kind: FailureAuth, StatusCode: 403},
	{Kind: FailureRateLimited, StatusCode: 429, RetryAfter: time.Second},
	{Kind: FailureServer, StatusCode: 503},
	{Kind: FailureNotFound, StatusCode: 404},
	{Kind: FailureNetwork},
	{Kind: FailureTimeout},
	{Kind: FailureDecode, StatusCode: 200},
}

// decodeObservations turns fuzz bytes into observations, four bytes each:
//
//	b0: bits 0-2 what was seen (0-3 a LIVE session, 4 an ENDED one, 5 no
//	    session, 6 a failure, 7 a malformed observation), bit 3 attach final
//	    numbers, bits 4-5 session id, bit 6 store the previous snapshot as
//	    JSON and read it back first, bit 7 change the rules from this step
//	    on to those that b3 selects (see fuzzRulesFor), as a reload would
//	b1: live participants, or which failure
//	b2: minutes consumed / 10
//	b3: seconds since the previous observation
//
// The rules start as fuzzRules.
func decodeObservations(data []byte) (obs []Observation, roundTrip []bool, rules []Rules) {
	when := t0
	r := fuzzRules
	for len(data) >= 4 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		when = when.Add(time.Duration(b3) * time.Second)
		id := fmt.Sprintf("s%d", (b0>>4)&3)
		o := Observation{At: when}
		switch b0 & 7 {
		case 0, 1, 2, 3:
			o.Kind, o.Session = ObservedSession, liveSession(id, int(b1), float64(b2)*10)
		case 4:
			s := endedSession(id, int(b3))
			s.LiveParticipants = int(b1)
			o.Kind, o.Session = ObservedSession, s
		case 5:
			o.Kind = ObservedNoSession
		case 6:
			f := fuzzFailures[int(b1)%len(fuzzFailures)]
			o.Kind, o.Failure = ObservedFailure, &f
		case 7:
			o.Kind = ObservationKind(b1 % 2) // 0 (unknown) or ObservedSession without a session
		}
		if b0&8 != 0 {
			o.Final = endedSession(fmt.Sprintf("s%d", b2&3), int(b3))
		}
		if b0&128 != 0 {
			r = fuzzRulesFor(b3)
		}
		obs = append(obs, o)
		roundTrip = append(roundTrip, b0&64 != 0)
		rules = append(rules, r)
	}
	return obs, roundTrip, rules
}

func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 30, 0, 60, 70, 30, 0, 120, 110, 30, 0, 3, 0, 30, 5, 0, 0, 30})
	f.Add([]byte{6, 3, 0, 1, 6, 4, 0, 1, 6, 5, 0, 1, 6, 0, 0, 1, 0, 60, 0, 1, 6, 0, 0, 0})
	f.Add([]byte{0, 200, 250, 10, 0x10, 20, 0, 10, 0x24, 20, 0, 10, 0x48, 0, 0, 10, 0x57, 1, 0, 10})
	// A session back under its id after a 404, and again after ENDED.
	f.Add([]byte{0, 20, 5, 30, 0, 60, 110, 30, 5, 0, 0, 30, 0, 60, 110, 30, 4, 0, 0, 30, 0x40, 60, 120, 30})
	// Thresholds removed and added back while the session is past them.
	f.Add([]byte{0, 20, 5, 30, 0, 60, 110, 30, 0x80, 60, 110, 0, 0x80, 60, 110, 0x7f, 0x80, 120, 250, 0x7f})
	// 50 removed while up (only 10 left), then down at 50 - 5 - 1, and up
	// no more; 50 removed while up again, and the session ends.
	f.Add([]byte{5, 0, 0, 30, 0, 60, 0, 30, 0x80, 60, 0, 1, 0, 45, 0, 30, 0, 44, 0, 30, 0, 60, 0, 30,
		0x80, 60, 0, 3, 0x80, 60, 0, 1, 5, 0, 0, 30})
	// A session that started long before the baseline, adopted silently
	// after another ended.
	f.Add([]byte("000A$000A000"))
	// A session seen at the baseline, which came more than the slack after
	// its start, ends (no session) and comes back: it is the session that
	// ended last, so it starts again; it is never a late baseline.
	f.Add([]byte("000A71000000"))
	// An idle stretch through a failure, ended by a rise, then a reload that
	// lowers the idle bound and drops a duration threshold; a 404 and back.
	f.Add([]byte{0, 3, 0, 10, 0, 0, 0, 100, 6, 3, 0, 100, 0, 5, 0, 100, 0, 9, 0, 50, 0, 2, 0, 200, 0x80, 2, 0, 0xff, 5, 0, 0, 10, 0, 0, 0, 250})
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, roundTrip, rulesAt := decodeObservations(data)
		var prev Snapshot
		open := false    // a session.started not yet followed by session.ended
		failing := false // a watch.failing not yet followed by watch.recovered
		ids := map[string]bool{}
		var known Rules                // the rules at the last good poll
		reported := map[float64]bool{} // minutes thresholds reported for the session
		lastEnded := ""                // the session that ended last, until one starts
		var signals sessionSignalsModel
		// The participant thresholds crossed up in the session and not
		// closed since, by a down crossing or the session's end.
		crossedUp := map[int]bool{}
		for i, o := range obs {
			if roundTrip[i] {
				prev = roundTripJSON(t, prev)
			}
			rules := rulesAt[i]
			endID, ends := EndsSession(prev, o)
			next, evs := applyChecked(t, prev, o, rules)
			step := stepName{i, o}
			for th := range reported {
				if !slices.Contains(rules.MinutesThresholds, th) {
					delete(reported, th) // forgotten: it may fire again
				}
			}

			good := o.Kind == ObservedNoSession || o.Kind == ObservedSession && o.Session != nil
			if !good {
				for _, e := range evs {
					if e.Type != TypeWatchFailing {
						t.Fatalf("%s: a failure emitted %s", step, e.Type)
					}
				}
				if prev.Session != next.Session || !slices.Equal(prev.ParticipantsUp, next.ParticipantsUp) ||
					!slices.Equal(prev.MinutesReached, next.MinutesReached) || !prev.SessionSeenAt.Equal(next.SessionSeenAt) ||
					prev.Baselined != next.Baselined || !prev.LastGoodPoll.Equal(next.LastGoodPoll) ||
					!slices.Equal(prev.KnownParticipants, next.KnownParticipants) || !slices.Equal(prev.KnownMinutes, next.KnownMinutes) ||
					prev.LastEndedSessionID != next.LastEndedSessionID || !slices.Equal(prev.LastEndedMinutesReached, next.LastEndedMinutesReached) ||
					!slices.Equal(prev.DurationReached, next.DurationReached) || !slices.Equal(prev.KnownDuration, next.KnownDuration) ||
					!slices.Equal(prev.LastEndedDurationReached, next.LastEndedDurationReached) ||
					!prev.IdleSince.Equal(next.IdleSince) || prev.IdleReported != next.IdleReported {
					t.Fatalf("%s: a failure changed the session state", step)
				}
			}
			if !prev.Baselined && next.Baselined {
				open = next.Session != nil
				for _, e := range evs {
					if e.Type != TypeWatchRecovered {
						t.Fatalf("%s: the baseline emitted %s", step, e.Type)
					}
				}
			}

			seq := prev.Sequence
			ended := ""
			started := false
			for _, e := range evs {
				seq++
				if e.Data.Sequence != seq {
					t.Fatalf("%s: %s has sequence %d, want %d", step, e.Type, e.Data.Sequence, seq)
				}
				if ids[e.Data.ID] {
					t.Fatalf("%s: id %s repeated", step, e.Data.ID)
				}
				ids[e.Data.ID] = true
				if e.Data.Watch != testMeeting.Watch || e.Data.MeetingID != testMeeting.MeetingID || !e.Timestamp.Equal(o.At.Truncate(time.Second)) {
					t.Fatalf("%s: %s carries the wrong meeting or time", step, e.Type)
				}
				switch e.Type {
				case TypeSessionStarted:
					if open {
						t.Fatalf("%s: two starts without an end", step)
					}
					open = true
					started = true
					if e.Data.SessionID != lastEnded {
						clear(reported) // another session: its minutes start from zero
					}
					lastEnded = ""
				case TypeSessionEnded:
					if !open {
						t.Fatalf("%s: an end without a start", step)
					}
					open = false
					ended = e.Data.SessionID
					lastEnded = ended
					for th, open := range crossedUp {
						if open && !slices.Contains(e.Data.ParticipantThresholdsUp, th) {
							t.Fatalf("%s: session.ended lists thresholds up %v, not %d, crossed up before", step, e.Data.ParticipantThresholdsUp, th)
						}
					}
					clear(crossedUp)
					if e.Data.Final != nil && e.Data.Final.ID != ended {
						t.Fatalf("%s: final of %s attached to the end of %s", step, e.Data.Final.ID, ended)
					}
				case TypeWatchFailing:
					if failing {
						t.Fatalf("%s: watch.failing twice in one run", step)
					}
					failing = true
				case TypeWatchRecovered:
					if !failing {
						t.Fatalf("%s: watch.recovered without watch.failing", step)
					}
					failing = false
				case TypeParticipantsThreshold:
					live, th := *e.Data.LiveParticipants, int(*e.Data.Threshold)
					if e.Data.Direction == DirectionUp && live < th || e.Data.Direction == DirectionDown && live >= th-rules.Hysteresis {
						t.Fatalf("%s: %s crossing of %d at %d participants", step, e.Data.Direction, th, live)
					}
					// A threshold the rules lost may still cross down, if it
					// was up: a crossing once reported up is always closed.
					if e.Data.Direction == DirectionUp && !slices.Contains(rules.ParticipantThresholds, th) {
						t.Fatalf("%s: up crossing of %d, which the rules do not have", step, th)
					}
					if e.Data.Direction == DirectionDown && !slices.Contains(prev.ParticipantsUp, th) {
						t.Fatalf("%s: down crossing of %d, which was not up", step, th)
					}
					if e.Data.Direction == DirectionUp && crossedUp[th] {
						t.Fatalf("%s: up crossing of %d, which is up since its last up crossing", step, th)
					}
					crossedUp[th] = e.Data.Direction == DirectionUp
					// Within one session, an up crossing needs a previous
					// poll below T under rules that had T: a threshold the
					// rules just gained never fires for a session past it.
					if e.Data.Direction == DirectionUp && !started &&
						(!slices.Contains(known.ParticipantThresholds, th) || prev.Session.LiveParticipants >= th) {
						t.Fatalf("%s: up crossing of %d after %d participants under thresholds %v",
							step, th, prev.Session.LiveParticipants, known.ParticipantThresholds)
					}
				case TypeMinutesThreshold:
					th := *e.Data.Threshold
					if *e.Data.MinutesConsumed < th || !slices.Contains(rules.MinutesThresholds, th) {
						t.Fatalf("%s: minutes %v reported at %v under thresholds %v", step, th, *e.Data.MinutesConsumed, rules.MinutesThresholds)
					}
					if reported[th] {
						t.Fatalf("%s: minutes %v reported twice for session %s", step, th, e.Data.SessionID)
					}
					reported[th] = true
					if !started && (!slices.Contains(known.MinutesThresholds, th) || prev.Session.MinutesConsumed >= th) {
						t.Fatalf("%s: minutes %v reported after %v minutes under thresholds %v",
							step, th, prev.Session.MinutesConsumed, known.MinutesThresholds)
					}
				}
			}
			// A late baseline: a session never seen before that started
			// long before the meeting's baseline is adopted silently, as at
			// a baseline. It is another session, without a session.started.
			// The model predicts it from the observation and prev, never
			// from what Apply did.
			if good && prev.Baselined && prev.Session == nil && o.Kind == ObservedSession && isLive(o.Session) &&
				o.Session.ID != prev.LastEndedSessionID && startedLongBefore(o.Session, prev.BaselineAt) {
				if started {
					t.Fatalf("%s: session.started for %s, which started before the baseline", step, o.Session.ID)
				}
				lastEnded, open = "", true
				clear(reported)
			}
			if next.LastEndedSessionID != lastEnded {
				t.Fatalf("%s: snapshot remembers %q as ended, events say %q", step, next.LastEndedSessionID, lastEnded)
			}
			for th, open := range crossedUp {
				if open && !slices.Contains(next.ParticipantsUp, th) {
					t.Fatalf("%s: %d, crossed up, left participants_up %v without a down crossing", step, th, next.ParticipantsUp)
				}
			}
			if good && next.Baselined {
				var carried []int // what the same session had up before this step
				if !started && prev.Session != nil && next.Session != nil && prev.Session.ID == next.Session.ID {
					carried = prev.ParticipantsUp
				}
				checkThresholdState(t, step, next, rules, carried)
			}
			if next.Sequence != seq {
				t.Fatalf("%s: snapshot sequence %d, want %d", step, next.Sequence, seq)
			}
			signals.check(t, step, prev, next, o, rules, known, evs)
			if next.Baselined && open != (next.Session != nil) {
				t.Fatalf("%s: events say open=%v but the snapshot holds %v", step, open, next.Session)
			}
			if !next.Baselined && open {
				t.Fatalf("%s: a session started before the baseline", step)
			}
			if failing != next.Failing {
				t.Fatalf("%s: events say failing=%v, snapshot %v", step, failing, next.Failing)
			}
			if next.Session != nil && !isLive(next.Session) {
				t.Fatalf("%s: stored a session that is not live", step)
			}
			if !slices.IsSorted(next.ParticipantsUp) || !slices.IsSorted(next.MinutesReached) {
				t.Fatalf("%s: thresholds not ascending: %v %v", step, next.ParticipantsUp, next.MinutesReached)
			}
			if ends != (ended != "") || ends && endID != ended {
				t.Fatalf("%s: EndsSession = %q, %v; Apply ended %q", step, endID, ends, ended)
			}
			if good && next.Baselined {
				known = rules
			}
			prev = next
		}
	})
}

// checkThresholdState checks the snapshot after a good poll under rules:
// it knows exactly the rules' thresholds, and what it says is up or reached
// agrees with the stored session's numbers. carried is what the same
// session had up before the poll (nil for a session new to it): a
// participants threshold the rules lost stays up while it was and the
// session stays at or above T - hysteresis, like a configured one.
func checkThresholdState(t *testing.T, step stepName, s Snapshot, rules Rules, carried []int) {
	t.Helper()
	if s.KnownParticipants == nil || s.KnownMinutes == nil ||
		!slices.Equal(s.KnownParticipants, rules.ParticipantThresholds) || !slices.Equal(s.KnownMinutes, rules.MinutesThresholds) {
		t.Fatalf("%s: snapshot knows thresholds %v %v, rules have %v %v", step,
			s.KnownParticipants, s.KnownMinutes, rules.ParticipantThresholds, rules.MinutesThresholds)
	}
	if s.Session == nil {
		return
	}
	for _, th := range s.ParticipantsUp {
		if !slices.Contains(rules.ParticipantThresholds, th) && !slices.Contains(carried, th) {
			t.Fatalf("%s: %d up but neither configured nor up before", step, th)
		}
	}
	for _, th := range carried {
		if slices.Contains(rules.ParticipantThresholds, th) {
			continue
		}
		live, up := s.Session.LiveParticipants, slices.Contains(s.ParticipantsUp, th)
		if live < th-rules.Hysteresis == up {
			t.Fatalf("%s: %d participants but removed threshold %d up=%v", step, live, th, up)
		}
	}
	for _, th := range rules.ParticipantThresholds {
		live, up := s.Session.LiveParticipants, slices.Contains(s.ParticipantsUp, th)
		if live >= th && !up || live < th-rules.Hysteresis && up {
			t.Fatalf("%s: %d participants but threshold %d up=%v", step, live, th, up)
		}
	}
	for _, th := range s.MinutesReached {
		if !slices.Contains(rules.MinutesThresholds, th) {
			t.Fatalf("%s: minutes %v reached but not configured", step, th)
		}
	}
	for _, th := range rules.MinutesThresholds {
		if s.Session.MinutesConsumed >= th && !slices.Contains(s.MinutesReached, th) {
			t.Fatalf("%s: %v minutes but threshold %v not reached", step, s.Session.MinutesConsumed, th)
		}
	}
}

// stepName names a step in failure messages; it formats only when needed.
type stepName struct {
	i   int
	obs Observation
}

func (s stepName) String() string { return fmt.Sprintf("step %d (%+v)", s.i, s.obs) }

// startedLongBefore reports whether s started more than LateBaselineSlack
// before baselineAt, a meeting's baseline (false when that is unknown).
func startedLongBefore(s *Session, baselineAt time.Time) bool {
	started, err := time.Parse(time.RFC3339Nano, s.StartedAt)
	return err == nil && !baselineAt.IsZero() && started.Before(baselineAt.Add(-LateBaselineSlack))
}
