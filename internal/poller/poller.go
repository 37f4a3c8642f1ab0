// Package poller observes watched RealtimeKit meetings on their schedules
// and commits what changed.
//
// A [Scheduler] runs each [Watch]'s cycles on its cron schedule. One cycle
// is [Poller.Poll]: it reads the watch's snapshots from the store, observes
// every meeting through the API (package rtkapi), either meeting by meeting
// or through the app's sessions list, applies the rules of package diff to
// each observation, and commits every meeting's next snapshot together
// with its events. Every request waits for the API token's [Budget], which
// a 429 pauses.
//
// Where to read what:
//
//   - poller.go: the main types and Poll, which picks how a watch is read;
//   - meetings.go, workers.go: a watch read meeting by meeting, on workers
//     shared by every cycle, Options.Concurrency polls at once in all;
//   - list.go: a watch read through the sessions list (all_live, or many
//     explicit meetings);
//   - pages.go: a list read page by page, each page through the budget:
//     the live sessions, and the final numbers of one that ended;
//   - signal.go, media.go, usage.go, sharedread.go: the app-wide reads of
//     a watch (its recordings and livestreams lists) and of a usage block
//     (the app's analytics), shared by the watches of an app;
//   - observe.go: every request to the API, and the one place that turns
//     an answer, or an error of package rtkapi, into a diff.Observation;
//   - budget.go, window.go: the request budget, RealtimeKit's own window,
//     and how a 429 pauses them;
//   - exist.go: whether the watched meetings exist;
//   - commit.go, snapcache.go, share.go: snapshots read (decoded only when
//     their stored bytes changed), and the cycle's result written: only
//     what changed, in transactions that cycles ending together share;
//   - schedule.go, spread.go: schedules, each watch at its own offset
//     within its interval;
//   - plan.go, prune.go, watch.go, metrics.go, gauges.go: the budget plan
//     of a config, pruning, watches, metrics.
package poller

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// API is what the poller needs of the RealtimeKit API; *rtkapi.Client
// provides it. Its errors are those of package rtkapi. The poller reads
// lists page by page (an rtkapi.ListRead says which), so that every page
// waits for the budget.
type API interface {
	ActiveSession(ctx context.Context, appID, meetingID string) (*rtkapi.Session, error)
	SessionsPage(ctx context.Context, appID string, q rtkapi.ListQuery) (rtkapi.Page, error)
	Meeting(ctx context.Context, appID, meetingID string) error
	Recordings(ctx context.Context, appID string, o rtkapi.ListOptions) (rtkapi.RecordingList, error)
	Livestreams(ctx context.Context, appID string, o rtkapi.ListOptions) (rtkapi.LivestreamList, error)
	DaywiseUsage(ctx context.Context, appID, start, end string) (rtkapi.Usage, error)
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
	// Concurrency bounds the meetings polled at once one by one, by all the
	// cycles of the poller together; default 16. The requests in flight
	// of the whole daemon are bounded by the API client (rtkapi.Gate).
	Concurrency int
	// CommitLinger is how long a cycle's commit waits for the commits of
	// other watches' cycles, to share one store transaction with them; 0
	// commits at once. A daemon polling many watches often sets it; a
	// single pass over the watches (`once`) has nothing to share.
	CommitLinger time.Duration
	// PerPage is the page size of the sessions list; default
	// rtkapi.DefaultPerPage.
	PerPage int
	// Observer is told of every poll; nil means nobody listens.
	Observer Observer
	// Silences decides, as a cycle commits, which notifiers each event is
	// held from; nil means none is.
	Silences Silencer
	// Signals is told of every read of an app-wide signal; nil means
	// nobody listens.
	Signals SignalObserver
	// Gauges is told of each meeting's session after every commit; nil
	// means nobody listens.
	Gauges MeetingObserver
	Logger zerolog.Logger
	// Now stamps every observation; default time.Now.
	Now func() time.Time
}

// Silencer says which of the notifiers an event of watch at t is held
// from; *silence.Live provides it.
type Silencer interface {
	Silenced(t time.Time, watch string, notifiers []string) []string
}

// Observer is told what each poll and cycle found, for metrics.
type Observer interface {
	// Polled reports one observation of a meeting, or of a watch's
	// sessions list (list true; a list read whole is a good observation
	// of no session), and how long the requests behind it took.
	Polled(watch string, obs diff.Observation, list bool, took time.Duration)
	// Emitted reports one committed event.
	Emitted(watch string, ev diff.Event)
}

