package demo

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// timeline prints the demo as a person reads it: what happens, then the
// events that arrived because of it.
type timeline struct {
	w      io.Writer
	colour bool
	start  time.Time
}

func newTimeline(w io.Writer, colour bool) *timeline {
	return &timeline{w: w, colour: colour, start: time.Now()}
}

// ANSI styles.
const (
	styleReset  = "\x1b[0m"
	styleBold   = "\x1b[1m"
	styleDim    = "\x1b[2m"
	styleRed    = "\x1b[31m"
	styleGreen  = "\x1b[32m"
	styleYellow = "\x1b[33m"
	styleBlue   = "\x1b[34m"
	styleMagent = "\x1b[35m"
	styleCyan   = "\x1b[36m"
)

func (t *timeline) style(s, code string) string {
	if !t.colour {
		return s
	}
	return code + s + styleReset
}

func (t *timeline) title(s string) {
	fmt.Fprintf(t.w, "%s\n\n", t.style(s, styleBold))
}

func (t *timeline) narrate(s string) {
	fmt.Fprintf(t.w, "%s %s\n", t.style("▸", styleBlue), s)
}

func (t *timeline) quiet() {
	fmt.Fprintf(t.w, "  %s\n", t.style("(no event)", styleDim))
}

var typeStyles = map[string]string{
	diff.TypeSessionStarted:        styleGreen,
	diff.TypeSessionEnded:          styleRed,
	diff.TypeParticipantsThreshold: styleYellow,
	diff.TypeMinutesThreshold:      styleYellow,
	diff.TypeWatchFailing:          styleMagent,
	diff.TypeWatchRecovered:        styleCyan,
	diff.TypeDurationCrossed:       styleYellow,
	diff.TypeSessionIdle:           styleYellow,
	diff.TypeRecordingStarted:      styleGreen,
	diff.TypeRecordingUploaded:     styleCyan,
	diff.TypeRecordingErrored:      styleRed,
	diff.TypeLivestreamStarted:     styleGreen,
	diff.TypeLivestreamStopped:     styleCyan,
	diff.TypeLivestreamErrored:     styleRed,
	diff.TypeUsageThreshold:        styleYellow,
}

// event prints one verified event.
func (t *timeline) event(r receivedEvent) {
	ev := r.event
	at := fmt.Sprintf("+%04.1fs", r.at.Sub(t.start).Seconds())
	typ := fmt.Sprintf("%-31s", ev.Type)
	fmt.Fprintf(t.w, "  %s  %s  %-9s  %s  %s\n", t.style(at, styleDim), t.style(typ, typeStyles[ev.Type]),
		ev.Data.Watch, describeEvent(ev), t.style("✓ signed #"+strconv.FormatUint(ev.Data.Sequence, 10), styleDim))
}

