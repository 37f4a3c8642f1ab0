package diff

import (
	"math/bits"
	"time"
)

// WindowSize is how many of the latest polls a failing ratio judges.
const WindowSize = 10

// windowMask keeps the WindowSize latest outcomes of a Health's Window.
const windowMask = 1<<WindowSize - 1

// Health is the failure bookkeeping of one thing rtkwatchd polls: a meeting
// (a Snapshot keeps the same fields), or one signal of a watch, such as its
// recordings list or an app's usage. One set of rules decides for all of them
// when failed polls become watch.failing, when it is repeated, and when it
// ends.
type Health struct {
	// LastGoodPoll is the time of the last successful poll.
	LastGoodPoll time.Time `json:"last_good_poll,omitzero"`
	// ConsecutiveFailures counts failed polls since the last good one.
	ConsecutiveFailures int `json:"consecutive_failures,omitempty"`
	// FirstFailureAt is when the current run of failures began: the first
	// failure after a good poll, or, while a failing ratio is set, the first
	// failure since the window last held none; and, once watch.failing is
	// emitted, its run's first failure until watch.recovered.
	FirstFailureAt time.Time `json:"first_failure_at,omitzero"`
	// Failing is true once watch.failing has been emitted and until
	// watch.recovered is.
	Failing bool `json:"failing,omitempty"`
	// LastError describes the last failure, secret-free.
	LastError string `json:"last_error,omitempty"`
	// Window holds the outcomes of the latest polls while the rules set a
	// failing ratio: bit i is set when the poll i polls before the latest
	// failed. WindowPolls is how many polls it holds, at most WindowSize.
	// Both stay zero while no ratio is set.
	Window      uint16 `json:"window,omitempty"`
	WindowPolls int    `json:"window_polls,omitempty"`
	// GoodStreak counts the good polls in a row since the last failure of a
	// failing run, towards the rules' recover-after count.
	GoodStreak int `json:"good_streak,omitempty"`
	// RemindedAt is when watch.failing, or its latest reminder, was
	// emitted, while the rules ask for reminders; zero otherwise.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
}

// healthRules are the failure policy that a meeting's Rules, a list's
// MediaRules and a usage block's UsageRules share.
type healthRules struct {
	failingAfter int           // consecutive failures; below 1 means 1
	failingRatio float64       // of the window's polls, failed; 0 or less: none
	recoverAfter int           // good polls in a row; below 1 means 1
	remindEvery  time.Duration // 0 or less: no reminders
}

// failed records the failed poll f made at at. It reports whether
// watch.failing is due now, once per run: when the run reaches
// r.failingAfter consecutive failures, when failures make up at least
// r.failingRatio of the last WindowSize polls (polls not yet made count as
// good), or at once for an authentication failure (FailureAuth, or status
// 401 or 403). Otherwise, while watch.failing stands, it reports whether a
// reminder of it is due (see remindDue).
func (h *Health) failed(f Failure, at time.Time, r healthRules) (failing, reminder bool) {
	if h.ConsecutiveFailures <= 0 {
		h.ConsecutiveFailures = 0
		if !h.Failing && (r.failingRatio <= 0 || h.windowFailures() == 0) {
			h.FirstFailureAt = at
		}
	}
	h.ConsecutiveFailures++
	h.GoodStreak = 0
	h.LastError = failureText(f)
	h.record(true, r.failingRatio)
	if h.Failing {
		return false, remindDue(&h.RemindedAt, at, r.remindEvery)
	}
	h.RemindedAt = time.Time{}
	auth := f.Kind == FailureAuth || f.StatusCode == 401 || f.StatusCode == 403
	if !auth && h.ConsecutiveFailures < max(r.failingAfter, 1) && !h.ratioReached(r.failingRatio) {
		return false, false
	}
	h.Failing = true
	if r.remindEvery > 0 {
		h.RemindedAt = at
	}
	return true, false
}

