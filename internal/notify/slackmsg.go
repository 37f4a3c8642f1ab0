package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Slack's limits on Block Kit text.
const (
	slackHeaderMax = 150
	slackErrorMax  = 1000
)

// slackMessage is an incoming-webhook payload: a plain fallback text for
// notifications plus the blocks people read.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackBlock is one Block Kit layout block (header, section or context).
type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// slackText is a Block Kit text object.
type slackText struct {
	Type  string `json:"type"` // "plain_text" or "mrkdwn"
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// slackField is one labelled fact about an event.
type slackField struct {
	label, value string // value is plain text, escaped when rendered
	code         bool   // render value as inline code
}

// renderSlack turns an event's JSON into the Slack payload for it.
func renderSlack(body []byte) ([]byte, error) {
	var ev diff.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("decode event for slack: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Slack needs its own escapes, not JSON's
	if err := enc.Encode(slackFor(ev)); err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// slackFor builds the message for one event: a header saying what
// happened, the meeting, the numbers that matter for that event type, any
// error, and a context line with the ids and the event's time.
func slackFor(ev diff.Event) slackMessage {
	d := ev.Data
	emoji, title := slackTitle(ev)
	meeting := d.MeetingDisplayName
	if meeting == "" {
		meeting = d.MeetingID
	}
	fields := slackFields(ev)

	fallback := title + ": " + meeting
	if d.Watch != "" {
		fallback += " (watch " + d.Watch + ")"
	}
	var facts []string
	for _, f := range fields {
		facts = append(facts, f.label+" "+f.value)
	}
	if len(facts) > 0 {
		fallback += ". " + strings.Join(facts, ", ")
	}
	if d.Error != "" {
		fallback += ". Error: " + truncate(d.Error, slackErrorMax)
	}

	msg := slackMessage{Text: escapeMrkdwn(fallback)}
	msg.Blocks = append(msg.Blocks, slackBlock{
		Type: "header",
		Text: &slackText{Type: "plain_text", Text: truncate(emoji+" "+title, slackHeaderMax), Emoji: true},
	})
	intro := "*" + escapeMrkdwn(meeting) + "*"
	if d.Watch != "" {
		intro += "  ·  watch `" + escapeMrkdwn(d.Watch) + "`"
	}
	section := slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: intro}}
	for _, f := range fields {
		v := escapeMrkdwn(f.value)
		if f.code {
			v = "`" + v + "`"
		}
		section.Fields = append(section.Fields, slackText{Type: "mrkdwn", Text: "*" + f.label + "*\n" + v})
	}
	msg.Blocks = append(msg.Blocks, section)
	if d.Error != "" {
		text := strings.ReplaceAll(truncate(d.Error, slackErrorMax), "```", "'''")
		msg.Blocks = append(msg.Blocks, slackBlock{
			Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: "*Error*\n```" + escapeMrkdwn(text) + "```"},
		})
	}
	ctx := []string{"event `" + escapeMrkdwn(d.ID) + "` #" + strconv.FormatUint(d.Sequence, 10)}
	if !ev.Timestamp.IsZero() {
		ts := ev.Timestamp.UTC()
		ctx = append(ctx, fmt.Sprintf("<!date^%d^{date_short_pretty} {time_secs}|%s>",
			ts.Unix(), ts.Format("2006-01-02 15:04:05 UTC")))
	}
	msg.Blocks = append(msg.Blocks, slackBlock{
		Type:     "context",
		Elements: []slackText{{Type: "mrkdwn", Text: strings.Join(ctx, "  ·  ")}},
	})
	return msg
}

// slackTitle says in a few words what happened.
func slackTitle(ev diff.Event) (emoji, title string) {
	d := ev.Data
	switch ev.Type {
	case diff.TypeSessionStarted:
		return ":large_green_circle:", "Session started"
	case diff.TypeSessionEnded:
		return ":red_circle:", "Session ended"
	case diff.TypeParticipantsThreshold:
		if d.Direction == diff.DirectionDown {
			return ":arrow_down:", "Participants fell below " + formatFloatPtr(d.Threshold)
		}
		return ":arrow_up:", "Participants reached " + formatFloatPtr(d.Threshold)
	case diff.TypeMinutesThreshold:
		return ":hourglass_flowing_sand:", "Minutes reached " + formatFloatPtr(d.Threshold)
	case diff.TypeWatchFailing:
		return ":warning:", "Watch failing"
	case diff.TypeWatchRecovered:
		return ":white_check_mark:", "Watch recovered"
	}
	return ":information_source:", "Event " + ev.Type
}

// slackFields lists the facts worth reading for the event's type.
func slackFields(ev diff.Event) []slackField {
	d := ev.Data
	var fs []slackField
	add := func(label, value string, code bool) {
		if value != "" {
			fs = append(fs, slackField{label: label, value: value, code: code})
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
		if d.MinutesConsumed != nil {
			add("Minutes", formatFloat(*d.MinutesConsumed), false)
		}
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
		if d.FailedForSeconds != nil {
			add("Failing for", formatSeconds(*d.FailedForSeconds), false)
		}
	}
	add("Session", d.SessionID, true)
	return fs
}

// escapeMrkdwn escapes the three characters Slack treats as control
// sequences, so that names cannot mention @channel or forge links.
func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate shortens s to at most n runes, ending it with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// formatFloat prints v with at most one decimal: 600, 612.5.
func formatFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// formatFloatPtr is formatFloat for an optional value; "" when nil.
func formatFloatPtr(v *float64) string {
	if v == nil {
		return ""
	}
	return formatFloat(*v)
}

// formatSeconds prints a duration the way people say it: 1h 2m 3s.
func formatSeconds(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// formatAPITime shows an API timestamp in UTC, or as given when it does
// not parse.
func formatAPITime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// joinNonEmpty joins the non-empty parts with ", ".
func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
