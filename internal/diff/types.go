// Package diff turns one observation of a meeting into the meeting's next
// snapshot and the events that the change between the two implies ([Apply]),
// and does the same for the signals a watch reads app-wide: its recordings
// ([ApplyRecordings]), its livestreams ([ApplyLivestreams]) and an app's
// daily and monthly minutes ([ApplyUsage]).
//
// It is pure: no I/O, no clock (every observation carries its own time), no
// goroutines. Everything rtkwatchd promises about which events fire, and when,
// is decided here.
package diff

import (
	"encoding/json"
	"slices"
	"time"
)

// Session statuses as the RealtimeKit API reports them.
const (
	StatusLive  = "LIVE"
	StatusEnded = "ENDED"
)

// Event types, as they appear in the "type" field of every event.
const (
	TypeSessionStarted        = "session.started"
	TypeSessionEnded          = "session.ended"
	TypeParticipantsThreshold = "participants.threshold_crossed"
	TypeMinutesThreshold      = "minutes.threshold_crossed"
	TypeWatchFailing          = "watch.failing"
	TypeWatchRecovered        = "watch.recovered"

	TypeDurationCrossed   = "session.duration_crossed"
	TypeSessionIdle       = "session.idle"
	TypeRecordingStarted  = "recording.started"
	TypeRecordingUploaded = "recording.uploaded"
	TypeRecordingErrored  = "recording.errored"
	TypeLivestreamStarted = "livestream.started"
	TypeLivestreamStopped = "livestream.stopped"
	TypeLivestreamErrored = "livestream.errored"
	TypeUsageThreshold    = "usage.threshold_crossed"

	// The delivery worker's own events (SPEC §10), which diff never
	// emits: a notifier paused by its circuit, and back.
	TypeNotifierFailing   = "notifier.failing"
	TypeNotifierRecovered = "notifier.recovered"
)

// SessionEventTypes lists the event types of a meeting's session and of a
// watch's health (SPEC §5), in the order the README documents them.
var SessionEventTypes = []string{
	TypeSessionStarted, TypeSessionEnded, TypeParticipantsThreshold,
	TypeMinutesThreshold, TypeWatchFailing, TypeWatchRecovered,
}

// SignalEventTypes lists the event types of meeting health and cost (SPEC
// §8): session.duration_crossed and session.idle, which Apply emits only
// when Rules ask for them, and those of the recordings, livestreams and
// usage rules.
var SignalEventTypes = []string{
	TypeDurationCrossed, TypeSessionIdle,
	TypeRecordingStarted, TypeRecordingUploaded, TypeRecordingErrored,
	TypeLivestreamStarted, TypeLivestreamStopped, TypeLivestreamErrored,
	TypeUsageThreshold,
}

// NotifierEventTypes lists the event types of notifier health (SPEC §10),
// which the delivery worker emits about a notifier, and diff never does.
var NotifierEventTypes = []string{TypeNotifierFailing, TypeNotifierRecovered}

// WatchEventTypes lists the event types that diff emits about a watch's
// meetings and lists: SessionEventTypes, then SignalEventTypes. A watch
// routes them to its notifiers.
var WatchEventTypes = slices.Concat(SessionEventTypes, SignalEventTypes)

// EventTypes lists every event type rtkwatchd emits, in the order the
// README documents them: WatchEventTypes, then NotifierEventTypes. It is
// what notifiers' events filters are checked against.
var EventTypes = slices.Concat(WatchEventTypes, NotifierEventTypes)

// Directions of a participant threshold crossing.
const (
	DirectionUp   = "up"
	DirectionDown = "down"
)

