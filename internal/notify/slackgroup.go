package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Limits of a Slack message that groups events.
const (
	// slackBlocksMax is Slack's limit on the blocks of a message.
	slackBlocksMax = 50
	// slackGroupItemMax bounds each event's section, by choice, so that
	// 48 of them stay well inside the 40,000 characters Slack shows of a
	// message.
	slackGroupItemMax = 700
)

// renderSlackGroup turns a group into one Slack message: a header that
// says how many events and where, a section per event (as many as 50
// blocks hold, the header and a closing context block included), and the
// context block, which says how many events are not shown. Every text is
// cut to its limit after escaping.
func renderSlackGroup(g GroupMessage, t *Template) ([]byte, error) {
	items, err := groupItems(g, t)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	summary := groupSummary(items)
	shown := min(len(items), slackBlocksMax-2)
	msg := slackMessage{Blocks: []slackBlock{{
		Type: "header",
		Text: &slackText{Type: "plain_text", Text: slackPlain.within(slackHeaderMax).fit(":bell: " + summary), Emoji: true},
	}}}
	titles := make([]string, 0, shown)
	for _, it := range items[:shown] {
		head := "*" + slackMrkdwn.within(slackHeaderMax).fit(slackEmoji(it.ev)+" "+it.title) + "*"
		var lines []string
		if it.text != it.ev.plainText() {
			lines = append(lines, it.text)
		}
		lines = append(lines, it.factLine())
		if it.ev.d.Error != "" {
			lines = append(lines, "Error: "+it.ev.d.Error)
		}
		body := slackMrkdwn.within(slackGroupItemMax - countRunes(head) - 1).fit(strings.Join(lines, "\n"))
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: head + "\n" + body}})
		titles = append(titles, it.title)
	}
	ctx := "group `" + slackMrkdwn.within(slackHeaderMax).fit(g.ID) + "`"
	if s := leftOut(len(items) - shown); s != "" {
		ctx = "*" + s + "*  ·  " + ctx
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: ctx}}})
	msg.Text = slackMrkdwn.within(slackSectionMax).fit(summary + ": " + strings.Join(titles, "; "))

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
