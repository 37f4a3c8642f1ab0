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

// discordMessage is an execute-webhook payload: one embed per event, and
// for a group a content line that sums it up. Mentions are
// switched off, so that no name or error can ping @everyone.
type discordMessage struct {
	Content         string          `json:"content,omitempty"`
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
	p := discordPartsFor(ev, t)
	var embed discordEmbed
	shrink(p.texts(), discordText, discordEmbedTotalMax, func() int {
		embed = p.embed()
		return embedSize(embed)
	})
	return encodeDiscord(discordMessage{
		Username:        textLimit{max: discordUsernameMax, count: countRunes}.fit(username),
		AllowedMentions: discordMentions{Parse: []string{}},
		Embeds:          []discordEmbed{embed},
	})
}

// discordParts are the texts of one event's embed before escaping, each
// within its own limit, so that they can be cut further to fit a message.
type discordParts struct {
	ev                  event
	title, text, footer string
	facts               []fact
}

// discordPartsFor chooses an event's embed texts: the title and text (the
// template's or the defaults), the facts as fields, and a footer with the
// event's id.
func discordPartsFor(ev event, t *Template) *discordParts {
	p := &discordParts{ev: ev, title: ev.title(), text: ev.plainText()}
	if t != nil {
		p.title, p.text = t.renderOrDefault(ev)
	}
	p.facts = ev.facts()
	if len(p.facts) > discordFieldsMax {
		p.facts = p.facts[:discordFieldsMax]
	}
	p.title = discordText.within(discordTitleMax).fitRaw(p.title)
	p.text = discordText.within(discordDescriptionMax).fitRaw(p.text)
	p.footer = textLimit{max: discordFooterMax, count: countRunes}.fitRaw("event " + ev.d.ID + " #" + strconv.FormatUint(ev.d.Sequence, 10))
	for i := range p.facts {
		p.facts[i].label = discordText.within(discordFieldNameMax).fitRaw(p.facts[i].label)
		p.facts[i].value = discordText.within(discordFieldValueMax).fitRaw(p.facts[i].value)
	}
	return p
}

// texts are the texts that shrink may cut: the title, the text and the
// facts' values.
func (p *discordParts) texts() []*string {
	texts := []*string{&p.title, &p.text}
	for i := range p.facts {
		texts = append(texts, &p.facts[i].value)
	}
	return texts
}

// embed builds the embed of p, escaping every text.
func (p *discordParts) embed() discordEmbed {
	e := discordEmbed{
		Title:       discordText.escaped(p.title),
		Description: discordText.escaped(p.text),
		Color:       discordColour(p.ev.tone()),
		Footer:      &discordFooter{Text: p.footer},
	}
	if !p.ev.Timestamp.IsZero() {
		e.Timestamp = p.ev.Timestamp.UTC().Format(time.RFC3339)
	}
	for _, f := range p.facts {
		e.Fields = append(e.Fields, discordField{Name: discordText.escaped(f.label), Value: discordText.escaped(f.value), Inline: true})
	}
	return e
}

// encodeDiscord encodes a payload as it is sent, without HTML escapes.
func encodeDiscord(msg discordMessage) ([]byte, error) {
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
