package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// WatchMeetingID is the snapshot key of an all-live watch's own health
// record: the failures of the sessions list belong to the watch, not to any
// one meeting. RealtimeKit meeting ids never take this form.
const WatchMeetingID = "*"

// commitBatch is how many meetings share one store transaction.
const commitBatch = 512

// API is what the poller needs of the RealtimeKit API; *Client provides it.
type API interface {
	ActiveSession(ctx context.Context, appID, meetingID string) diff.Observation
	LiveSessions(ctx context.Context, appID string, perPage int) ([]diff.Session, int, *diff.Failure)
	EndedSession(ctx context.Context, appID, meetingID, sessionID string) (*diff.Session, *diff.Failure)
}

// Store is what the poller needs of the state store; *store.Store provides it.
type Store interface {
	Snapshots(watch string) (map[string][]byte, error)
	Commit(updates []store.Update) error
}

// Options configure a Poller.
type Options struct {
	AccountID string
	// Store holds the snapshots. Nil means no state at all: every meeting is
	// new (only useful with DryRun).
	Store Store
	// DryRun computes events without writing anything.
	DryRun bool
	// Budget paces requests; nil means unlimited.
	Budget *Budget
	// Concurrency bounds the polls of one cycle in flight at once; default 16.
	Concurrency int
	// PerPage is the page size of the sessions list; default 100.
	PerPage int
	// Observer is told of every poll; nil means nobody listens.
	Observer Observer
	Logger   zerolog.Logger
	// Now stamps observations that never reached the API; default time.Now.
	Now func() time.Time
}

// Observer is told what each poll and cycle found, for metrics.
type Observer interface {
	// Polled reports one observation of a meeting (or of an all-live
	// watch's sessions list) and how long the requests behind it took.
	Polled(watch string, obs diff.Observation, took time.Duration)
	// Emitted reports one committed event.
	Emitted(watch string, ev diff.Event)
}

// Poller runs poll cycles: fetch, diff, commit.
type Poller struct {
	api  API
	opts Options

	progress sync.Map // watch → *atomic.Int64, Unix nanoseconds of its last API answer

	mu        sync.Mutex
	pages     map[string]int // watch → pages its last sessions list took
	fallbacks map[string]int // watch → cycles polled meeting by meeting
}