// SignalObserver is told of the reads of app-wide signals (recordings,
// livestreams, usage), for metrics.
type SignalObserver interface {
	// SignalRead reports one watch's read of a signal: "read" (it made the
	// requests), "shared" (it took another watch's read), or the failure
	// kind.
	SignalRead(watch, signal, outcome string)
	// LeftOut reports an entry of an answer that was left out of
	// judgement, and why: a diff.SkipReason, or "undecodable".
	LeftOut(signal, reason string)
}

// MeetingObserver is told what the store holds of each meeting once a
// cycle has committed it, for per-meeting gauges.
type MeetingObserver interface {
	// Observed reports a meeting's live session, nil when it has none.
	Observed(watch, meetingID string, s *diff.Session)
	// Forgot reports a meeting whose snapshot was deleted.
	Forgot(watch, meetingID string)
}

// Poller runs poll cycles: fetch, diff, commit.
type Poller struct {
	api    API
	opts   Options
	shared *sharedReads // app-wide reads, shared by the watches of an app

	progress sync.Map // watch → *atomic.Int64, Unix nanoseconds of its last API answer
	cache    snapshotCache
	commits  *sharedCommits // nil without a store
	slots    chan struct{}  // one per meeting polled now; see pollMeetings
	workers  *workers       // run the polls of pollMeetings
	steps    sync.Pool      // *[]meetingStep; see newSteps

	mu        sync.Mutex
	pages     map[string]int               // watch → pages its last sessions list took
	hints     map[string]rtkapi.PageHint   // watch → what its lists showed of the API's pages
	listHints map[readKey]*rtkapi.PageHint // the same, of an app's recordings and livestreams lists
	fallbacks map[string]int               // watch → cycles polled meeting by meeting
}

// New returns a Poller over api.
func New(api API, opts Options) *Poller {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.PerPage <= 0 {
		opts.PerPage = rtkapi.DefaultPerPage
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Poller{
		api: api, opts: opts, shared: newSharedReads(),
		pages: make(map[string]int), hints: make(map[string]rtkapi.PageHint), fallbacks: make(map[string]int),
		listHints: make(map[readKey]*rtkapi.PageHint),
		slots:     make(chan struct{}, opts.Concurrency), workers: newWorkers(),
	}
	if opts.Store != nil {
		p.commits = &sharedCommits{st: opts.Store, linger: opts.CommitLinger}
	}
	return p
}

// Close waits for the goroutines that polled meetings to exit, which they
// do within two seconds of their last poll anyway. Call it once no cycle
// runs; the poller polls nothing after it.
func (p *Poller) Close() { p.workers.close() }

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
	// state, when not nil, is stored instead of next: the MediaState or
	// UsageState of a signal (meeting RecordingsMeetingID, …), whose read
	// failed when failed is set.
	state  any
	failed bool
	// judged is set when confirmed was decided against the snapshot
	// decoded from the bytes stored at the cycle's start (see confirms),
	// so that commit does not look that snapshot up again.
	judged, confirmed bool
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
	case w.Usage != nil:
		steps = p.pollUsage(ctx, w, prevs)
	case w.AllLive:
		steps = p.pollList(ctx, w, prevs, nil)
	case p.useList(w):
		steps = p.pollList(ctx, w, prevs, w.Meetings)
	default:
		steps = p.pollMeetings(ctx, w, prevs)
	}
	if w.Recordings || w.Livestreams {
		steps = append(steps, p.pollMedia(ctx, w, prevs)...)
	}
	defer p.recycleSteps(steps)
	if err := ctx.Err(); err != nil && !slices.ContainsFunc(steps, observed) {
		return Cycle{Watch: w.Name}, err
	}
	return p.commit(w, steps, prevs)
}

// maxPooledSteps bounds the steps slices kept for reuse: a watch of many
// meetings (read through the sessions list) has its own.
const maxPooledSteps = 64

// newSteps returns n zero steps, from a slice a cycle used before when
// one is free: at 250 watches polled every second, the steps of every
// cycle were a tenth of what the daemon allocated.
func (p *Poller) newSteps(n int) []meetingStep {
	if n <= maxPooledSteps {
		if sp, ok := p.steps.Get().(*[]meetingStep); ok && cap(*sp) >= n {
			return (*sp)[:n]
		}
	}
	return make([]meetingStep, n)
}

// recycleSteps keeps steps for a later cycle once the cycle that used
// them has committed them: nothing keeps a reference to the slice (commit
// copies what it keeps).
func (p *Poller) recycleSteps(steps []meetingStep) {
	if cap(steps) == 0 || cap(steps) > maxPooledSteps {
		return
	}
	clear(steps[:cap(steps)])
	steps = steps[:0]
	p.steps.Put(&steps)
}

// observed reports whether a step holds an observation to commit.
func observed(s meetingStep) bool { return !s.skip }
