package poller

import (
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Log field names used by the poller.
const (
	logWatch   = "watch"
	logMeeting = "meeting"
	logSession = "session"
	logError   = "error"

	logKind        = "kind"         // a failure's kind
	logStatus      = "status"       // an HTTP status code
	logRetryAfter  = "retry_after"  // the pause a 429 imposed
	logUntil       = "until"        // when that pause ends
	logPausedUntil = "paused_until" // when the pause in force ends
	logLive        = "live"         // whether a session is live
	logEvents      = "events"       // events a poll committed
	logSignal      = "signal"       // the app-wide list a read is of
	logOutcome     = "outcome"      // read, shared, or a failure's kind
	logReason      = "reason"       // why an entry was left out
	logProblem     = "problem"      // what is wrong with an entry
	logID          = "id"           // a recording, livestream or usage day
	logValue       = "value"        // what an entry held that was wrong
)

// Watch is one configured watch, resolved for polling, or the job of one
// usage block (see [UsageWatchName]).
type Watch struct {
	Name     string
	AppID    string
	Meetings []string
	AllLive  bool
	Schedule string
	Rules    diff.Rules
	// Recordings and Livestreams ask each cycle for the app's recordings
	// and livestreams lists, after the meetings.
	Recordings, Livestreams bool
	// Usage, when not nil, makes the watch a usage block's job: each cycle
	// reads the app's daywise analytics under these rules, and nothing
	// else.
	Usage *diff.UsageRules
	// Routes maps each event type to the notifiers that receive it.
	Routes map[string][]string
}

// UsageWatchName is the name under which the job of the usage block of
// an app runs, logs, is counted in metrics and keeps its state. No watch
// can take it: watch names have no colon.
func UsageWatchName(appID string) string { return "usage:" + appID }

// UsageEventWatch is the "watch" of the events of usage blocks, which
// belong to no watch.
const UsageEventWatch = "usage"

// Watches resolves the watches of cfg: their rules, and for each event type
// the notifiers that want it. Each usage block with thresholds follows, as
// a job named UsageWatchName(app). A watch's price per participant minute,
// for session.ended, is that of its app's usage block.
func Watches(cfg *config.Config) []Watch {
	ws := make([]Watch, 0, len(cfg.Watches)+len(cfg.Usage))
	for _, w := range cfg.Watches {
		var price float64
		if u, ok := cfg.UsageOf(w.AppID); ok {
			price = u.PricePerParticipantMinute
		}
		ws = append(ws, Watch{
			Name:     w.Name,
			AppID:    w.AppID,
			Meetings: w.Meetings,
			AllLive:  w.AllLive,
			Schedule: w.Schedule,
			Rules: diff.Rules{
				ParticipantThresholds:     w.Thresholds.Participants,
				Hysteresis:                w.Thresholds.Hysteresis,
				MinutesThresholds:         w.Thresholds.MinutesConsumed,
				FailingAfter:              w.FailingAfter,
				FailingRatio:              w.FailingRatio,
				RecoverAfter:              w.RecoverAfter,
				RemindEvery:               w.RemindEvery,
				DurationThresholds:        w.Thresholds.Duration,
				Idle:                      diff.IdleRule{Participants: w.Idle.Participants, For: max(w.Idle.For, 0)},
				PricePerParticipantMinute: price,
			},
			Recordings:  w.Recordings,
			Livestreams: w.Livestreams,
			Routes:      routes(cfg, w.NotifierNames(cfg.Notifiers), diff.WatchEventTypes),
		})
	}
	for _, u := range cfg.Usage {
		if !u.Polled() {
			continue
		}
		ws = append(ws, Watch{
			Name:     UsageWatchName(u.AppID),
			AppID:    u.AppID,
			Schedule: u.Schedule,
			Usage: &diff.UsageRules{
				DailyMinutes:              u.DailyMinutes,
				MonthlyMinutes:            u.MonthlyMinutes,
				PricePerParticipantMinute: u.PricePerParticipantMinute,
				FailingAfter:              config.DefaultFailingAfter,
				RecoverAfter:              config.DefaultRecoverAfter,
			},
			Routes: routes(cfg, u.NotifierNames(cfg.Notifiers),
				[]string{diff.TypeUsageThreshold, diff.TypeWatchFailing, diff.TypeWatchRecovered}),
		})
	}
	return ws
}

// routes maps each of types to those of the named notifiers that want it.
func routes(cfg *config.Config, names, types []string) map[string][]string {
	r := make(map[string][]string, len(types))
	for _, typ := range types {
		for _, name := range names {
			if n, ok := cfg.Notifier(name); ok && n.Wants(typ) {
				r[typ] = append(r[typ], name)
			}
		}
	}
	return r
}
