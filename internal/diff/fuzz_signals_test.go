package diff

import (
	"slices"
	"testing"
	"time"
)

// sessionSignalsModel follows, through FuzzApply's steps, what the duration
// and idle rules must do, from the events alone, and checks Apply against
// it. Sessions in FuzzApply all start at t0.
type sessionSignalsModel struct {
	reported  map[int64]bool // duration thresholds reported for the session
	lastEnded string         // the session that ended last, until one starts
	stretch   time.Time      // the first observation of the idle stretch; zero when none
	idleDone  bool           // session.idle emitted for the stretch
}

func (m *sessionSignalsModel) check(t *testing.T, step stepName, prev, next Snapshot, o Observation, rules Rules, known Rules, evs []Event) {
	t.Helper()
	if m.reported == nil {
		m.reported = map[int64]bool{}
	}
	th := durationSeconds(rules.DurationThresholds)
	for d := range m.reported {
		if !slices.Contains(th, d) {
			delete(m.reported, d) // forgotten: it may fire again
		}
	}
	good := o.Kind == ObservedNoSession || o.Kind == ObservedSession && o.Session != nil
	started, idles := false, 0
	for _, e := range evs {
		switch e.Type {
		case TypeSessionEnded:
			m.lastEnded = e.Data.SessionID
			m.stretch, m.idleDone = time.Time{}, false
		case TypeSessionStarted:
			if e.Data.SessionID != m.lastEnded {
				clear(m.reported) // another session: its durations start from zero
			}
			m.lastEnded = ""
			m.stretch, m.idleDone = time.Time{}, false
			started = true
		case TypeDurationCrossed:
			d, ran := *e.Data.ThresholdSeconds, *e.Data.DurationSeconds
			if ran != wholeSeconds(t0, o.At) || ran < d || !slices.Contains(th, d) {
				t.Fatalf("%s: duration %d crossed at %ds under thresholds %v", step, d, ran, th)
			}
			if m.reported[d] {
				t.Fatalf("%s: duration %d reported twice for session %s", step, d, e.Data.SessionID)
			}
			m.reported[d] = true
			// Within one session, a crossing needs a previous poll short of
			// T under rules that had T.
			if ranBefore := wholeSeconds(t0, prev.LastGoodPoll); !started &&
				(!slices.Contains(durationSeconds(known.DurationThresholds), d) || ranBefore >= d) {
				t.Fatalf("%s: duration %d reported after %ds under thresholds %v", step, d, ranBefore, known.DurationThresholds)
			}
		case TypeSessionIdle:
			idles++
			if *e.Data.LiveParticipants > rules.Idle.Participants || *e.Data.IdleSeconds < int64(rules.Idle.For/time.Second) {
				t.Fatalf("%s: idle at %d participants after %ds", step, *e.Data.LiveParticipants, *e.Data.IdleSeconds)
			}
		}
	}
	if !good {
		return
	}
	cur := next.Session
	wantIdle := false
	if cur == nil || rules.Idle.For <= 0 || cur.LiveParticipants > rules.Idle.Participants {
		m.stretch, m.idleDone = time.Time{}, false
	} else {
		if m.stretch.IsZero() {
			m.stretch = o.At
		}
		wantIdle = prev.Baselined && !m.idleDone && o.At.Sub(m.stretch) >= rules.Idle.For
		m.idleDone = m.idleDone || wantIdle
	}
	if idles != 0 != wantIdle || idles > 1 {
		t.Fatalf("%s: %d session.idle, want %v (stretch from %v)", step, idles, wantIdle, m.stretch)
	}
	if !next.IdleSince.Equal(m.stretch) || next.IdleReported != m.idleDone {
		t.Fatalf("%s: snapshot idle since %v (reported %v), want %v (%v)", step, next.IdleSince, next.IdleReported, m.stretch, m.idleDone)
	}
	if !next.Baselined {
		return
	}
	if !slices.Equal(next.KnownDuration, th) {
		t.Fatalf("%s: snapshot knows durations %v, rules have %v", step, next.KnownDuration, th)
	}
	if !slices.IsSorted(next.DurationReached) {
		t.Fatalf("%s: durations not ascending: %v", step, next.DurationReached)
	}
	if cur != nil {
		ran := wholeSeconds(t0, o.At)
		for _, d := range th {
			if ran >= d && !slices.Contains(next.DurationReached, d) {
				t.Fatalf("%s: ran %ds but duration %d not reached", step, ran, d)
			}
		}
	}
}
