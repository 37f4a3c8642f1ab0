package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Event types that the notifiers render beside those of SPEC §5, under
// short local names: those of SPEC §8, and the notifiers' own (SPEC §10),
// which the Worker emits and diff only names.
const (
	typeDurationCrossed   = diff.TypeDurationCrossed
	typeSessionIdle       = diff.TypeSessionIdle
	typeRecordingStarted  = diff.TypeRecordingStarted
	typeRecordingUploaded = diff.TypeRecordingUploaded
	typeRecordingErrored  = diff.TypeRecordingErrored
	typeLivestreamStarted = diff.TypeLivestreamStarted
	typeLivestreamStopped = diff.TypeLivestreamStopped
	typeLivestreamErrored = diff.TypeLivestreamErrored
	typeUsageThreshold    = diff.TypeUsageThreshold
	typeNotifierFailing   = diff.TypeNotifierFailing
	typeNotifierRecovered = diff.TypeNotifierRecovered
)

// The periods of usage.threshold_crossed.
const (
	periodDay   = diff.PeriodDay
	periodMonth = diff.PeriodMonth
)

// extraData holds the data fields of the SPEC §8 and §10 event types that
// diff.EventData does not have.
type extraData struct {
	ThresholdSeconds  *int64   `json:"threshold_seconds,omitempty"`
	IdleSeconds       *int64   `json:"idle_seconds,omitempty"`
	RecordingID       string   `json:"recording_id,omitempty"`
	LivestreamID      string   `json:"livestream_id,omitempty"`
	Status            string   `json:"status,omitempty"`
	PreviousStatus    string   `json:"previous_status,omitempty"`
	Period            string   `json:"period,omitempty"`
	PeriodStart       string   `json:"period_start,omitempty"`
	ThresholdMinutes  *float64 `json:"threshold_minutes,omitempty"`
	Minutes           *float64 `json:"minutes,omitempty"`
	EstimatedCost     *float64 `json:"estimated_cost,omitempty"`
	Notifier          string   `json:"notifier,omitempty"`
	FailingForSeconds *int64   `json:"failing_for_seconds,omitempty"`
	Reminder          bool     `json:"reminder,omitempty"`
}

// event is one event decoded for rendering: the typed fields the default
// messages use, and the whole data object for templates.
type event struct {
	Type      string
	Timestamp time.Time
	d         diff.EventData
	x         extraData
	data      map[string]any
}

// decodeEvent reads an event's JSON. Unknown fields are kept in data; a
// body that is not a JSON object with a type is an error.
func decodeEvent(body []byte) (event, error) {
	var wire struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return event{}, fmt.Errorf("decode event: %w", err)
	}
	if wire.Type == "" {
		return event{}, fmt.Errorf("decode event: no type")
	}
	ev := event{Type: wire.Type, Timestamp: wire.Timestamp}
	if len(bytes.TrimSpace(wire.Data)) == 0 || bytes.Equal(bytes.TrimSpace(wire.Data), []byte("null")) {
		return ev, nil
	}
	if err := json.Unmarshal(wire.Data, &ev.d); err != nil {
		return event{}, fmt.Errorf("decode event data: %w", err)
	}
	if err := json.Unmarshal(wire.Data, &ev.x); err != nil {
		return event{}, fmt.Errorf("decode event data: %w", err)
	}
	if err := json.Unmarshal(wire.Data, &ev.data); err != nil {
		return event{}, fmt.Errorf("decode event data: %w", err)
	}
	return ev, nil
}

// subject names what the event is about: the meeting's display name, else
// its id, else the app, the notifier, or rtkwatchd itself.
func (ev event) subject() string {
	switch {
	case ev.d.MeetingDisplayName != "":
		return ev.d.MeetingDisplayName
	case ev.d.MeetingID != "" && ev.d.MeetingID != "*":
		return ev.d.MeetingID
	case ev.x.Notifier != "":
		return "notifier " + ev.x.Notifier
	case ev.d.AppID != "":
		return "app " + ev.d.AppID
	}
	return "rtkwatchd"
}

// tone is how an event feels, for a service's colour or emoji.
type tone int

// The tones, from good news to bad.
const (
	toneInfo tone = iota
	toneGood
	toneWarn
	toneBad
)

// fact is one labelled value about an event, in plain text.
type fact struct {
	label, value string
	code         bool // an identifier, shown as inline code where the service has it
}