// Session is one RealtimeKit session as the API describes it. Field names
// follow the API so that events carry the numbers users already know.
type Session struct {
	ID                        string          `json:"id"`
	AssociatedID              string          `json:"associated_id"`
	MeetingDisplayName        string          `json:"meeting_display_name"`
	Type                      string          `json:"type"`
	Status                    string          `json:"status"`
	LiveParticipants          int             `json:"live_participants"`
	MaxConcurrentParticipants int             `json:"max_concurrent_participants"`
	MinutesConsumed           float64         `json:"minutes_consumed"`
	OrganizationID            string          `json:"organization_id"`
	StartedAt                 string          `json:"started_at"`
	CreatedAt                 string          `json:"created_at"`
	UpdatedAt                 string          `json:"updated_at"`
	EndedAt                   string          `json:"ended_at,omitempty"`
	BreakoutRooms             json.RawMessage `json:"breakout_rooms,omitempty"`
	Meta                      json.RawMessage `json:"meta,omitempty"`
}

// ObservationKind says what one poll of a meeting found.
type ObservationKind int

const (
	// ObservedSession: the API returned a session (LIVE, or ENDED).
	ObservedSession ObservationKind = iota + 1
	// ObservedNoSession: the API said the meeting has no active session
	// (the RealtimeKit 404 body), or, in all-live mode, the meeting dropped
	// out of the list of live sessions.
	ObservedNoSession
	// ObservedFailure: the poll failed; nothing is known about the session.
	ObservedFailure
)

// FailureKind classifies a failed poll.
type FailureKind string

// The kinds of failed poll.
const (
	FailureAuth        FailureKind = "auth"         // 401, 403
	FailureRateLimited FailureKind = "rate_limited" // 429
	FailureServer      FailureKind = "server"       // 5xx
	FailureNotFound    FailureKind = "not_found"    // a 404 that is not RealtimeKit's "no active session"
	FailureClient      FailureKind = "client"       // any other 4xx
	FailureNetwork     FailureKind = "network"      // connection refused, reset, DNS …
	FailureTimeout     FailureKind = "timeout"      // the request's deadline passed
	FailureDecode      FailureKind = "decode"       // a body that is not the JSON we expect
)

// Failure describes a failed poll.
type Failure struct {
	Kind       FailureKind
	StatusCode int           // 0 when no HTTP response arrived
	Message    string        // short, secret-free description
	RetryAfter time.Duration // from a 429's Retry-After; 0 when absent
}

// Observation is the outcome of one poll of one meeting.
type Observation struct {
	Kind    ObservationKind
	At      time.Time // when the poll completed; the diff's only notion of "now"
	Session *Session  // with ObservedSession
	Failure *Failure  // with ObservedFailure
	// Final optionally carries the final numbers of the session that the
	// previous snapshot held, when the poller fetched them because that
	// session ended. Used as the "final" field of session.ended.
	Final *Session
}

// Rules are a watch's thresholds and failure policy, as configured.
type Rules struct {
	ParticipantThresholds []int     // ascending, each > 0
	Hysteresis            int       // >= 0
	MinutesThresholds     []float64 // ascending, each > 0
	FailingAfter          int       // >= 1
	// DurationThresholds (thresholds.duration) are session lengths,
	// ascending, each > 0; a fraction of a second is rounded up.
	DurationThresholds []time.Duration
	// Idle (idle:) asks for session.idle; the zero value asks for none.
	Idle IdleRule
	// PricePerParticipantMinute (the usage block of the watch's app), when
	// > 0, adds estimated_cost to session.ended.
	PricePerParticipantMinute float64
	// FailingRatio (failing_ratio), when > 0, also emits watch.failing once
	// failures make up at least this fraction of the last WindowSize polls.
	FailingRatio float64
	// RecoverAfter (recover_after) is how many good polls in a row end a
	// failing run with watch.recovered; below 1 means 1.
	RecoverAfter int
	// RemindEvery (remind_every), when > 0, repeats watch.failing and
	// session.idle while they last.
	RemindEvery time.Duration
}

// health returns the failure policy of r.
func (r Rules) health() healthRules {
	return healthRules{failingAfter: r.FailingAfter, failingRatio: r.FailingRatio, recoverAfter: r.RecoverAfter, remindEvery: r.RemindEvery}
}

// IdleRule says when a live session counts as idle: live_participants at or
// below Participants for at least For. A For of 0 or less turns it off.
type IdleRule struct {
	Participants int
	For          time.Duration
}

