package poller

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// The snapshot keys of what a watch remembers besides its meetings: the
// state of its recordings and livestreams lists, and (under the watch
// UsageWatchName(app)) of its app's usage. RealtimeKit meeting ids never
// start with "*".
const (
	RecordingsMeetingID  = "*recordings"
	LivestreamsMeetingID = "*livestreams"
	UsageMeetingID       = "*usage"
)

// IsMeeting reports whether a snapshot key of a watch names a meeting,
// rather than the watch's own records (WatchMeetingID and the keys above).
func IsMeeting(meetingID string) bool { return !strings.HasPrefix(meetingID, "*") }

// signalRead is one read of an app-wide signal, as the watches of the app
// share it: the observation for package diff, and the entries of the
// answer that did not decode.
type signalRead[O any] struct {
	obs      O
	at       time.Time
	failure  *diff.Failure
	problems []string
}

// signalPoll is what pollSignal needs to know of one signal.
type signalPoll[O, S any] struct {
	signal  string // diff.SignalRecordings, …
	meeting string // the key of its state, RecordingsMeetingID, …
	// read makes the requests and returns the observation; it is called
	// only when no read of another watch can be shared.
	read func(ctx context.Context) signalRead[O]
	// apply judges the observation against the stored state.
	apply func(prev S, obs O) (S, []diff.Event, []diff.Skipped)
}

// pollSignal reads one signal of w (or takes the read another watch of its
// app made within its share window) and applies its rules to the state
// stored as prev. It returns false when ctx ended first: nothing is known,
// nothing changes.
func pollSignal[O, S any](ctx context.Context, p *Poller, w Watch, prev []byte, sp signalPoll[O, S]) (meetingStep, bool) {
	key := readKey{w.AppID, sp.signal}
	v, fresh, ok := p.shared.get(ctx, key, shareWindow(w.Schedule, p.opts.Now()), p.opts.Now, func() (any, time.Time, bool) {
		r := sp.read(ctx)
		return r, r.at, r.failure == nil && ctx.Err() == nil
	})
	if !ok || ctx.Err() != nil {
		return meetingStep{}, false
	}
	r := v.(signalRead[O])
	var state S
	if prev != nil {
		if err := json.Unmarshal(prev, &state); err != nil {
			p.opts.Logger.Error().Err(err).Str(logWatch, w.Name).Str(logSignal, sp.signal).
				Msg("stored state does not decode; taking a new baseline")
			var zero S
			state = zero
		}
	}
	next, events, skipped := sp.apply(state, r.obs)
	outcome := "shared"
	switch {
	case r.failure != nil:
		outcome = string(r.failure.Kind)
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logSignal, sp.signal).Str(logKind, string(r.failure.Kind)).
			Int(logStatus, r.failure.StatusCode).Str(logError, r.failure.Message).Msg("read failed")
	case fresh:
		outcome = "read"
	}
	if p.opts.Signals != nil {
		p.opts.Signals.SignalRead(w.Name, sp.signal, outcome)
	}
	p.reportLeftOut(w, key, r.at, r.problems, skipped)
	if e := p.opts.Logger.Debug(); e.Enabled() {
		e.Str(logWatch, w.Name).Str(logSignal, sp.signal).Str(logOutcome, outcome).Int(logEvents, len(events)).Msg("read")
	}
	return meetingStep{meeting: sp.meeting, state: next, events: events, failed: r.failure != nil}, true
}

// undecodable is the reason counted for an entry of an answer that did not
// decode at all, beside diff's SkipReasons.
const undecodable = "undecodable"

// reportLeftOut logs and counts the entries of a read that were left out
// of judgement: those that did not decode (problems) and those the rules
// skipped. Each is reported once while it stays in the answers, however
// many watches share the read.
func (p *Poller) reportLeftOut(w Watch, key readKey, at time.Time, problems []string, skipped []diff.Skipped) {
	for _, pr := range problems {
		if !p.shared.firstSeen(key, at, undecodable+"\x00"+pr) {
			continue
		}
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logSignal, key.signal).Str(logReason, undecodable).
			Str(logProblem, pr).Msg("an entry of the answer does not decode; it is left out")
		if p.opts.Signals != nil {
			p.opts.Signals.LeftOut(key.signal, undecodable)
		}
	}
	for _, s := range skipped {
		if !p.shared.firstSeen(key, at, string(s.Reason)+"\x00"+s.ID+"\x00"+s.MeetingID+"\x00"+s.Value) {
			continue
		}
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logSignal, key.signal).Str(logReason, string(s.Reason)).
			Str(logID, s.ID).Str(logMeeting, s.MeetingID).Str(logValue, s.Value).
			Msg("an entry of the answer cannot be judged; it is left out")
		if p.opts.Signals != nil {
			p.opts.Signals.LeftOut(key.signal, string(s.Reason))
		}
	}
}

// listRequest reads one app-wide list for watch with send, which is given
// the BeforePage hook of rtkapi.ListOptions: the first page waits for the
// request budget as every request does, and so does each page after it.
func listRequest[T any](ctx context.Context, p *Poller, watch string, send func(context.Context, func(context.Context) error) (T, error)) (T, error) {
	first := true
	return request(ctx, p, watch, func(ctx context.Context) (T, error) {
		return send(ctx, func(ctx context.Context) error {
			if first {
				first = false // request waited for it
				return nil
			}
			p.touch(watch)
			return p.wait(ctx)
		})
	})
}

// completed returns the read that ends now: failed with err when it is
// not nil (an error of package rtkapi), else good with the problems of its
// answer. obs makes the observation of the read, given its time and
// failure; the entries it lists count only when the failure is nil.
func completed[O any](p *Poller, err error, problems []string, obs func(at time.Time, f *diff.Failure) O) signalRead[O] {
	r := signalRead[O]{at: p.opts.Now()}
	if err != nil {
		r.failure = p.observation(nil, err).Failure
	} else {
		r.problems = problems
	}
	r.obs = obs(r.at, r.failure)
	return r
}

// listOptions are the options of a read of the list that key names, now:
// the items of the media horizon, PerPage a page, and what the list's
// earlier reads showed of the API's pages. Reads of one key are made one at
// a time (sharedReads), so the hint is theirs alone while they run.
func (p *Poller) listOptions(key readKey, beforePage func(context.Context) error) rtkapi.ListOptions {
	p.mu.Lock()
	hint := p.listHints[key]
	if hint == nil {
		hint = new(rtkapi.PageHint)
		p.listHints[key] = hint
	}
	p.mu.Unlock()
	return rtkapi.ListOptions{
		Since: p.opts.Now().Add(-diff.DefaultMediaHorizon), PerPage: p.opts.PerPage, BeforePage: beforePage, Hint: hint,
	}
}
