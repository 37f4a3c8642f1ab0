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
)

// Watch is one configured watch, resolved for polling.
type Watch struct {
	Name     string
	AppID    string
	Meetings []string
	AllLive  bool
	Schedule string
	Rules    diff.Rules
	// Routes maps each event type to the notifiers that receive it.
	Routes map[string][]string
}

// Watches resolves the watches of cfg: their rules, and for each event type
// the notifiers that want it.
func Watches(cfg *config.Config) []Watch {
	ws := make([]Watch, 0, len(cfg.Watches))
	for _, w := range cfg.Watches {
		names := w.NotifierNames(cfg.Notifiers)
		routes := make(map[string][]string, len(diff.EventTypes))
		for _, typ := range diff.EventTypes {
			for _, name := range names {
				if n, ok := cfg.Notifier(name); ok && n.Wants(typ) {
					routes[typ] = append(routes[typ], name)
				}
			}
		}
		ws = append(ws, Watch{
			Name:     w.Name,
			AppID:    w.AppID,
			Meetings: w.Meetings,
			AllLive:  w.AllLive,
			Schedule: w.Schedule,
			Rules: diff.Rules{
				ParticipantThresholds: w.Thresholds.Participants,
				Hysteresis:            w.Thresholds.Hysteresis,
				MinutesThresholds:     w.Thresholds.MinutesConsumed,
				FailingAfter:          w.FailingAfter,
				FailingRatio:          w.FailingRatio,
				RecoverAfter:          w.RecoverAfter,
				RemindEvery:           w.RemindEvery,
			},
			Routes: routes,
		})
	}
	return ws
}