// Meeting identifies the meeting a snapshot belongs to.
type Meeting struct {
	Watch     string `json:"watch"`
	AccountID string `json:"account_id"`
	AppID     string `json:"app_id"`
	MeetingID string `json:"meeting_id"`
}

// Snapshot is everything rtkwatchd remembers about one meeting between two
// polls. The zero Snapshot (Baselined false) means "never observed".
type Snapshot struct {
	Meeting
	// Baselined is true once one good poll has been recorded.
	Baselined bool `json:"baselined"`
	// BaselineAt is the time of that first good poll; zero in a snapshot
	// stored before this field existed, and then no session is taken for
	// a late baseline (see Apply).
	BaselineAt time.Time `json:"baseline_at,omitzero"`
	// Session is the session seen at the last good poll; nil when none.
	Session *Session `json:"session"`
	// Sequence is the sequence number of the last event emitted for this
	// meeting; the next event gets Sequence+1.
	Sequence uint64 `json:"sequence"`
	// ParticipantsUp lists the participant thresholds currently crossed
	// upwards (armed for a down crossing), ascending. It may hold
	// thresholds that the rules no longer have: removed by a reload or a
	// restart while up, they stay until they cross down or the session
	// ends, so that every up crossing is closed.
	ParticipantsUp []int `json:"participants_up,omitempty"`
	// MinutesReached lists the minutes thresholds already reported for the
	// current session, ascending.
	MinutesReached []float64 `json:"minutes_reached,omitempty"`
	// KnownParticipants and KnownMinutes list, ascending, the thresholds
	// whose state ParticipantsUp and MinutesReached account for: the rules'
	// thresholds at the last good poll. A threshold configured since (by a
	// reload or a restart) is new, and a live session already past it arms
	// it silently instead of firing, as a baseline would. After a good poll
	// they are never nil (empty when no threshold is configured), so that nil,
	// from a snapshot stored before these fields existed, means "unknown":
	// such a snapshot is taken to know the current rules' thresholds, so an
	// upgrade neither fires nor re-arms anything. Hence omitzero, not
	// omitempty: an empty list must survive a JSON round trip as empty.
	KnownParticipants []int     `json:"known_participants,omitzero"`
	KnownMinutes      []float64 `json:"known_minutes,omitzero"`
	// LastEndedSessionID is the id of the last session that ended, until
	// another session starts; LastEndedMinutesReached is its MinutesReached
	// at the end. When that same session comes back (a stray 404 or ENDED
	// between two LIVE polls), its minutes thresholds already reported stay
	// reported. Its participant thresholds are not remembered: they start
	// from zero, as for any session that starts.
	LastEndedSessionID      string    `json:"last_ended_session_id,omitempty"`
	LastEndedMinutesReached []float64 `json:"last_ended_minutes_reached,omitempty"`
	// DurationReached lists, ascending and in whole seconds, the duration
	// thresholds already reported for the current session; KnownDuration and
	// LastEndedDurationReached are to it what KnownMinutes and
	// LastEndedMinutesReached are to MinutesReached.
	DurationReached          []int64 `json:"duration_reached,omitempty"`
	KnownDuration            []int64 `json:"known_duration,omitzero"`
	LastEndedDurationReached []int64 `json:"last_ended_duration_reached,omitempty"`
	// IdleSince is the time of the first observation of the current idle
	// stretch (live_participants at or below the idle rule's bound); zero
	// when the session is not idle or no idle rule is configured.
	IdleSince time.Time `json:"idle_since,omitzero"`
	// IdleReported is true once session.idle has been emitted for the
	// stretch that began at IdleSince.
	IdleReported bool `json:"idle_reported,omitempty"`
	// IdleRemindedAt is when session.idle, or its latest reminder, was
	// emitted for the stretch, while the rules ask for reminders; zero
	// otherwise.
	IdleRemindedAt time.Time `json:"idle_reminded_at,omitzero"`
	// SessionSeenAt is when the current session was first observed.
	SessionSeenAt time.Time `json:"session_seen_at,omitzero"`
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
	// Window, WindowPolls, GoodStreak and RemindedAt are the failing ratio's
	// window, recover_after's count and the time of the last watch.failing
	// or reminder, as in Health.
	Window      uint16    `json:"window,omitempty"`
	WindowPolls int       `json:"window_polls,omitempty"`
	GoodStreak  int       `json:"good_streak,omitempty"`
	RemindedAt  time.Time `json:"reminded_at,omitzero"`
}

