// Package config turns rtkwatchd's YAML configuration file into a validated
// Config.
//
// The YAML library decodes the file into Config's own structs, strictly: an
// unknown key, a repeated key, a value of the wrong type or a malformed
// duration is an error. Every error names the field and its line, found
// from the positions of the parsed document's nodes. Scalar values may
// reference the environment as ${NAME}; $$ stands for a literal dollar
// sign. Every secret (a Secret field such as api.token, a notifier's url or
// secret) can instead be read from a file named by the matching *_file key,
// such as a systemd credential under ${CREDENTIALS_DIRECTORY}. Anchors,
// aliases and merge keys ("<<") work as in YAML, for example to share
// settings between watches. Fields left out take the values of Default.
// Validate then checks the whole configuration and reports every problem it
// finds, not just the first.
//
// A new key is one tagged field of these structs (and its default in
// Default, and its rule in Validate); decoding, *_file secrets and error
// positions follow from the field's type.
//
// Secrets are held in the Secret type, which prints, logs and marshals as
// "[redacted]". Error messages never contain a secret.
package config

import (
	"slices"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// Defaults of the fields a configuration file may leave out.
const (
	DefaultBaseURL         = rtkapi.DefaultBaseURL
	DefaultAPITimeout      = 10 * time.Second
	DefaultRequestsPer5m   = 1000
	DefaultStorePath       = "/var/lib/rtkwatchd/state.db"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "auto"
	DefaultAdminListen     = "127.0.0.1:9464"
	DefaultDeliveryTimeout = 10 * time.Second
	DefaultMaxAttempts     = 15
	DefaultMaxAge          = 24 * time.Hour
	DefaultSchedule        = "@every 30s"
	DefaultFailingAfter    = 3
	DefaultRecoverAfter    = 1
	DefaultUsageSchedule   = "@every 10m"
	DefaultMaxSeries       = 5000
)

// Defaults of the history's bounds: a week, and at most 100,000 events or
// 256 MiB, whichever is reached first.
const (
	DefaultHistory          = 168 * time.Hour
	DefaultHistoryMaxEvents = 100_000
	DefaultHistoryMaxMB     = 256
)

// MinRemindEvery is the shortest remind_every a watch may ask for.
const MinRemindEvery = time.Minute

// DefaultDeadLetterRetention is how long dead letters are kept: 30 days.
const DefaultDeadLetterRetention = 720 * time.Hour

// MaxRequestsPer5m is Cloudflare's limit of API requests per token in five
// minutes; api.requests_per_5m may not exceed it while api.base_url points at
// Cloudflare.
const MaxRequestsPer5m = 1200

// Config is rtkwatchd's whole configuration.
type Config struct {
	API       API        `yaml:"api"`
	Store     Store      `yaml:"store"`
	Log       Log        `yaml:"log"`
	Admin     Admin      `yaml:"admin"`
	Notifiers []Notifier `yaml:"notifiers"`
	Delivery  Delivery   `yaml:"delivery"`
	Heartbeat Heartbeat  `yaml:"heartbeat"`
	Watches   []Watch    `yaml:"watches"`
	Silences  []Silence  `yaml:"silences"`
	// Usage are the apps whose minutes are read from their daywise
	// analytics, one block per app.
	Usage []Usage `yaml:"usage"`
	// Metrics configures what /metrics exports beyond its fixed series.
	Metrics Metrics `yaml:"metrics"`
	// HA, when set, keeps the state in etcd and elects one node to poll
	// and deliver; nil means one process and the bbolt file of Store.
	HA *HA `yaml:"ha"`
}

// API configures access to the Cloudflare RealtimeKit API.
type API struct {
	// AccountID is the Cloudflare account that owns the RealtimeKit apps.
	AccountID string `yaml:"account_id"`
	// Token is the API token, from api.token or api.token_file.
	Token Secret `yaml:"token"`
	// BaseURL is the root of the Cloudflare v4 API.
	BaseURL string `yaml:"base_url"`
	// Timeout bounds each API request.
	Timeout time.Duration `yaml:"timeout"`
	// RequestsPer5m is the request budget shared by every watch, at most
	// MaxRequestsPer5m.
	RequestsPer5m int `yaml:"requests_per_5m"`
}

// Store configures the bbolt state file.
type Store struct {
	// Path is the file that holds snapshots, the outbox and dead letters.
	Path string `yaml:"path"`
	// History is how long committed events are kept for `rtkwatchd
	// events` and replay.
	History time.Duration `yaml:"history"`
	// HistoryMaxEvents bounds the history's count: the oldest events go
	// first when it holds more.
	HistoryMaxEvents int `yaml:"history_max_events"`
	// HistoryMaxMB bounds the history's size in MiB (its records and
	// keys): the oldest events go first when it is larger.
	HistoryMaxMB int `yaml:"history_max_mb"`
}

// Log configures the daemon's log output.
type Log struct {
	// Level is one of debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json (one object per line, for journald), console (for
	// people), or auto: console on a terminal, json otherwise.
	Format string `yaml:"format"`
}

// Admin configures the HTTP listener of /metrics, /healthz and /readyz.
type Admin struct {
	// Listen is a host:port; the empty string disables the listener.
	Listen string `yaml:"listen"`
}

// Delivery configures retries of notifications.
type Delivery struct {
	// Timeout bounds each delivery attempt.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is how many attempts an event gets before it becomes a
	// dead letter.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxAge is how long after its creation an event may still be retried.
	MaxAge time.Duration `yaml:"max_age"`
	// DeadLetterRetention is how long a dead letter is kept; older ones are
	// removed.
	DeadLetterRetention time.Duration `yaml:"dead_letter_retention"`
	// CircuitAfter is how long every delivery to a notifier must have
	// failed before it is paused, probed once a minute, and reported to the
	// other notifiers with notifier.failing.
	CircuitAfter time.Duration `yaml:"circuit_after"`
}

// Watch is a group of meetings of one RealtimeKit app polled on one schedule.
type Watch struct {
	// Name identifies the watch in events, metrics and the store.
	Name string `yaml:"name"`
	// AppID is the RealtimeKit app that owns the meetings.
	AppID string `yaml:"app_id"`
	// Meetings are the meeting IDs polled one by one.
	Meetings []string `yaml:"meetings"`
	// AllLive also watches every live session of the app, found through the
	// sessions list.
	AllLive bool `yaml:"all_live"`
	// Schedule is the cron spec as written; see ParseSchedule.
	Schedule string `yaml:"schedule"`
	// Thresholds are the levels that trigger threshold events.
	Thresholds Thresholds `yaml:"thresholds"`
	// Idle asks for session.idle when a live session stays nearly empty.
	Idle Idle `yaml:"idle"`
	// Recordings asks for recording.* events, from the app's recordings
	// list.
	Recordings bool `yaml:"recordings"`
	// Livestreams asks for livestream.* events, from the app's livestreams
	// list.
	Livestreams bool `yaml:"livestreams"`
	// FailingAfter is how many consecutive failed polls emit watch.failing.
	FailingAfter int `yaml:"failing_after"`
	// FailingRatio, when not 0, also emits watch.failing once failed polls
	// make up this fraction, in (0, 1], of the last 10 polls.
	FailingRatio float64 `yaml:"failing_ratio"`
	// RecoverAfter is how many good polls in a row end a run of failures
	// that emitted watch.failing, with watch.recovered; at least 1.
	RecoverAfter int `yaml:"recover_after"`
	// RemindEvery, when not 0, repeats watch.failing and session.idle while
	// they last, at least MinRemindEvery apart.
	RemindEvery time.Duration `yaml:"remind_every"`
	// Notify names the notifiers of this watch's events. Empty means every
	// notifier; see NotifierNames.
	Notify []string `yaml:"notify"`
}

// Thresholds are a watch's trigger levels. Load and Validate sort both lists
// ascending.
type Thresholds struct {
	// Participants are live participant counts, each > 0.
	Participants []int `yaml:"participants"`
	// Hysteresis re-arms a participant threshold T only once the count falls
	// below T - Hysteresis. It is smaller than every participant threshold.
	Hysteresis int `yaml:"hysteresis"`
	// MinutesConsumed are minute totals of a session, each > 0, reported
	// once per session.
	MinutesConsumed []float64 `yaml:"minutes_consumed"`
	// Duration are session lengths in whole seconds, each > 0, each
	// reported once per session (session.duration_crossed).
	Duration []time.Duration `yaml:"duration"`
}

// NotifierNames returns the names of the notifiers that receive the watch's
// events: its Notify list, or when that is empty the names of all, in order.
func (w Watch) NotifierNames(all []Notifier) []string {
	return notifierNames(w.Notify, all)
}

// notifierNames returns notify, or when it is empty the names of all, in
// order.
func notifierNames(notify []string, all []Notifier) []string {
	if len(notify) > 0 {
		return slices.Clone(notify)
	}
	names := make([]string, 0, len(all))
	for _, n := range all {
		names = append(names, n.Name)
	}
	return names
}

// Notifier returns the notifier with the given name.
func (c *Config) Notifier(name string) (Notifier, bool) {
	for _, n := range c.Notifiers {
		if n.Name == name {
			return n, true
		}
	}
	return Notifier{}, false
}

// Default returns a Config with every default filled in and nothing else:
// no account, token, notifier or watch.
func Default() Config {
	return Config{
		API: API{
			BaseURL:       DefaultBaseURL,
			Timeout:       DefaultAPITimeout,
			RequestsPer5m: DefaultRequestsPer5m,
		},
		Store: Store{Path: DefaultStorePath, History: DefaultHistory,
			HistoryMaxEvents: DefaultHistoryMaxEvents, HistoryMaxMB: DefaultHistoryMaxMB},
		Log:   Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Admin: Admin{Listen: DefaultAdminListen},
		Delivery: Delivery{
			Timeout:     DefaultDeliveryTimeout,
			MaxAttempts: DefaultMaxAttempts,
			MaxAge:      DefaultMaxAge,

			DeadLetterRetention: DefaultDeadLetterRetention,
			CircuitAfter:        DefaultCircuitAfter,
		},
		Metrics:   Metrics{MaxSeries: DefaultMaxSeries},
		Heartbeat: defaultHeartbeat(),
	}
}
