package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Discord's documented limits on an embed, in characters (Unicode code
// points), on the text as sent, after Markdown escapes.
const (
	discordTitleMax       = 256
	discordDescriptionMax = 4096
	discordFieldsMax      = 25
	discordFieldNameMax   = 256
	discordFieldValueMax  = 1024
	discordFooterMax      = 2048
	discordUsernameMax    = 80
	discordEmbedTotalMax  = 6000 // title, description, field names and values, footer
)

// discordText measures a text of an embed as Discord counts it.
var discordText = textLimit{count: countRunes, escape: escapeDiscord}

// Embed colours by tone.
const (
	discordBlue   = 0x3498db
	discordGreen  = 0x2ecc71
	discordYellow = 0xf1c40f
	discordRed    = 0xe74c3c
)

// discordMessage is an execute-webhook payload with one embed. Mentions are
// switched off, so that no name or error can ping @everyone.
type discordMessage struct {
	Username        string          `json:"username,omitempty"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
	Embeds          []discordEmbed  `json:"embeds"`
}

type discordMentions struct {
	Parse []string `json:"parse"` // empty: nobody is mentioned
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Color       int            `json:"color"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Fields      []discordField `json:"fields,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

// renderDiscord turns an event's JSON into the Discord payload for it.
func renderDiscord(body []byte, t *Template, username string) ([]byte, error) {
	ev, err := decodeEvent(body)
	if err != nil {
		return nil, fmt.Errorf("decode event for discord: %w", err)
	}
	title, text := ev.title(), ev.plainText()
	if t != nil {
		title, text = t.renderOrDefault(ev)
	}
	facts := ev.facts()
	if len(facts) > discordFieldsMax {
		facts = facts[:discordFieldsMax]
	}
	footer := "event " + ev.d.ID + " #" + strconv.FormatUint(ev.d.Sequence, 10)

	title = discordText.within(discordTitleMax).fitRaw(title)
	text = discordText.within(discordDescriptionMax).fitRaw(text)
	footer = textLimit{max: discordFooterMax, count: countRunes}.fitRaw(footer)
	texts := []*string{&title, &text}
	for i := range facts {
		facts[i].label = discordText.within(discordFieldNameMax).fitRaw(facts[i].label)
		facts[i].value = discordText.within(discordFieldValueMax).fitRaw(facts[i].value)
		texts = append(texts, &facts[i].value)
	}
	build := func() discordEmbed {
		e := discordEmbed{
			Title:       discordText.escaped(title),
			Description: discordText.escaped(text),
			Color:       discordColour(ev.tone()),
			Footer:      &discordFooter{Text: footer},
		}
		if !ev.Timestamp.IsZero() {
			e.Timestamp = ev.Timestamp.UTC().Format(time.RFC3339)
		}
		for _, f := range facts {
			e.Fields = append(e.Fields, discordField{Name: discordText.escaped(f.label), Value: discordText.escaped(f.value), Inline: true})
		}
		return e
	}
	var embed discordEmbed
	shrink(texts, discordText, discordEmbedTotalMax, func() int {
		embed = build()
		return embedSize(embed)
	})
	msg := discordMessage{
		Username:        textLimit{max: discordUsernameMax, count: countRunes}.fit(username),
		AllowedMentions: discordMentions{Parse: []string{}},
		Embeds:          []discordEmbed{embed},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return nil, fmt.Errorf("encode discord message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// embedSize counts an embed's characters as Discord's 6,000 limit does.
func embedSize(e discordEmbed) int {
	n := countRunes(e.Title) + countRunes(e.Description)
	for _, f := range e.Fields {
		n += countRunes(f.Name) + countRunes(f.Value)
	}
	if e.Footer != nil {
		n += countRunes(e.Footer.Text)
	}
	return n
}

// discordColour is an embed's colour for a tone.
func discordColour(t tone) int {
	switch t {
	case toneGood:
		return discordGreen
	case toneWarn:
		return discordYellow
	case toneBad:
		return discordRed
	}
	return discordBlue
}

// escapeDiscord backslash-escapes the characters of Discord's Markdown, so
// that names and errors show as they are: no emphasis, spoilers, code,
// quotes, headings or masked links. Dashes stay: they fill ids, and a list
// needs one at the start of a line.
func escapeDiscord(s string) string { return discordEscaper.Replace(s) }

var discordEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`,
	`[`, `\[`, `]`, `\]`, `>`, `\>`, `#`, `\#`,
)
