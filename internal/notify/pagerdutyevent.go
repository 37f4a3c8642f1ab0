package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// PagerDuty's documented limits, in characters.
const (
	pdDedupKeyMax = 255
	pdSummaryMax  = 1024
	// pdFieldMax bounds source, component, group, class and each custom
	// detail, which have no limit of their own, so that an event stays far
	// inside the 512 KB a PagerDuty event may weigh.
	pdFieldMax = 1024
)

// pdText measures PagerDuty's texts: characters of the decoded string.
var pdText = textLimit{count: countRunes}

// PagerDuty event actions.
const (
	pdTrigger = "trigger"
	pdResolve = "resolve"
)

// pdAction is one PagerDuty event an rtkwatchd event asks for.
type pdAction struct {
	action string // pdTrigger or pdResolve
	key    string // dedup_key
}

// pagerDutyActions maps an event to the PagerDuty events it asks for, in
// the order they are sent (SPEC §9). Each condition has one dedup_key,
// the same for the trigger that opens its incident and the resolve that
// closes it:
//
//	condition                 trigger                            resolve
//	watch failing             watch.failing                      watch.recovered
//	participants ≥ threshold  participants.threshold_crossed up  the same threshold crossed down, or
//	                                                             session.ended listing it
//	session idle              session.idle                       session.ended, or activity
//	recording failed          recording.errored                  -
//	livestream failed         livestream.errored                 -
//	usage over a threshold    usage.threshold_crossed            -
//	notifier failing          notifier.failing                   notifier.recovered
//
// A session that ends while above a participants threshold has no down
// crossing: its session.ended lists the thresholds it was above
// (participant_thresholds_up), and each is resolved with the dedup_key of
// its up crossing, after the idle condition.
//
// Activity after idle is recognised by the one event that says people came
// back to the same session: participants.threshold_crossed up. rtkwatchd
// emits no event when participants merely rise above the idle bound, so
// without a participants threshold above that bound an idle incident
// resolves when the session ends. A reminder (data.reminder) triggers the
// same dedup_key again, which PagerDuty adds to the open alert.
//
// Every other event (session.started, minutes and duration thresholds,
// recordings and livestreams that start, stop or upload) asks for nothing
// and is not sent to PagerDuty.
func pagerDutyActions(ev event) []pdAction {
	d, x := ev.d, ev.x
	meeting := []string{d.Watch, d.MeetingID}
	idle := pdAction{pdResolve, dedupKey("idle", append(meeting, d.SessionID)...)}
	switch ev.Type {
	case diff.TypeWatchFailing:
		return []pdAction{{pdTrigger, dedupKey("watch-failing", meeting...)}}
	case diff.TypeWatchRecovered:
		return []pdAction{{pdResolve, dedupKey("watch-failing", meeting...)}}
	case diff.TypeParticipantsThreshold:
		if d.Threshold == nil {
			return nil
		}
		key := participantsKey(meeting, *d.Threshold)
		if d.Direction == diff.DirectionDown {
			return []pdAction{{pdResolve, key}}
		}
		return []pdAction{idle, {pdTrigger, key}}
	case typeSessionIdle:
		idle.action = pdTrigger
		return []pdAction{idle}
	case diff.TypeSessionEnded:
		out := []pdAction{idle}
		for _, t := range d.ParticipantThresholdsUp {
			out = append(out, pdAction{pdResolve, participantsKey(meeting, float64(t))})
		}
		return out
	case typeRecordingErrored:
		return []pdAction{{pdTrigger, dedupKey("recording-errored", append(meeting, x.RecordingID)...)}}
	case typeLivestreamErrored:
		return []pdAction{{pdTrigger, dedupKey("livestream-errored", append(meeting, x.LivestreamID)...)}}
	case typeUsageThreshold:
		return []pdAction{{pdTrigger, dedupKey("usage", d.AppID, x.Period, x.PeriodStart, formatFloatPtr(x.ThresholdMinutes))}}
	case typeNotifierFailing:
		return []pdAction{{pdTrigger, dedupKey("notifier-failing", x.Notifier)}}
	case typeNotifierRecovered:
		return []pdAction{{pdResolve, dedupKey("notifier-failing", x.Notifier)}}
	}
	return nil
}

// participantsKey is the dedup_key of the condition "participants ≥
// threshold" in a meeting (watch, meeting id): the same for the up
// crossing that triggers it and for the down crossing or session.ended
// that resolves it.
func participantsKey(meeting []string, threshold float64) string {
	return dedupKey("participants", append(meeting, strconv.FormatFloat(threshold, 'g', -1, 64))...)
}

// dedupKey names a condition: "rtkwatchd/", the condition, and the parts
// that identify it, each path-escaped so that no two conditions share a
// key. A key over PagerDuty's 255 characters (very long meeting ids) keeps
// the prefix and the condition and replaces the parts with their SHA-256.
func dedupKey(condition string, parts ...string) string {
	var sb strings.Builder
	sb.WriteString("rtkwatchd/" + condition)
	for _, p := range parts {
		sb.WriteString("/" + url.PathEscape(p))
	}
	key := sb.String()
	if len(key) <= pdDedupKeyMax { // bytes ≥ characters
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "rtkwatchd/" + condition + "/sha256-" + hex.EncodeToString(sum[:])
}

// pdEvent is an Events API v2 request.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Client      string     `json:"client,omitempty"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

// pdPayload is a trigger's description of the alert.
type pdPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// pdSummary is a trigger's summary: what happened, to which meeting, and
// the error if any, within PagerDuty's 1,024 characters.
func pdSummary(ev event) string {
	s := ev.title() + ": " + ev.subject()
	if ev.d.Watch != "" {
		s += " (watch " + ev.d.Watch + ")"
	}
	if ev.d.Error != "" {
		s += ": " + ev.d.Error
	}
	return pdText.within(pdSummaryMax).fit(s)
}

// pdDetails are a trigger's custom_details: the event's facts, its ids and
// error, and the configured extra details, each within pdFieldMax.
func pdDetails(ev event, extra map[string]string) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = pdText.within(pdFieldMax).fit(v)
		}
	}
	for k, v := range extra {
		set(k, v)
	}
	for _, f := range ev.facts() {
		set(strings.ToLower(strings.ReplaceAll(f.label, " ", "_")), f.value)
	}
	set("event_type", ev.Type)
	set("event_id", ev.d.ID)
	set("watch", ev.d.Watch)
	set("app_id", ev.d.AppID)
	set("meeting_id", ev.d.MeetingID)
	set("meeting", ev.d.MeetingDisplayName)
	set("error", ev.d.Error)
	return m
}
