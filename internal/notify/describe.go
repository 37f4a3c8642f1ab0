package notify

import (
	"strconv"
	"strings"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// title says in a few words what happened, the same for every service.
func (ev event) title() string {
	t := ev.baseTitle()
	if ev.x.Reminder {
		t = "Reminder: " + t
	}
	return t
}

func (ev event) baseTitle() string {
	d, x := ev.d, ev.x
	switch ev.Type {
	case diff.TypeSessionStarted:
		return "Session started"
	case diff.TypeSessionEnded:
		return "Session ended"
	case diff.TypeParticipantsThreshold:
		if d.Direction == diff.DirectionDown {
			return "Participants fell below " + formatFloatPtr(d.Threshold)
		}
		return "Participants reached " + formatFloatPtr(d.Threshold)
	case diff.TypeMinutesThreshold:
		return "Minutes reached " + formatFloatPtr(d.Threshold)
	case diff.TypeWatchFailing:
		return "Watch failing"
	case diff.TypeWatchRecovered:
		return "Watch recovered"
	case typeDurationCrossed:
		return "Session running for " + formatSecondsPtr(x.ThresholdSeconds)
	case typeSessionIdle:
		return "Session idle for " + formatSecondsPtr(x.IdleSeconds)
	case typeRecordingStarted:
		return "Recording started"
	case typeRecordingUploaded:
		return "Recording uploaded"
	case typeRecordingErrored:
		return "Recording failed"
	case typeLivestreamStarted:
		return "Livestream started"
	case typeLivestreamStopped:
		return "Livestream stopped"
	case typeLivestreamErrored:
		return "Livestream failed"
	case typeUsageThreshold:
		what := "Usage"
		switch x.Period {
		case periodDay:
			what = "Daily usage"
		case periodMonth:
			what = "Monthly usage"
		}
		return what + " reached " + formatFloatPtr(x.ThresholdMinutes) + " minutes"
	case typeNotifierFailing:
		return "Notifier " + x.Notifier + " failing"
	case typeNotifierRecovered:
		return "Notifier " + x.Notifier + " recovered"
	}
	return "Event " + ev.Type
}

// tone says whether the event is good news, a warning or trouble.
func (ev event) tone() tone {
	switch ev.Type {
	case diff.TypeSessionStarted, diff.TypeWatchRecovered, typeRecordingUploaded,
		typeLivestreamStarted, typeNotifierRecovered:
		return toneGood
	case diff.TypeParticipantsThreshold:
		if ev.d.Direction == diff.DirectionDown {
			return toneInfo
		}
		return toneWarn
	case diff.TypeMinutesThreshold, typeDurationCrossed, typeSessionIdle, typeUsageThreshold:
		return toneWarn
	case diff.TypeWatchFailing, typeRecordingErrored, typeLivestreamErrored, typeNotifierFailing:
		return toneBad
	}
	return toneInfo
}

// facts lists the values worth reading for the event's type, in plain
// text, the session id last.
func (ev event) facts() []fact {
	d, x := ev.d, ev.x
	var fs []fact
	add := func(label, value string, code bool) {
		if value != "" {
			fs = append(fs, fact{label: label, value: value, code: code})
		}
	}
	switch ev.Type {
	case diff.TypeSessionStarted:
		if s := d.Current; s != nil {
			add("Participants", strconv.Itoa(s.LiveParticipants), false)
			add("Started", formatAPITime(s.StartedAt), false)
		}
	case diff.TypeSessionEnded:
		s := d.Final
		if s == nil {
			s = d.Previous
		}
		if d.DurationSeconds != nil {
			add("Duration", formatSeconds(*d.DurationSeconds), false)
		}
		if s != nil {
			add("Minutes", formatFloat(s.MinutesConsumed), false)
			add("Peak participants", strconv.Itoa(s.MaxConcurrentParticipants), false)
		}
		add("Estimated cost", formatCost(x.EstimatedCost), false)
	case diff.TypeParticipantsThreshold:
		if d.LiveParticipants != nil {
			v := strconv.Itoa(*d.LiveParticipants)
			if d.PreviousLiveParticipants != nil {
				v += " (was " + strconv.Itoa(*d.PreviousLiveParticipants) + ")"
			}
			add("Participants", v, false)
		}
		add("Threshold", joinNonEmpty(formatFloatPtr(d.Threshold), d.Direction), false)
	case diff.TypeMinutesThreshold:
		add("Minutes", formatFloatPtr(d.MinutesConsumed), false)
		add("Threshold", formatFloatPtr(d.Threshold), false)
		if s := d.Current; s != nil {
			add("Participants", strconv.Itoa(s.LiveParticipants), false)
		}
	case diff.TypeWatchFailing:
		if d.ConsecutiveFailures != nil {
			add("Failed polls", strconv.Itoa(*d.ConsecutiveFailures), false)
		}
		if d.StatusCode != nil && *d.StatusCode != 0 {
			add("Status", strconv.Itoa(*d.StatusCode), false)
		}
	case diff.TypeWatchRecovered:
		add("Failing for", formatSecondsPtr(d.FailedForSeconds), false)
	case typeDurationCrossed:
		add("Duration", formatSecondsPtr(d.DurationSeconds), false)
		add("Threshold", formatSecondsPtr(x.ThresholdSeconds), false)
	case typeSessionIdle:
		add("Idle for", formatSecondsPtr(x.IdleSeconds), false)
		if d.LiveParticipants != nil {
			add("Participants", strconv.Itoa(*d.LiveParticipants), false)
		}
		add("Minutes", formatFloatPtr(d.MinutesConsumed), false)
	case typeRecordingStarted, typeRecordingUploaded, typeRecordingErrored:
		add("Recording", x.RecordingID, true)
		add("Status", statusChange(x.PreviousStatus, x.Status), false)
	case typeLivestreamStarted, typeLivestreamStopped, typeLivestreamErrored:
		add("Livestream", x.LivestreamID, true)
		add("Status", statusChange(x.PreviousStatus, x.Status), false)
	case typeUsageThreshold:
		add("App", d.AppID, true)
		add("Period", joinNonEmpty(x.Period, x.PeriodStart), false)
		add("Minutes", formatFloatPtr(x.Minutes), false)
		add("Threshold", formatFloatPtr(x.ThresholdMinutes), false)
		add("Estimated cost", formatCost(x.EstimatedCost), false)
	case typeNotifierFailing, typeNotifierRecovered:
		add("Notifier", x.Notifier, true)
		add("Failing for", formatSecondsPtr(x.FailingForSeconds), false)
	}
	add("Session", d.SessionID, true)
	return fs
}

// statusChange shows a status and the one before it: "RECORDING → ERRORED".
func statusChange(previous, current string) string {
	if previous == "" {
		return current
	}
	return previous + " → " + current
}

// formatCost prints an estimated cost in US dollars; "" when nil.
func formatCost(v *float64) string {
	if v == nil {
		return ""
	}
	return "$" + strconv.FormatFloat(*v, 'f', 2, 64)
}

// formatSecondsPtr is formatSeconds for an optional value; "" when nil.
func formatSecondsPtr(v *int64) string {
	if v == nil {
		return ""
	}
	return formatSeconds(*v)
}

// plainText is the event as a few lines of plain text: what the default
// message says besides its title, for services and templates that show
// text rather than fields.
func (ev event) plainText() string {
	var sb strings.Builder
	sb.WriteString(ev.subject())
	if ev.d.Watch != "" {
		sb.WriteString(" (watch " + ev.d.Watch + ")")
	}
	if ev.d.Error != "" {
		sb.WriteString("\nError: " + ev.d.Error)
	}
	return sb.String()
}
