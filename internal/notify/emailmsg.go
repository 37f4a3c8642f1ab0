package notify

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode"
)

// emailSubjectMax bounds a subject, in characters, before it is encoded.
// RFC 5322 sets no length (its encoded words are folded), but Exchange and
// several clients cut subjects at 255 characters, so rtkwatchd does first,
// with an ellipsis.
const emailSubjectMax = 255

// emailSubject is a subject as it is sent: one line, within its limit.
var emailSubject = textLimit{max: emailSubjectMax, count: countRunes, escape: oneLine}

// emailContent is what an email says, before it becomes MIME.
type emailContent struct {
	subject string // one line, within emailSubjectMax
	text    string // text/plain
	html    string // text/html: the same, escaped
}

// renderEmail turns an event's JSON into the email for it: the title and
// what it is about (the meeting) as subject, then the text (the template's
// or the meeting, watch and error), the facts, and a footer with the
// event's id and time, as plain text and as escaped HTML.
func renderEmail(body []byte, t *Template) (emailContent, error) {
	ev, err := decodeEvent(body)
	if err != nil {
		return emailContent{}, fmt.Errorf("decode event for email: %w", err)
	}
	p := emailPartsFor(ev, t)
	subject := ev.title() + ": " + ev.subject()
	if t != nil && t.title != nil {
		subject = p.title
	}
	var plain, h strings.Builder
	p.writePlain(&plain)
	h.WriteString(emailHTMLStart)
	p.writeHTML(&h, "h2")
	h.WriteString(emailHTMLEnd)
	return emailContent{subject: emailSubject.fit(subject), text: plain.String(), html: h.String()}, nil
}

// The start and end of every HTML part.
const (
	emailHTMLStart = "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n"
	emailHTMLEnd   = "</body></html>\n"
)

// emailParts is what an email says of one event.
type emailParts struct {
	title, text, footer string
	facts               []fact
}

// emailPartsFor chooses an event's texts: the title and text (the
// template's or the defaults), the facts, and a footer with the event's id
// and time.
func emailPartsFor(ev event, t *Template) emailParts {
	p := emailParts{title: ev.title(), text: ev.plainText(), facts: ev.facts()}
	if t != nil {
		p.title, p.text = t.renderOrDefault(ev)
	}
	p.footer = "event " + ev.d.ID + " #" + strconv.FormatUint(ev.d.Sequence, 10)
	if !ev.Timestamp.IsZero() {
		p.footer += " · " + ev.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return p
}

// writePlain writes the text/plain of p: the text, the facts, the footer.
func (p emailParts) writePlain(b *strings.Builder) {
	b.WriteString(p.text + "\n\n")
	for _, f := range p.facts {
		b.WriteString(f.label + ": " + f.value + "\n")
	}
	b.WriteString("\n-- \n" + p.footer + "\n")
}

// writeHTML writes the text/html of p, its title in the heading element
// tag, every text escaped.
func (p emailParts) writeHTML(h *strings.Builder, tag string) {
	h.WriteString("<" + tag + ">" + html.EscapeString(p.title) + "</" + tag + ">\n")
	h.WriteString("<p>" + htmlLines(p.text) + "</p>\n")
	if len(p.facts) > 0 {
		h.WriteString("<table cellpadding=\"4\">\n")
		for _, f := range p.facts {
			h.WriteString("<tr><th align=\"left\">" + html.EscapeString(f.label) + "</th><td>" + htmlLines(f.value) + "</td></tr>\n")
		}
		h.WriteString("</table>\n")
	}
	h.WriteString("<p style=\"color: #666; font-size: small\">" + html.EscapeString(p.footer) + "</p>\n")
}

// renderEmailGroup turns a group into one email: the group's summary as
// subject and heading, then every event as its own email would say it,
// title first. Email has no limit that a group of rtkwatchd's size
// reaches, so none is left out.
func renderEmailGroup(g GroupMessage, t *Template) (emailContent, error) {
	items, err := groupItems(g, t)
	if err != nil {
		return emailContent{}, fmt.Errorf("email: %w", err)
	}
	summary := groupSummary(items)
	var plain, h strings.Builder
	plain.WriteString(summary + "\n")
	h.WriteString(emailHTMLStart + "<h2>" + html.EscapeString(summary) + "</h2>\n")
	for _, it := range items {
		p := emailPartsFor(it.ev, t)
		plain.WriteString("\n\n" + p.title + "\n" + strings.Repeat("=", min(countRunes(p.title), 72)) + "\n")
		p.writePlain(&plain)
		h.WriteString("<hr>\n")
		p.writeHTML(&h, "h3")
	}
	h.WriteString(emailHTMLEnd)
	return emailContent{subject: emailSubject.fit(summary), text: plain.String(), html: h.String()}, nil
}

// htmlLines escapes s for HTML and keeps its line breaks.
func htmlLines(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>\n")
}

// oneLine turns every control character (line breaks, tabs) into a space,
// so that a subject cannot break into the headers after it.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
