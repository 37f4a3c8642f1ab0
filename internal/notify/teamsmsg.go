package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// teamsMax is the most a Teams message may weigh: Microsoft documents
// 28 KB for a message posted through a webhook. It is counted here on the
// UTF-8 request body, as 28,000 bytes, to stay clear of the edge.
const teamsMax = 28000

// teamsFieldMax bounds every text of a card but the template's before the
// whole is fitted into teamsMax: past a thousand bytes a title or a fact
// is no longer read, only scrolled.
const teamsFieldMax = 1000

// teamsText measures a card's text as it is sent: escaped for the card's
// Markdown, then counted in bytes of its JSON encoding.
var teamsText = textLimit{max: teamsFieldMax, count: countJSONBytes, escape: escapeTeams}

// teamsMessage is the Workflows webhook payload: a message with one
// Adaptive Card attachment.
type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"` // always null
	Content     teamsCard `json:"content"`
}

// teamsCard is an Adaptive Card, version 1.4 (the newest Teams renders
// everywhere).
type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	MSTeams map[string]any `json:"msteams,omitempty"`
	Body    []teamsElement `json:"body"`
}

// teamsElement is a TextBlock or a FactSet.
type teamsElement struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	FontType string `json:"fontType,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	// Separator draws a line above the element: between a group's events.
	Separator bool        `json:"separator,omitempty"`
	Facts     []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// teamsParts is a card's texts before escaping, so that they can be cut.
type teamsParts struct {
	title, text, errText, footer string
	colour                       string
	facts                        []fact
}

// renderTeams turns an event's JSON into the Teams payload for it.
func renderTeams(body []byte, t *Template) ([]byte, error) {
	ev, err := decodeEvent(body)
	if err != nil {
		return nil, fmt.Errorf("decode event for teams: %w", err)
	}
	p := teamsPartsFor(ev, t)
	texts := []*string{&p.title, &p.errText, &p.footer}
	for i := range p.facts {
		texts = append(texts, &p.facts[i].value)
	}
	for _, s := range texts {
		*s = teamsText.fitRaw(*s)
	}
	// The template's text may fill what the rest leaves.
	p.text = teamsText.within(teamsMax).fitRaw(p.text)
	var payload []byte
	texts = append(texts, &p.text)
	fits := shrink(texts, teamsText, teamsMax, func() int {
		payload = encodeTeams(p.card())
		return len(payload)
	})
	if !fits {
		return nil, fmt.Errorf("encode teams message: over %d bytes with every text empty", teamsMax)
	}
	return payload, nil
}

// teamsPartsFor chooses the card's texts: the title, the template's text
// or none, the facts with the meeting and watch first, the error, and a
// footer with the event's id and time.
func teamsPartsFor(ev event, t *Template) teamsParts {
	p := teamsParts{title: ev.title(), errText: ev.d.Error}
	if t != nil {
		// The default text is in the facts already: only the template's
		// own text, or its failure, is shown.
		p.title, p.text = t.renderOrDefault(ev)
		if p.text == ev.plainText() {
			p.text = ""
		}
	}
	if ev.d.MeetingDisplayName != "" || ev.d.MeetingID != "" {
		p.facts = append(p.facts, fact{label: "Meeting", value: ev.subject()})
	}
	if ev.d.Watch != "" {
		p.facts = append(p.facts, fact{label: "Watch", value: ev.d.Watch})
	}
	p.facts = append(p.facts, ev.facts()...)
	p.footer = "event " + ev.d.ID + " #" + strconv.FormatUint(ev.d.Sequence, 10)
	if !ev.Timestamp.IsZero() {
		p.footer += " · " + ev.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	switch ev.tone() {
	case toneGood:
		p.colour = "Good"
	case toneWarn:
		p.colour = "Warning"
	case toneBad:
		p.colour = "Attention"
	}
	return p
}

// card builds the message of p: one Adaptive Card.
func (p teamsParts) card() teamsMessage {
	return teamsCardOf(p.elements(teamsElement{Weight: "Bolder", Size: "Medium"}))
}

// elements are the card elements of p, escaping every text: the title
// (styled as heading says, coloured by tone), the text, the facts, the
// error and the footer.
func (p teamsParts) elements(heading teamsElement) []teamsElement {
	esc := teamsText.escaped
	heading.Type, heading.Text, heading.Color, heading.Wrap = "TextBlock", esc(p.title), p.colour, true
	body := []teamsElement{heading}
	if p.text != "" {
		body = append(body, teamsElement{Type: "TextBlock", Text: esc(p.text), Wrap: true})
	}
	if len(p.facts) > 0 {
		set := teamsElement{Type: "FactSet"}
		for _, f := range p.facts {
			set.Facts = append(set.Facts, teamsFact{Title: f.label, Value: esc(f.value)})
		}
		body = append(body, set)
	}
	if p.errText != "" {
		body = append(body, teamsElement{
			Type: "TextBlock", Text: esc(p.errText), FontType: "Monospace", Color: "Attention", Wrap: true,
		})
	}
	return append(body, teamsElement{
		Type: "TextBlock", Text: esc(p.footer), Size: "Small", IsSubtle: true, Wrap: true,
	})
}

// teamsCardOf wraps card elements into a message with one Adaptive Card.
func teamsCardOf(body []teamsElement) teamsMessage {
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				MSTeams: map[string]any{"width": "Full"},
				Body:    body,
			},
		}},
	}
}

// encodeTeams encodes a message as it is sent: compact, and without
// HTML escapes, which would only make it heavier.
func encodeTeams(m teamsMessage) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic("notify: teams message does not encode: " + err.Error()) // strings and fixed shapes only
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// escapeTeams keeps names and errors from turning into the Markdown that
// Teams renders in TextBlocks and facts: links and bold. Underscores stay
// as they are: they abound in ids, and within a word they emphasise
// nothing.
func escapeTeams(s string) string {
	return teamsEscaper.Replace(s)
}

var teamsEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `[`, `\[`, `]`, `\]`)
