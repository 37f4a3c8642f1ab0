package poller

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// request makes one API request for watch: it waits for the budget, sends
// the request, records that the API answered (for [Poller.LastProgress]),
// lets a 429 pause every request of the token, and any other answer end a
// run of 429s. Every request of the poller goes through it.
//
// When ctx ends before or during the request, the answer says nothing
// about the API: callers check ctx.Err and drop it.
func request[T any](ctx context.Context, p *Poller, watch string, send func(context.Context) (T, error)) (T, error) {
	return requestAfter(ctx, p, watch, p.wait, send)
}

// spareRequest is [request] at the budget's lower priority
// ([Budget.WaitSpare]), for requests that can wait.
func spareRequest[T any](ctx context.Context, p *Poller, watch string, send func(context.Context) (T, error)) (T, error) {
	return requestAfter(ctx, p, watch, p.waitSpare, send)
}

// requestAfter is [request] with wait taking the request from the budget.
func requestAfter[T any](ctx context.Context, p *Poller, watch string, wait func(context.Context) error, send func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := wait(ctx); err != nil {
		return zero, err
	}
	v, err := send(ctx)
	p.touch(watch)
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	switch e, ok := errors.AsType[*rtkapi.Error](err); {
	case ok && e.Kind == rtkapi.KindRateLimited:
		p.rateLimited(e.RetryAfter)
	case answered(err) && p.opts.Budget != nil:
		p.opts.Budget.Answered()
	}
	return v, err
}

// answered reports whether err, the outcome of a request, comes from an
// answer of the API: no error, an answer such as rtkapi.ErrNoActiveSession,
// or an *rtkapi.Error with an HTTP status.
func answered(err error) bool {
	if e, ok := errors.AsType[*rtkapi.Error](err); ok {
		return e.StatusCode != 0
	}
	return true
}

// wait takes one request from the budget.
func (p *Poller) wait(ctx context.Context) error {
	if p.opts.Budget == nil {
		return ctx.Err()
	}
	return p.opts.Budget.Wait(ctx)
}

// waitSpare takes one request from the budget at its lower priority.
func (p *Poller) waitSpare(ctx context.Context) error {
	if p.opts.Budget == nil {
		return ctx.Err()
	}
	return p.opts.Budget.WaitSpare(ctx)
}

// rateLimited pauses the token's budget after a 429, and says so when the
// pause grows.
func (p *Poller) rateLimited(retryAfter time.Duration) {
	if p.opts.Budget == nil {
		return
	}
	if d, until, longer := p.opts.Budget.RateLimited(retryAfter); longer {
		p.opts.Logger.Warn().Dur(logRetryAfter, d).Time(logUntil, until).
			Msg("the API rate-limits this token: every request waits")
	}
}

// LastProgress is when the poller last heard back from the API, answer or
// error, for watch; the zero time before its first request.
func (p *Poller) LastProgress(watch string) time.Time {
	v, ok := p.progress.Load(watch)
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, v.(*atomic.Int64).Load())
}

// touch records that a request of watch came back.
func (p *Poller) touch(watch string) {
	v, ok := p.progress.Load(watch)
	if !ok {
		v, _ = p.progress.LoadOrStore(watch, new(atomic.Int64))
	}
	v.(*atomic.Int64).Store(p.opts.Now().UnixNano())
}

// activeSession observes one meeting through its active session.
func (p *Poller) activeSession(ctx context.Context, w Watch, meetingID string) diff.Observation {
	s, err := request(ctx, p, w.Name, func(ctx context.Context) (*rtkapi.Session, error) {
		return p.api.ActiveSession(ctx, w.AppID, meetingID)
	})
	return p.observation(s, err)
}

// observation turns one answer of the API into what package diff
// understands, stamped with the poller's clock: a session; no session
// (rtkapi.ErrNoActiveSession, or no error and no session, as a sessions
// list that was read whole); or a failure. It is the one place where the
// errors of package rtkapi become observations.
func (p *Poller) observation(s *rtkapi.Session, err error) diff.Observation {
	obs := diff.Observation{At: p.opts.Now()}
	e, isAPI := errors.AsType[*rtkapi.Error](err)
	switch {
	case err == nil && s != nil:
		obs.Kind, obs.Session = diff.ObservedSession, session(s)
	case err == nil || errors.Is(err, rtkapi.ErrNoActiveSession):
		obs.Kind = diff.ObservedNoSession
	case isAPI:
		// rtkapi's kinds carry the names of diff's failure kinds.
		obs.Kind, obs.Failure = diff.ObservedFailure, &diff.Failure{
			Kind: diff.FailureKind(e.Kind), StatusCode: e.StatusCode, Message: e.Message, RetryAfter: e.RetryAfter,
		}
	default:
		obs.Kind, obs.Failure = diff.ObservedFailure, &diff.Failure{Kind: diff.FailureClient, Message: err.Error()}
	}
	return obs
}

// session converts a session of the API to package diff's type; nil stays
// nil. The two types have the same fields.
func session(s *rtkapi.Session) *diff.Session {
	if s == nil {
		return nil
	}
	d := diff.Session(*s)
	return &d
}

// logPoll logs one poll: failures as warnings, the rest at debug level.
// Every line names the watch, the meeting and the session.
func (p *Poller) logPoll(w Watch, meetingID string, prev diff.Snapshot, obs diff.Observation, events int) {
	session := ""
	switch {
	case obs.Session != nil:
		session = obs.Session.ID
	case prev.Session != nil:
		session = prev.Session.ID
	}
	if obs.Kind == diff.ObservedFailure && obs.Failure != nil {
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logSession, session).
			Str(logKind, string(obs.Failure.Kind)).Int(logStatus, obs.Failure.StatusCode).
			Str(logError, obs.Failure.Message).Msg("poll failed")
		return
	}
	if e := p.opts.Logger.Debug(); e.Enabled() {
		e.Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logSession, session).
			Bool(logLive, obs.Session != nil).Int(logEvents, events).Msg("polled")
	}
}