// New returns a Poller over api.
func New(api API, opts Options) *Poller {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.PerPage <= 0 {
		opts.PerPage = DefaultPerPage
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Poller{api: api, opts: opts, pages: make(map[string]int), fallbacks: make(map[string]int)}
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

// Cycle is the outcome of one poll of one watch.
type Cycle struct {
	Watch    string
	Events   []diff.Event // committed (or, in a dry run, computed), in order
	Polls    int          // observations made
	Failures int          // of which failed
}

// meetingStep is one meeting's result within a cycle.
type meetingStep struct {
	meeting string
	next    diff.Snapshot
	events  []diff.Event
	skip    bool // no observation (cancelled): write nothing
	forget  bool // delete the meeting's snapshot
}

// Poll runs one cycle of w: it observes every meeting, applies the rules and
// commits each meeting's next snapshot together with its events. It returns
// an error only when the cycle could not run or commit at all; failed polls
// are observations, not errors.
func (p *Poller) Poll(ctx context.Context, w Watch) (Cycle, error) {
	prevs, err := p.snapshots(w.Name)
	if err != nil {
		return Cycle{Watch: w.Name}, err
	}
	var steps []meetingStep
	switch {
	case w.AllLive:
		steps = p.pollList(ctx, w, prevs, nil)
	case p.useList(w):
		steps = p.pollList(ctx, w, prevs, w.Meetings)
	default:
		steps = p.pollMeetings(ctx, w, prevs)
	}
	if err := ctx.Err(); err != nil && !slices.ContainsFunc(steps, observed) {
		return Cycle{Watch: w.Name}, err
	}
	return p.commit(w, steps)
}

// observed reports whether a step holds an observation to commit.
func observed(s meetingStep) bool { return !s.skip }

func (p *Poller) snapshots(watch string) (map[string][]byte, error) {
	if p.opts.Store == nil {
		return nil, nil
	}
	prevs, err := p.opts.Store.Snapshots(watch)
	if err != nil {
		return nil, fmt.Errorf("read snapshots of watch %s: %w", watch, err)
	}
	return prevs, nil
}

// decodeSnapshot turns stored bytes into a snapshot. A snapshot that does not
// decode is logged and replaced by a fresh baseline rather than blocking the
// meeting for ever.
func (p *Poller) decodeSnapshot(w Watch, meetingID string, b []byte) diff.Snapshot {
	var s diff.Snapshot
	if b == nil {
		return s
	}
	if err := json.Unmarshal(b, &s); err != nil {
		p.opts.Logger.Error().Err(err).Str(logWatch, w.Name).Str(logMeeting, meetingID).
			Msg("stored snapshot does not decode; taking a new baseline")
		return diff.Snapshot{}
	}
	return s
}

func (p *Poller) meeting(w Watch, meetingID string) diff.Meeting {
	return diff.Meeting{Watch: w.Name, AccountID: p.opts.AccountID, AppID: w.AppID, MeetingID: meetingID}
}

// pollMeetings observes each explicit meeting of w, at most
// opts.Concurrency at once. A panic in one meeting's poll is raised again
// in the caller's goroutine once every poll has returned, where the
// scheduler recovers it; left in its own goroutine it would end the process.
func (p *Poller) pollMeetings(ctx context.Context, w Watch, prevs map[string][]byte) []meetingStep {
	steps := make([]meetingStep, len(w.Meetings))
	sem := make(chan struct{}, p.opts.Concurrency)
	var (
		wg        sync.WaitGroup
		panicOnce sync.Once
		panicked  error
	)
	for i, id := range w.Meetings {
		// Take a slot before starting the goroutine, so that a long
		// watchlist never has more than Concurrency goroutines.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			steps[i] = meetingStep{meeting: id, skip: true}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					panicOnce.Do(func() {
						panicked = fmt.Errorf("poll meeting %s of watch %s: panic: %v\n%s", id, w.Name, r, debug.Stack())
					})
				}
			}()
			steps[i] = p.pollMeeting(ctx, w, id, p.decodeSnapshot(w, id, prevs[id]))
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return steps
}

func (p *Poller) pollMeeting(ctx context.Context, w Watch, meetingID string, prev diff.Snapshot) meetingStep {
	if err := p.wait(ctx); err != nil {
		return meetingStep{meeting: meetingID, skip: true}
	}
	start := time.Now()
	obs := p.api.ActiveSession(ctx, w.AppID, meetingID)
	p.touch(w.Name)
	if ctx.Err() != nil {
		// Shutting down: an interrupted request says nothing about the API.
		return meetingStep{meeting: meetingID, skip: true}
	}
	p.noteFailure(obs)
	if sessionID, ends := diff.EndsSession(prev, obs); ends {
		obs.Final = p.finalNumbers(ctx, w, meetingID, sessionID)
		if ctx.Err() != nil {
			// Interrupted while fetching the final numbers: the end is
			// reported, with them, by the next cycle.
			return meetingStep{meeting: meetingID, skip: true}
		}
	}
	if p.opts.Observer != nil {
		p.opts.Observer.Polled(w.Name, obs, time.Since(start))
	}
	next, events := diff.Apply(p.meeting(w, meetingID), prev, obs, w.Rules)
	p.logPoll(w, meetingID, prev, obs, len(events))
	return meetingStep{meeting: meetingID, next: next, events: events}
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
			Str("kind", string(obs.Failure.Kind)).Int("status", obs.Failure.StatusCode).
			Str(logError, obs.Failure.Message).Msg("poll failed")
		return
	}
	if e := p.opts.Logger.Debug(); e.Enabled() {
		e.Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logSession, session).
			Bool("live", obs.Session != nil).Int("events", events).Msg("polled")
	}
}

