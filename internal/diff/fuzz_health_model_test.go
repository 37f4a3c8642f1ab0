package diff

import (
	"math"
	"testing"
	"time"
)

// healthModel is FuzzHealth's model of the failure rules of one subject (a
// meeting, a list, usage), written apart from Health: the window is a slice
// of outcomes, the ratio a count of tenths. It checks every step's
// watch.failing, reminders and watch.recovered against the model, and the
// invariants that hold whatever the model says.
type healthModel struct {
	window   []bool // the last outcomes, latest last, at most 10; true: failed
	run      int    // failed polls since the last good one
	failing  bool   // watch.failing emitted, watch.recovered not yet
	streak   int    // good polls in a row of a failing run
	told     time.Time
	runStart time.Time
	seq      uint64
}

// step advances the model by one poll and returns what it must emit: 0, or
// 'F', 'r' or 'R', with failed_for_seconds for 'R'.
func (m *healthModel) step(r Rules, o Observation) (mark byte, failedFor int64) {
	failed := o.Kind == ObservedFailure
	if failed && m.run == 0 && !m.failing && (r.FailingRatio <= 0 || m.failures() == 0) {
		m.runStart = o.At
	}
	if r.FailingRatio > 0 {
		m.window = append(m.window, failed)
		if len(m.window) > 10 {
			m.window = m.window[1:]
		}
	} else {
		m.window = nil
	}
	if failed {
		m.run++
		m.streak = 0
		switch {
		case !m.failing:
		case r.RemindEvery <= 0:
			m.told = time.Time{}
			return 0, 0
		case m.told.IsZero():
			m.told = o.At
			return 0, 0
		case o.At.Sub(m.told) >= r.RemindEvery:
			m.told = o.At
			return 'r', 0
		default:
			return 0, 0
		}
		needed := int(math.Round(r.FailingRatio * 10))
		if o.Failure.Kind == FailureAuth || m.run >= r.FailingAfter || needed > 0 && m.failures() >= needed {
			m.failing = true
			if r.RemindEvery > 0 {
				m.told = o.At
			}
			return 'F', 0
		}
		return 0, 0
	}
	m.run = 0
	if m.failing {
		m.streak++
		if m.streak < max(r.RecoverAfter, 1) {
			if r.RemindEvery <= 0 {
				m.told = time.Time{}
			}
			return 0, 0
		}
		mark, failedFor = 'R', int64(o.At.Sub(m.runStart)/time.Second)
		m.failing, m.streak = false, 0
		for i := range m.window {
			m.window[i] = false
		}
	}
	m.told = time.Time{}
	if m.failures() == 0 {
		m.runStart = time.Time{}
	}
	return mark, failedFor
}

// failures counts the failures in the window.
func (m *healthModel) failures() int {
	n := 0
	for _, f := range m.window {
		if f {
			n++
		}
	}
	return n
}

// check advances the model by the poll o under r and checks evs, the
// subject's events of the poll, against it; ids collects every event id.
func (m *healthModel) check(t *testing.T, step stepName, subject string, r Rules, o Observation, evs []Event, ids map[string]bool) {
	t.Helper()
	wasFailing := m.failing
	mark, failedFor := m.step(r, o)
	var health []Event
	for _, e := range evs {
		m.seq++
		if e.Data.Sequence != m.seq || ids[e.Data.ID] {
			t.Fatalf("%s: %s %s: sequence %d, want %d, or id %s seen before", step, subject, e.Type, e.Data.Sequence, m.seq, e.Data.ID)
		}
		ids[e.Data.ID] = true
		if e.Type == TypeWatchFailing || e.Type == TypeWatchRecovered {
			health = append(health, e)
		}
	}
	// The invariants: failing and recovered alternate strictly, and a
	// reminder comes only between them, at a failed poll.
	for _, e := range health {
		switch healthMark(e) {
		case 'F':
			if wasFailing {
				t.Fatalf("%s: %s: watch.failing twice in one run", step, subject)
			}
		case 'r':
			if !wasFailing || o.Kind != ObservedFailure {
				t.Fatalf("%s: %s: a reminder outside a failing run, or at a good poll", step, subject)
			}
		case 'R':
			if !wasFailing {
				t.Fatalf("%s: %s: watch.recovered without watch.failing", step, subject)
			}
		default:
			t.Fatalf("%s: %s: %s marked as a reminder", step, subject, e.Type)
		}
	}
	if len(health) > 1 {
		t.Fatalf("%s: %s: %d health events in one poll", step, subject, len(health))
	}
	if mark == 0 {
		if len(health) != 0 {
			t.Fatalf("%s: %s: %s, want nothing (rules %+v)", step, subject, healthMarks([][]Event{health}), r)
		}
		return
	}
	if len(health) != 1 || healthMark(health[0]) != mark {
		t.Fatalf("%s: %s: %q, want %c (rules %+v)", step, subject, healthMarks([][]Event{health}), mark, r)
	}
	d := health[0].Data
	switch mark {
	case 'F', 'r':
		if *d.ConsecutiveFailures != m.run {
			t.Fatalf("%s: %s: consecutive_failures %d, want %d", step, subject, *d.ConsecutiveFailures, m.run)
		}
	case 'R':
		if *d.FailedForSeconds != failedFor {
			t.Fatalf("%s: %s: failed_for_seconds %d, want %d", step, subject, *d.FailedForSeconds, failedFor)
		}
	}
}

