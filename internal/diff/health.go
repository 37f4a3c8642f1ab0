package diff

import "time"

// Health is the failure bookkeeping of one thing rtkwatchd polls: a meeting
// (a Snapshot keeps the same fields), or one signal of a watch, such as its
// recordings list or an app's usage. One set of rules decides for all of them
// when a run of failed polls becomes watch.failing and when it ends.
type Health struct {
	// LastGoodPoll is the time of the last successful poll.
	LastGoodPoll time.Time `json:"last_good_poll,omitzero"`
	// ConsecutiveFailures counts failed polls since the last good one.
	ConsecutiveFailures int `json:"consecutive_failures,omitempty"`
	// FirstFailureAt is when the current run of failures began.
	FirstFailureAt time.Time `json:"first_failure_at,omitzero"`
	// Failing is true once watch.failing has been emitted and until
	// watch.recovered is.
	Failing bool `json:"failing,omitempty"`
	// LastError describes the last failure, secret-free.
	LastError string `json:"last_error,omitempty"`
}

// failed records the failed poll f made at at, and reports whether
// watch.failing is due now: once per run of failures, when the run reaches
// failingAfter (at least 1), or at once for an authentication failure
// (FailureAuth, or status 401 or 403).
func (h *Health) failed(f Failure, at time.Time, failingAfter int) bool {
	if h.ConsecutiveFailures <= 0 {
		h.ConsecutiveFailures = 0
		h.FirstFailureAt = at
	}
	h.ConsecutiveFailures++
	h.LastError = failureText(f)
	auth := f.Kind == FailureAuth || f.StatusCode == 401 || f.StatusCode == 403
	if h.Failing || (h.ConsecutiveFailures < max(failingAfter, 1) && !auth) {
		return false
	}
	h.Failing = true
	return true
}

// good records a successful poll made at at, which ends any run of
// failures. It reports whether watch.recovered is due (watch.failing was
// emitted for the run), and how long the run lasted in whole seconds.
func (h *Health) good(at time.Time) (recovered bool, failedFor int64) {
	recovered, failedFor = h.Failing, wholeSeconds(h.FirstFailureAt, at)
	*h = Health{LastGoodPoll: at}
	return recovered, failedFor
}

// failingData completes the data of a watch.failing event for f, given the
// health after the failure.
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
	}
}

// setHealth stores h as the snapshot's failure bookkeeping.
func (s *Snapshot) setHealth(h Health) {
	s.LastGoodPoll, s.ConsecutiveFailures = h.LastGoodPoll, h.ConsecutiveFailures
	s.FirstFailureAt, s.Failing, s.LastError = h.FirstFailureAt, h.Failing, h.LastError
}