// describeEvent says in a few words what an event reports.
func describeEvent(ev diff.Event) string {
	d := ev.Data
	var parts []string
	if d.MeetingDisplayName != "" {
		parts = append(parts, d.MeetingDisplayName)
	}
	switch ev.Type {
	case diff.TypeSessionStarted:
		if d.Current != nil {
			parts = append(parts, fmt.Sprintf("%d live", d.Current.LiveParticipants))
		}
		parts = append(parts, "session "+short(d.SessionID))
	case diff.TypeSessionEnded:
		if d.DurationSeconds != nil {
			parts = append(parts, fmt.Sprintf("after %ds", *d.DurationSeconds))
		}
		if d.Final != nil {
			parts = append(parts, fmt.Sprintf("peak %d, %s min (final)", d.Final.MaxConcurrentParticipants,
				strconv.FormatFloat(d.Final.MinutesConsumed, 'f', -1, 64)))
		}
		parts = append(parts, "session "+short(d.SessionID))
	case diff.TypeParticipantsThreshold:
		if d.Threshold != nil && d.LiveParticipants != nil && d.PreviousLiveParticipants != nil {
			arrow := "↑"
			if d.Direction == diff.DirectionDown {
				arrow = "↓"
			}
			parts = append(parts, fmt.Sprintf("%s %g (%d → %d)", arrow, *d.Threshold, *d.PreviousLiveParticipants, *d.LiveParticipants))
		}
	case diff.TypeMinutesThreshold:
		if d.Threshold != nil && d.MinutesConsumed != nil {
			parts = append(parts, fmt.Sprintf("%g minutes reached (%g)", *d.Threshold, *d.MinutesConsumed))
		}
	case diff.TypeWatchFailing:
		parts = append(parts, fmt.Sprintf("%q", d.Error))
		if d.ConsecutiveFailures != nil {
			parts = append(parts, fmt.Sprintf("%d failed polls", *d.ConsecutiveFailures))
		}
	case diff.TypeWatchRecovered:
		if d.FailedForSeconds != nil {
			parts = append(parts, fmt.Sprintf("after %ds", *d.FailedForSeconds))
		}
	default:
		parts = append(parts, describeSignal(ev)...)
	}
	return strings.Join(parts, " · ")
}

// describeSignal says in a few words what an event of SPEC §8 reports.
func describeSignal(ev diff.Event) []string {
	d := ev.Data
	var parts []string
	switch ev.Type {
	case diff.TypeDurationCrossed:
		if d.ThresholdSeconds != nil && d.DurationSeconds != nil {
			parts = append(parts, fmt.Sprintf("past %s (live for %s)", seconds(*d.ThresholdSeconds), seconds(*d.DurationSeconds)))
		}
	case diff.TypeSessionIdle:
		if d.IdleSeconds != nil && d.LiveParticipants != nil {
			parts = append(parts, fmt.Sprintf("%d participants for %ds", *d.LiveParticipants, *d.IdleSeconds))
		}
	case diff.TypeRecordingStarted, diff.TypeRecordingUploaded, diff.TypeRecordingErrored,
		diff.TypeLivestreamStarted, diff.TypeLivestreamStopped, diff.TypeLivestreamErrored:
		from := "new"
		if d.PreviousStatus != nil && *d.PreviousStatus != "" {
			from = *d.PreviousStatus
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s", short(d.RecordingID+d.LivestreamID), from, d.Status))
	case diff.TypeUsageThreshold:
		if d.ThresholdMinutes != nil && d.Minutes != nil {
			s := fmt.Sprintf("app %s · %s of %s: %g minutes (≥ %g)", d.AppID, d.Period, d.PeriodStart, *d.Minutes, *d.ThresholdMinutes)
			if d.EstimatedCost != nil {
				s += fmt.Sprintf(", about %.2f", *d.EstimatedCost)
			}
			parts = append(parts, s)
		}
	}
	return parts
}

// seconds prints a whole number of seconds as 1h, 1h30m or 59m57s.
func seconds(n int64) string {
	s := (time.Duration(n) * time.Second).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}

// short keeps the end of a session id, the part that differs between the
// sessions of one meeting.
func short(id string) string {
	if len(id) > 12 {
		return "…" + id[len(id)-12:]
	}
	return id
}

// summary ends the timeline.
func (t *timeline) summary(received, rejected int, err error) {
	took := time.Since(t.start).Round(100 * time.Millisecond)
	fmt.Fprintln(t.w)
	if err != nil {
		fmt.Fprintf(t.w, "%s %v\n", t.style("demo failed:", styleRed+styleBold), err)
		return
	}
	fmt.Fprintf(t.w, "%s %d events in %s, every one delivered once and verified with the official Standard Webhooks library (%d rejected).\n",
		t.style("done:", styleGreen+styleBold), received, took, rejected)
	fmt.Fprintln(t.w, "Try it on your meetings: edit config.example.yaml, then `rtkwatchd check` and `rtkwatchd run`.")
}