// good records a successful poll made at at. It reports whether
// watch.recovered is due (watch.failing was emitted for the run, and this
// is the r.recoverAfter-th good poll in a row), and how long the run lasted
// in whole seconds. A recovery ends the run and empties the window of its
// failures, which were told; a good poll that does not recover a failing
// run keeps it, and a good poll of a run that is not failing ends it,
// unless the window still holds one of its failures.
func (h *Health) good(at time.Time, r healthRules) (recovered bool, failedFor int64) {
	h.record(false, r.failingRatio)
	h.LastGoodPoll, h.ConsecutiveFailures = at, 0
	if h.Failing {
		h.GoodStreak++
		if h.GoodStreak < max(r.recoverAfter, 1) {
			if r.remindEvery <= 0 {
				h.RemindedAt = time.Time{}
			}
			return false, 0
		}
		recovered, failedFor = true, wholeSeconds(h.FirstFailureAt, at)
		h.Window = 0
	}
	next := Health{LastGoodPoll: at, Window: h.Window, WindowPolls: h.WindowPolls}
	if next.windowFailures() > 0 {
		next.FirstFailureAt = h.FirstFailureAt
	}
	*h = next
	return recovered, failedFor
}

// record adds a poll's outcome to the window while ratio is set, and empties
// the window while it is not.
func (h *Health) record(failed bool, ratio float64) {
	if !(ratio > 0) {
		h.Window, h.WindowPolls = 0, 0
		return
	}
	h.Window = h.Window << 1 & windowMask
	if failed {
		h.Window |= 1
	}
	h.WindowPolls = min(max(h.WindowPolls, 0)+1, WindowSize)
}

// windowFailures counts the failed polls the window holds.
func (h *Health) windowFailures() int {
	n := min(max(h.WindowPolls, 0), WindowSize)
	return bits.OnesCount16(h.Window & (1<<n - 1))
}

// ratioReached reports whether the window holds the failures that ratio
// asks for (see RatioFailures).
func (h *Health) ratioReached(ratio float64) bool {
	n := RatioFailures(ratio)
	return n > 0 && h.windowFailures() >= n
}

// RatioFailures returns how many failures of the last WindowSize polls a
// failing ratio asks for: the fewest whose share of WindowSize is at least
// ratio, so 5 for 0.5 and for 0.45; 0 when ratio is not above 0 (off), and
// more than WindowSize when it is above 1 (never).
func RatioFailures(ratio float64) int {
	if !(ratio > 0) {
		return 0
	}
	for n := 1; n <= WindowSize; n++ {
		// Exact at tenths: n/10 is the float64 nearest to the decimal, as
		// a ratio read from "0.5" is.
		if float64(n)/WindowSize >= ratio {
			return n
		}
	}
	return WindowSize + 1
}

// remindDue reports whether a reminder of a condition last told at *last is
// due at the observation made at at: every is set and at is at or after
// *last plus every. It then moves *last to at. A condition that reminders
// were turned on for after it was told (a reload: *last is zero) counts
// from at; with every unset, *last is cleared.
func remindDue(last *time.Time, at time.Time, every time.Duration) bool {
	switch {
	case every <= 0:
		*last = time.Time{}
		return false
	case last.IsZero():
		*last = at
		return false
	case at.Before(last.Add(every)):
		return false
	}
	*last = at
	return true
}

// failingData completes the data of a watch.failing event (or of its
// reminder) for f, given the health after the failure.
func failingData(d *EventData, h Health, f Failure) {
	d.Error = h.LastError
	if f.StatusCode != 0 {
		d.StatusCode = ptr(f.StatusCode)
	}
	d.ConsecutiveFailures = ptr(h.ConsecutiveFailures)
}

// failureText describes f in one line for last_error and watch.failing.
func failureText(f Failure) string {
	kind := string(f.Kind)
	if kind == "" {
		kind = "unknown"
	}
	if f.Message == "" {
		return kind
	}
	return kind + ": " + f.Message
}

// health returns the snapshot's failure bookkeeping.
func (s *Snapshot) health() Health {
	return Health{
		LastGoodPoll: s.LastGoodPoll, ConsecutiveFailures: s.ConsecutiveFailures,
		FirstFailureAt: s.FirstFailureAt, Failing: s.Failing, LastError: s.LastError,
		Window: s.Window, WindowPolls: s.WindowPolls, GoodStreak: s.GoodStreak, RemindedAt: s.RemindedAt,
	}
}

// setHealth stores h as the snapshot's failure bookkeeping.
func (s *Snapshot) setHealth(h Health) {
	s.LastGoodPoll, s.ConsecutiveFailures = h.LastGoodPoll, h.ConsecutiveFailures
	s.FirstFailureAt, s.Failing, s.LastError = h.FirstFailureAt, h.Failing, h.LastError
	s.Window, s.WindowPolls, s.GoodStreak, s.RemindedAt = h.Window, h.WindowPolls, h.GoodStreak, h.RemindedAt
}
