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
// what it is about (the meeting) as subject, then the text (the template's or the meeting, watch and error),
// the facts, and a footer with the event's id and time, as plain text and
// as escaped HTML.
func renderEmail(body []byte, t *Template) (emailContent, error) {
	ev, err := decodeEvent(body)
	if err != nil {
		return emailContent{}, fmt.Errorf("decode event for email: %w", err)
	}
	title, text := ev.title(), ev.plainText()
	subject := title + ": " + ev.subject()
	if t != nil {
		title, text = t.renderOrDefault(ev)
		if t.title != nil {
			subject = title
		}
	}
	facts := ev.facts()
	footer := "event " + ev.d.ID + " #" + strconv.FormatUint(ev.d.Sequence, 10)
	if !ev.Timestamp.IsZero() {
		footer += " · " + ev.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")
	}

	var plain strings.Builder
	plain.WriteString(text + "\n\n")
	for _, f := range facts {
		plain.WriteString(f.label + ": " + f.value + "\n")
	}
	plain.WriteString("\n-- \n" + footer + "\n")

	var h strings.Builder
	h.WriteString("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n")
	h.WriteString("<h2>" + html.EscapeString(title) + "</h2>\n")
	h.WriteString("<p>" + htmlLines(text) + "</p>\n")
	if len(facts) > 0 {
		h.WriteString("<table cellpadding=\"4\">\n")
		for _, f := range facts {
			h.WriteString("<tr><th align=\"left\">" + html.EscapeString(f.label) + "</th><td>" + htmlLines(f.value) + "</td></tr>\n")
		}
		h.WriteString("</table>\n")
	}
	h.WriteString("<p style=\"color: #666; font-size: small\">" + html.EscapeString(footer) + "</p>\n</body></html>\n")

	return emailContent{subject: emailSubject.fit(subject), text: plain.String(), html: h.String()}, nil
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
