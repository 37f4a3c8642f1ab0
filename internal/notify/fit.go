package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ellipsis ends every text that had to be shortened.
const ellipsis = "…"

// A textLimit is one service's limit on one field: at most max units, as
// counted by count on the field as it is sent, that is after escape. Every
// renderer passes the text it puts in a field through its field's limit,
// so that no meeting title, error or template output can make a service
// refuse the message.
type textLimit struct {
	max int
	// count measures the field as the service does: characters, bytes,
	// or bytes of its JSON encoding.
	count func(string) int
	// escape turns plain text into the field's markup; nil sends it as is.
	escape func(string) string
}

// fit returns s escaped for the field and, when that is over the limit, the
// longest prefix of s whose escaped form followed by an ellipsis is within
// it. It cuts between characters, never inside an escape sequence, and
// drops the spaces before the ellipsis. A limit too small for the ellipsis
// itself yields "".
func (l textLimit) fit(s string) string {
	return l.escaped(l.fitRaw(s))
}

// escaped returns s escaped for the field.
func (l textLimit) escaped(s string) string {
	if l.escape == nil {
		return s
	}
	return l.escape(s)
}

// fitRaw is fit without the final escaping: the plain text whose escaped
// form fits.
func (l textLimit) fitRaw(s string) string {
	escape := l.escaped
	if l.count(escape(s)) <= l.max {
		return s
	}
	if l.count(ellipsis) > l.max {
		return ""
	}
	// Escaping is per character, so the measure grows with the prefix:
	// binary search for the longest prefix that fits, over rune offsets.
	// Every character counts at least one unit, however it is measured,
	// so no prefix longer than max can fit.
	r := []rune(s)
	lo, hi := 0, min(len(r), l.max)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.count(escape(string(r[:mid]))+ellipsis) <= l.max {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRightFunc(string(r[:lo]), unicode.IsSpace) + ellipsis
}

// countRunes counts Unicode code points, the "characters" of Slack's,
// Discord's and PagerDuty's documented limits.
func countRunes(s string) int { return utf8.RuneCountInString(s) }

// countJSONBytes counts the bytes s takes inside a JSON string, as
// encoding/json writes it without HTML escaping: the size limits of Teams
// apply to the encoded request body.
func countJSONBytes(s string) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
			n += 2
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			n += 6 // \u00XX, and the two separators JavaScript cannot hold
		case r == utf8.RuneError && size == 1:
			n += 6 // invalid UTF-8 is written as \ufffd
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
}

// shrink cuts the texts, longest first as l counts them, until total, which
// measures the whole message they make, is at most max. Each round cuts the
// longest text by the whole excess, or empties it when it is shorter than
// that, so it ends after at most one round per text. It reports whether the
// message fits: it does not when it is over max with every text empty.
func shrink(texts []*string, l textLimit, max int, total func() int) bool {
	for {
		over := total() - max
		if over <= 0 {
			return true
		}
		var longest *string
		size := 0
		for _, t := range texts {
			if n := l.count(l.escaped(*t)); n > size {
				longest, size = t, n
			}
		}
		if longest == nil {
			return false
		}
		cut := l
		cut.max = size - over
		if cut.max < l.count(ellipsis) {
			*longest = ""
			continue
		}
		*longest = cut.fitRaw(*longest)
	}
}
