package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Slack's documented limits, in characters, on what a message sends:
// Block Kit text is measured after Slack's &, < and > escapes.
const (
	slackHeaderMax  = 150  // a header block's plain_text
	slackSectionMax = 3000 // a section's text; also the message's fallback text
	slackFieldMax   = 2000 // each of a section's fields
	slackFieldsMax  = 10   // fields in a section
	slackErrorMax   = 1000 // the error shown, by choice: enough to read
)

// slackPlain and slackMrkdwn measure text sent as plain_text and as
// escaped mrkdwn.
var (
	slackPlain  = textLimit{count: countRunes}
	slackMrkdwn = textLimit{count: countRunes, escape: escapeMrkdwn}
)

// within returns l with its maximum set to max.
func (l textLimit) within(max int) textLimit {
	l.max = max
	return l
}

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

// renderSlack turns an event's JSON into the Slack payload for it, with
// the template's title and text when t is not nil.
func renderSlack(body []byte, t *Template) ([]byte, error) {
	ev, err := decodeEvent(body)
	if err != nil {
		return nil, fmt.Errorf("decode event for slack: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Slack needs its own escapes, not JSON's
	if err := enc.Encode(slackFor(ev, t)); err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// slackFor builds the message for one event: a header saying what
// happened, the meeting, the numbers that matter for that event type, any
// error, and a context line with the ids and the event's time. A template
// replaces the header's title and the meeting line. Every text is cut to
// Slack's limit for its place.
func slackFor(ev event, t *Template) slackMessage {
	d := ev.d
	meeting := ev.subject()
	fields := ev.facts()
	if len(fields) > slackFieldsMax {
		fields = fields[:slackFieldsMax]
	}

	header := slackEmoji(ev) + " " + ev.title()
	watch := ""
	if d.Watch != "" {
		watch = "  ·  watch `" + slackMrkdwn.within(slackHeaderMax).fit(d.Watch) + "`"
	}
	intro := "*" + slackMrkdwn.within(slackSectionMax-countRunes(watch)-2).fit(meeting) + "*" + watch

	fallback := ev.title() + ": " + meeting
	if d.Watch != "" {
		fallback += " (watch " + d.Watch + ")"
	}
	if t != nil {
		// What the template leaves to the default keeps its default look.
		title, text := t.renderOrDefault(ev)
		if title != ev.title() {
			header = title
		}
		if text != ev.plainText() {
			intro = slackMrkdwn.within(slackSectionMax).fit(text)
		}
		fallback = title + ": " + text
	}
	var facts []string
	for _, f := range fields {
		facts = append(facts, f.label+" "+f.value)
	}
	if len(facts) > 0 {
		fallback += ". " + strings.Join(facts, ", ")
	}
	errText := strings.ReplaceAll(d.Error, "```", "'''")
	if d.Error != "" {
		fallback += ". Error: " + d.Error
	}

	msg := slackMessage{Text: slackMrkdwn.within(slackSectionMax).fit(fallback)}
	msg.Blocks = append(msg.Blocks, slackBlock{
		Type: "header",
		Text: &slackText{Type: "plain_text", Text: slackPlain.within(slackHeaderMax).fit(header), Emoji: true},
	})
	section := slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: intro}}
	for _, f := range fields {
		label := "*" + f.label + "*\n"
		room := slackFieldMax - countRunes(label)
		if f.code {
			room -= 2
		}
		v := slackMrkdwn.within(room).fit(f.value)
		if f.code {
			v = "`" + v + "`"
		}
		section.Fields = append(section.Fields, slackText{Type: "mrkdwn", Text: label + v})
	}
	msg.Blocks = append(msg.Blocks, section)
	if d.Error != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{
			Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: "*Error*\n```" + slackMrkdwn.within(slackErrorMax).fit(errText) + "```"},
		})
	}
	ctx := []string{"event `" + slackMrkdwn.within(slackHeaderMax).fit(d.ID) + "` #" + strconv.FormatUint(d.Sequence, 10)}
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

// slackEmoji is the emoji of an event's header.
func slackEmoji(ev event) string {
	switch ev.Type {
	case diff.TypeSessionStarted:
		return ":large_green_circle:"
	case diff.TypeSessionEnded:
		return ":red_circle:"
	case diff.TypeParticipantsThreshold:
		if ev.d.Direction == diff.DirectionDown {
			return ":arrow_down:"
		}
		return ":arrow_up:"
	case diff.TypeMinutesThreshold, typeDurationCrossed, typeUsageThreshold:
		return ":hourglass_flowing_sand:"
	case typeSessionIdle:
		return ":zzz:"
	case diff.TypeWatchRecovered, typeNotifierRecovered, typeRecordingUploaded:
		return ":white_check_mark:"
	case typeRecordingStarted, typeLivestreamStarted:
		return ":red_circle:"
	case typeLivestreamStopped:
		return ":black_square_for_stop:"
	}
	if ev.tone() == toneBad {
		return ":warning:"
	}
	return ":information_source:"
}

// escapeMrkdwn escapes the three characters Slack treats as control
// sequences, so that names cannot mention @channel or forge links.
func escapeMrkdwn(s string) string { return mrkdwnEscaper.Replace(s) }

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