// finalNumbers fetches an ended session's final numbers; nil when the API
// does not have them (yet) or the request fails: the event goes out without.
func (p *Poller) finalNumbers(ctx context.Context, w Watch, meetingID, sessionID string) *diff.Session {
	if err := p.wait(ctx); err != nil {
		return nil
	}
	final, f := p.api.EndedSession(ctx, w.AppID, meetingID, sessionID)
	p.touch(w.Name)
	if f != nil && ctx.Err() == nil {
		p.noteFailure(diff.Observation{Kind: diff.ObservedFailure, Failure: f})
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logSession, sessionID).
			Str(logError, f.Message).Msg("final numbers of ended session unavailable")
		return nil
	}
	return final
}

// wait takes one request from the budget.
func (p *Poller) wait(ctx context.Context) error {
	if p.opts.Budget == nil {
		return ctx.Err()
	}
	return p.opts.Budget.Wait(ctx)
}

// defaultRateLimitPause holds polls after a 429 that names no Retry-After.
const defaultRateLimitPause = 30 * time.Second

// noteFailure pauses the whole token's budget when the API rate-limits us.
func (p *Poller) noteFailure(obs diff.Observation) {
	if obs.Kind != diff.ObservedFailure || obs.Failure == nil || p.opts.Budget == nil {
		return
	}
	if obs.Failure.Kind == diff.FailureRateLimited {
		d := obs.Failure.RetryAfter
		if d <= 0 {
			d = defaultRateLimitPause
		}
		if until := p.opts.Now().Add(d); until.After(p.opts.Budget.PausedUntil()) {
			p.opts.Logger.Warn().Dur("retry_after", d).Time("until", until).
				Msg("the API rate-limits this token: every request waits")
		}
		p.opts.Budget.Pause(d)
	}
}

// commit writes the cycle's snapshots and events in batched transactions.
func (p *Poller) commit(w Watch, steps []meetingStep) (Cycle, error) {
	c := Cycle{Watch: w.Name}
	updates := make([]store.Update, 0, min(len(steps), commitBatch))
	var pending []diff.Event
	flush := func() error {
		if len(updates) == 0 {
			return nil
		}
		if !p.opts.DryRun && p.opts.Store != nil {
			if err := p.opts.Store.Commit(updates); err != nil {
				return fmt.Errorf("commit cycle of watch %s: %w", w.Name, err)
			}
		}
		c.Events = append(c.Events, pending...)
		if p.opts.Observer != nil {
			for _, ev := range pending {
				p.opts.Observer.Emitted(w.Name, ev)
			}
		}
		updates, pending = updates[:0], pending[:0]
		return nil
	}
	for _, s := range steps {
		if s.skip {
			continue
		}
		u := store.Update{Key: store.SnapshotKey{Watch: w.Name, MeetingID: s.meeting}, Delete: true}
		if !s.forget {
			c.Polls++
			if s.next.ConsecutiveFailures > 0 {
				c.Failures++
			}
			var err error
			if u, err = p.update(w, s); err != nil {
				return c, err
			}
		}
		updates = append(updates, u)
		pending = append(pending, s.events...)
		if len(updates) == commitBatch {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	return c, flush()
}

func (p *Poller) update(w Watch, s meetingStep) (store.Update, error) {
	snap, err := json.Marshal(s.next)
	if err != nil {
		return store.Update{}, fmt.Errorf("encode snapshot of meeting %s: %w", s.meeting, err)
	}
	u := store.Update{Key: store.SnapshotKey{Watch: w.Name, MeetingID: s.meeting}, Snapshot: snap}
	for _, ev := range s.events {
		body, err := json.Marshal(ev)
		if err != nil {
			return store.Update{}, fmt.Errorf("encode event %s: %w", ev.Data.ID, err)
		}
		u.Events = append(u.Events, store.NewEvent{
			ID: ev.Data.ID, Type: ev.Type, CreatedAt: ev.Timestamp, Body: body,
			Notifiers: w.Routes[ev.Type],
		})
	}
	return u, nil
}