// Event is one notification, exactly as every notifier serialises it.
type Event struct {
	Type string `json:"type"`
	// Timestamp is when the poll that found the transition completed, in
	// UTC and whole seconds: "2026-11-25T21:00:00Z" in JSON.
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is the body of an event. Fields that do not apply to an event's
// type are omitted, except previous and current, which are always present
// (null when there is no such session).
type EventData struct {
	ID                 string   `json:"id"`
	Sequence           uint64   `json:"sequence"`
	Watch              string   `json:"watch"`
	AccountID          string   `json:"account_id"`
	AppID              string   `json:"app_id"`
	MeetingID          string   `json:"meeting_id"`
	MeetingDisplayName string   `json:"meeting_display_name"`
	SessionID          string   `json:"session_id"`
	Previous           *Session `json:"previous"`
	Current            *Session `json:"current"`

	// session.ended, and duration_seconds for session.duration_crossed
	Final           *Session `json:"final,omitempty"`
	DurationSeconds *int64   `json:"duration_seconds,omitempty"`
	// ParticipantThresholdsUp (session.ended) lists, ascending, the
	// participant thresholds the session was above when it ended: crossed
	// up (or armed at a baseline) and not crossed down since, including
	// those that a reload removed from the rules meanwhile. The session's
	// end forgets them without down crossings; this says which conditions
	// it ends, so that a PagerDuty incident opened by an up crossing is
	// resolved. Left out when there are none.
	ParticipantThresholdsUp []int `json:"participant_thresholds_up,omitempty"`
	// session.ended (when a price is configured) and usage.threshold_crossed
	EstimatedCost *float64 `json:"estimated_cost,omitempty"`
	// session.duration_crossed
	ThresholdSeconds *int64 `json:"threshold_seconds,omitempty"`
	// session.idle, with live_participants and minutes_consumed
	IdleSeconds *int64 `json:"idle_seconds,omitempty"`

	// participants.threshold_crossed and minutes.threshold_crossed
	Threshold                *float64 `json:"threshold,omitempty"`
	Direction                string   `json:"direction,omitempty"`
	LiveParticipants         *int     `json:"live_participants,omitempty"`
	PreviousLiveParticipants *int     `json:"previous_live_participants,omitempty"`
	MinutesConsumed          *float64 `json:"minutes_consumed,omitempty"`

	// watch.failing and watch.recovered; Signal names the list that fails
	// (recordings, livestreams, usage) when it is not the meeting's session
	Signal              string `json:"signal,omitempty"`
	Error               string `json:"error,omitempty"`
	StatusCode          *int   `json:"status_code,omitempty"`
	ConsecutiveFailures *int   `json:"consecutive_failures,omitempty"`
	FailedForSeconds    *int64 `json:"failed_for_seconds,omitempty"`
	// Reminder marks a watch.failing or session.idle that repeats an
	// earlier one (remind_every) while its condition lasts; it has an id of
	// its own.
	Reminder bool `json:"reminder,omitempty"`

	// recording.* and livestream.*: previous_status is "" for an item first
	// seen in this status
	RecordingID    string  `json:"recording_id,omitempty"`
	LivestreamID   string  `json:"livestream_id,omitempty"`
	Status         string  `json:"status,omitempty"`
	PreviousStatus *string `json:"previous_status,omitempty"`

	// usage.threshold_crossed, with estimated_cost
	Period           string   `json:"period,omitempty"`
	PeriodStart      string   `json:"period_start,omitempty"`
	ThresholdMinutes *float64 `json:"threshold_minutes,omitempty"`
	Minutes          *float64 `json:"minutes,omitempty"`
}
