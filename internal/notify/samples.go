package notify

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// sampleTypes lists every event type of SPEC §5, §8 and §10, in that
// order: diff.EventTypes.
var sampleTypes = diff.EventTypes

// SampleEventTypes lists every event type a notifier may be sent, those of
// SPEC §5, §8 and §10, in that order.
func SampleEventTypes() []string { return slices.Clone(sampleTypes) }

// SampleEvent returns a realistic event of type typ as the JSON the
// notifiers receive: the event `notify test` sends and templates are
// checked against. Its data.id is "evt_sample_" and the type. It returns
// false for a type not in SampleEventTypes.
func SampleEvent(typ string) ([]byte, bool) {
	if !slices.Contains(sampleTypes, typ) {
		return nil, false
	}
	b, err := json.Marshal(sampleEvent(typ))
	if err != nil {
		panic("notify: sample event does not encode: " + err.Error()) // fixed data: a bug
	}
	return b, true
}

// sampleStatuses are the previous and current status of the sample
// recording and livestream events.
var sampleStatuses = map[string][2]string{
	typeRecordingStarted:  {"INVOKED", "RECORDING"},
	typeRecordingUploaded: {"RECORDING", "UPLOADED"},
	typeRecordingErrored:  {"RECORDING", "ERRORED"},
	typeLivestreamStarted: {"IDLE", "LIVE"},
	typeLivestreamStopped: {"LIVE", "IDLE"},
	typeLivestreamErrored: {"LIVE", "ERRORED"},
}

// sampleData is the data of a sample event: the fields of §5 and §8, which
// diff.EventData has, and those of §10, side by side in one JSON object.
type sampleData struct {
	diff.EventData
	sampleNotifierData
}

// sampleNotifierData is the part of extraData that diff.EventData lacks.
type sampleNotifierData struct {
	Notifier          string `json:"notifier,omitempty"`
	FailingForSeconds *int64 `json:"failing_for_seconds,omitempty"`
}

// sampleBody is a sample event as it is encoded.
type sampleBody struct {
	Type      string     `json:"type"`
	Timestamp time.Time  `json:"timestamp"`
	Data      sampleData `json:"data"`
}

func sampleEvent(typ string) sampleBody {
	ptr := func(v int64) *int64 { return &v }
	num := func(v float64) *float64 { return &v }
	at := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	live := &diff.Session{
		ID: "1fb07d4e-5a1c-4b2e-9d55-3e1e6a1c0c11", AssociatedID: "bbb5b0fa-0000-4000-8000-000000000001",
		MeetingDisplayName: "Company Town Hall", Type: "meeting", Status: diff.StatusLive,
		LiveParticipants: 104, MaxConcurrentParticipants: 118, MinutesConsumed: 1830.5,
		StartedAt: "2026-11-25T19:58:03Z", CreatedAt: "2026-11-25T19:58:03Z", UpdatedAt: "2026-11-25T20:59:41Z",
	}
	d := sampleData{EventData: diff.EventData{
		ID: "evt_sample_" + strings.ReplaceAll(typ, ".", "_"), Sequence: 3,
		Watch: "town-hall", AccountID: "023e105f4ecef8ad9ca31a8372d0c353", AppID: "3f1a0000-0000-4000-8000-00000000a991",
		MeetingID: live.AssociatedID, MeetingDisplayName: live.MeetingDisplayName, SessionID: live.ID,
		Previous: live, Current: live,
	}}
	switch typ {
	case diff.TypeSessionStarted:
		d.Previous = nil
	case diff.TypeSessionEnded:
		ended := *live
		ended.Status, ended.LiveParticipants, ended.EndedAt = diff.StatusEnded, 0, "2026-11-25T21:00:00Z"
		d.Current, d.Final, d.DurationSeconds = nil, &ended, ptr(3717)
		d.EstimatedCost = num(3.66)
		d.ParticipantThresholdsUp = []int{50, 100} // thresholds: {participants: [50, 100]}, 104 live at the end
	case diff.TypeParticipantsThreshold:
		n, was := 104, 57
		d.Threshold, d.Direction, d.LiveParticipants, d.PreviousLiveParticipants = num(100), diff.DirectionUp, &n, &was
	case diff.TypeMinutesThreshold:
		d.Threshold, d.MinutesConsumed = num(1800), num(1830.5)
	case diff.TypeWatchFailing:
		code, n := 503, 3
		d.SessionID, d.Previous, d.Current = "", nil, nil
		d.Error = "server: status 503 Service Unavailable"
		d.StatusCode, d.ConsecutiveFailures = &code, &n
	case diff.TypeWatchRecovered:
		d.SessionID, d.Previous, d.Current = "", nil, nil
		d.FailedForSeconds = ptr(754)
	case typeDurationCrossed:
		d.ThresholdSeconds, d.DurationSeconds = ptr(3600), ptr(3642)
	case typeSessionIdle:
		n := 0
		d.IdleSeconds, d.LiveParticipants, d.MinutesConsumed = ptr(900), &n, num(1830.5)
	case typeRecordingStarted, typeRecordingUploaded, typeRecordingErrored:
		d.RecordingID = "rec_5b0fa000-0000-4000-8000-000000000007"
		prev := sampleStatuses[typ][0]
		d.PreviousStatus, d.Status = &prev, sampleStatuses[typ][1]
	case typeLivestreamStarted, typeLivestreamStopped, typeLivestreamErrored:
		d.LivestreamID = "ls_5b0fa000-0000-4000-8000-000000000009"
		prev := sampleStatuses[typ][0]
		d.PreviousStatus, d.Status = &prev, sampleStatuses[typ][1]
	case typeUsageThreshold:
		d.Watch, d.MeetingID, d.MeetingDisplayName, d.SessionID, d.Previous, d.Current = "", "", "", "", nil, nil
		d.Period, d.PeriodStart = periodDay, "2026-11-25"
		d.ThresholdMinutes, d.Minutes, d.EstimatedCost = num(10000), num(10012.5), num(20.03)
	case typeNotifierFailing, typeNotifierRecovered:
		d.EventData = diff.EventData{ID: d.ID, Sequence: 1}
		d.Notifier, d.FailingForSeconds = "slack-video", ptr(600)
		if typ == typeNotifierFailing {
			d.Error = "post https://hooks.slack.com: status 500 Internal Server Error"
		}
	}
	return sampleBody{Type: typ, Timestamp: at, Data: d}
}