// legacyHealth is the failure bookkeeping of rtkwatchd before failing_ratio,
// recover_after and remind_every, as it was written then. Without the
// options, Apply must do exactly what it did.
type legacyHealth struct {
	lastGood time.Time
	run      int
	first    time.Time
	failing  bool
}

func (l *legacyHealth) check(t *testing.T, step stepName, r Rules, o Observation, next Snapshot, evs []Event) {
	t.Helper()
	var want []brief
	var failedFor *int64
	if o.Kind == ObservedFailure {
		if l.run <= 0 {
			l.run, l.first = 0, o.At
		}
		l.run++
		auth := o.Failure.Kind == FailureAuth || o.Failure.StatusCode == 401 || o.Failure.StatusCode == 403
		if !l.failing && (l.run >= max(r.FailingAfter, 1) || auth) {
			l.failing = true
			want = append(want, brief{Type: TypeWatchFailing})
		}
	} else {
		if l.failing {
			want = append(want, brief{Type: TypeWatchRecovered})
			failedFor = ptr(wholeSeconds(l.first, o.At))
		}
		*l = legacyHealth{lastGood: o.At}
	}
	var got []brief
	for _, e := range evs {
		if e.Type == TypeWatchFailing || e.Type == TypeWatchRecovered || e.Data.Reminder {
			got = append(got, brief{Type: e.Type})
			if e.Type == TypeWatchRecovered && (failedFor == nil || *e.Data.FailedForSeconds != *failedFor) {
				t.Fatalf("%s: without the options, failed_for_seconds %d, want %v", step, *e.Data.FailedForSeconds, failedFor)
			}
		}
	}
	if len(got) != len(want) || len(got) == 1 && got[0] != want[0] {
		t.Fatalf("%s: without the options, %v, want %v", step, got, want)
	}
	if next.ConsecutiveFailures != l.run || !next.FirstFailureAt.Equal(l.first) || next.Failing != l.failing || !next.LastGoodPoll.Equal(l.lastGood) ||
		next.Window != 0 || next.WindowPolls != 0 || next.GoodStreak != 0 || !next.RemindedAt.IsZero() || !next.IdleRemindedAt.IsZero() {
		t.Fatalf("%s: without the options, the snapshot's health is %+v, want %+v", step, next.health(), *l)
	}
}

// idleReminderModel follows the reminders of session.idle through
// FuzzHealth's steps and checks them: one only while a stretch that
// session.idle reported lasts, at the first good poll at or after the last
// session.idle or reminder plus remind_every.
type idleReminderModel struct {
	told time.Time
}

func (m *idleReminderModel) check(t *testing.T, step stepName, r Rules, prev, next Snapshot, evs []Event) {
	t.Helper()
	o := step.obs
	firsts, reminders := 0, 0
	for _, e := range evs {
		if e.Type == TypeSessionIdle && e.Data.Reminder {
			reminders++
			if *e.Data.IdleSeconds != wholeSeconds(next.IdleSince, o.At) {
				t.Fatalf("%s: idle reminder after %ds, the stretch began at %v", step, *e.Data.IdleSeconds, next.IdleSince)
			}
		} else if e.Type == TypeSessionIdle {
			firsts++
		}
	}
	lasts := o.Kind != ObservedFailure && prev.IdleReported && next.IdleReported && prev.IdleSince.Equal(next.IdleSince)
	want := false
	switch {
	case o.Kind == ObservedFailure:
	case firsts > 0 && r.RemindEvery > 0:
		m.told = o.At
	case !lasts || r.RemindEvery <= 0:
		m.told = time.Time{}
	case m.told.IsZero():
		m.told = o.At
	case o.At.Sub(m.told) >= r.RemindEvery:
		want, m.told = true, o.At
	}
	if reminders > 1 || firsts > 1 || (reminders == 1) != want {
		t.Fatalf("%s: %d session.idle and %d reminders, want a reminder: %v (last told %v)", step, firsts, reminders, want, m.told)
	}
	if !next.IdleRemindedAt.Equal(m.told) {
		t.Fatalf("%s: idle reminded at %v, want %v", step, next.IdleRemindedAt, m.told)
	}
}
