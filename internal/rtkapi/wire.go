package rtkapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wireSession is a session as sent, each field decoded on its own so that
// a value of the wrong type never fails the whole body: session then
// checks every field and names the first one that is wrong, with its
// value.
type wireSession struct {
	ID                        text    `json:"id"`
	AssociatedID              text    `json:"associated_id"`
	MeetingDisplayName        text    `json:"meeting_display_name"`
	Type                      text    `json:"type"`
	Status                    text    `json:"status"`
	LiveParticipants          number  `json:"live_participants"`
	MaxConcurrentParticipants number  `json:"max_concurrent_participants"`
	MinutesConsumed           number  `json:"minutes_consumed"`
	OrganizationID            text    `json:"organization_id"`
	StartedAt                 text    `json:"started_at"`
	CreatedAt                 text    `json:"created_at"`
	UpdatedAt                 text    `json:"updated_at"`
	EndedAt                   text    `json:"ended_at"`
	BreakoutRooms             rawJSON `json:"breakout_rooms"`
	Meta                      rawJSON `json:"meta"`
}

// session checks w and converts it, or names the field that is missing or
// wrong, such as `live_participants is "60", not a number`. listed is
// true for an entry of the sessions list, which must name its meeting.
//
// Signals, the values events are made of, must be present: id, status,
// live_participants, minutes_consumed and started_at. The other fields
// may be absent or null; when present they must have the type the SDK
// documents, and counts and times their domain.
func (w *wireSession) session(listed bool) (Session, string) {
	s := Session{
		ID: w.ID.v, AssociatedID: w.AssociatedID.v, MeetingDisplayName: w.MeetingDisplayName.v,
		Type: w.Type.v, Status: w.Status.v, OrganizationID: w.OrganizationID.v,
		StartedAt: w.StartedAt.v, CreatedAt: w.CreatedAt.v, UpdatedAt: w.UpdatedAt.v, EndedAt: w.EndedAt.v,
	}
	for _, f := range [...]struct {
		name     string
		t        *text
		required bool
	}{
		{"id", &w.ID, true}, {"associated_id", &w.AssociatedID, listed}, {"status", &w.Status, true},
		{"started_at", &w.StartedAt, true}, {"meeting_display_name", &w.MeetingDisplayName, false},
		{"type", &w.Type, false}, {"organization_id", &w.OrganizationID, false},
		{"created_at", &w.CreatedAt, false}, {"updated_at", &w.UpdatedAt, false}, {"ended_at", &w.EndedAt, false},
	} {
		if problem := f.t.check(f.name, f.required); problem != "" {
			return Session{}, problem
		}
	}
	if s.Status != StatusLive && s.Status != StatusEnded {
		return Session{}, "status is " + strconv.Quote(clip(s.Status)) + ", not LIVE or ENDED"
	}
	for _, f := range [...]struct{ name, v string }{{"started_at", s.StartedAt}, {"ended_at", s.EndedAt}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, f.v); err != nil {
			return Session{}, f.name + " is " + strconv.Quote(clip(f.v)) + ", not an RFC 3339 time"
		}
	}
	var problem string
	if s.LiveParticipants, problem = w.LiveParticipants.count("live_participants", true); problem != "" {
		return Session{}, problem
	}
	if s.MaxConcurrentParticipants, problem = w.MaxConcurrentParticipants.count("max_concurrent_participants", false); problem != "" {
		return Session{}, problem
	}
	if s.MinutesConsumed, problem = w.MinutesConsumed.within("minutes_consumed", true, MaxMinutesConsumed, false); problem != "" {
		return Session{}, problem
	}
	if len(w.BreakoutRooms.v) > 0 && w.BreakoutRooms.v[0] != '[' {
		return Session{}, "breakout_rooms is " + w.BreakoutRooms.describe() + ", not a list"
	}
	s.BreakoutRooms, s.Meta = w.BreakoutRooms.v, w.Meta.v
	return s, ""
}

// wirePaging is the API's top-level "paging" object as sent.
type wirePaging struct {
	TotalCount  number `json:"total_count"`
	StartOffset number `json:"start_offset"`
	EndOffset   number `json:"end_offset"`
}

// Paging is the sessions list's top-level "paging" object, which the
// API's schema has and SDK v6.10.0 does not model: how many entries the
// whole list holds, and the offsets (from 0) of the first and last entry
// of this page.
type Paging struct {
	TotalCount  int
	StartOffset int
	// EndOffset is the offset of the page's last entry; -1 when the
	// answer did not say.
	EndOffset int
}

// maxOffset bounds the counts and offsets of a paging object.
const maxOffset = 1 << 30

// paging checks p and converts it: total_count and start_offset are
// required whole numbers from 0, end_offset an optional one from -1 (an
// empty page may end before it starts).
func (p *wirePaging) paging() (Paging, string) {
	total, problem := p.TotalCount.within("total_count", true, maxOffset, true)
	if problem != "" {
		return Paging{}, problem
	}
	start, problem := p.StartOffset.within("start_offset", true, maxOffset, true)
	if problem != "" {
		return Paging{}, problem
	}
	end := -1
	if e := p.EndOffset; e.set || e.bad != "" {
		if !e.set || e.v < -1 || e.v > maxOffset || e.v != math.Trunc(e.v) {
			return Paging{}, "end_offset is " + e.describe() + ", not a whole number from -1"
		}
		end = int(e.v)
	}
	return Paging{TotalCount: int(total), StartOffset: int(start), EndOffset: end}, ""
}

// text is a JSON value that should be a string. null counts as absent.
type text struct {
	v   string
	bad string // what was sent instead of a string, clipped
}

// UnmarshalJSON keeps a string's value, or what was sent instead; it never
// fails.
func (t *text) UnmarshalJSON(b []byte) error {
	*t = text{}
	switch {
	case len(b) == 0 || string(b) == "null":
	case b[0] != '"':
		t.bad = clip(string(b))
	case bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		t.v = string(b[1 : len(b)-1])
	default:
		if json.Unmarshal(b, &t.v) != nil {
			t.bad = clip(string(b))
		}
	}
	return nil
}

// check names t when it is not a string, or, when required, empty.
func (t *text) check(name string, required bool) string {
	switch {
	case t.bad != "":
		return name + " is " + t.bad + ", not a string"
	case required && t.v == "":
		return name + " is missing"
	}
	return ""
}

// number is a JSON value that should be a number. null counts as absent.
type number struct {
	v   float64
	set bool   // a finite number was sent
	bad string // what was sent instead, clipped
}

// UnmarshalJSON keeps a number's value, or what was sent instead; it
// never fails. A number too large for a float64 is kept as sent.
func (n *number) UnmarshalJSON(b []byte) error {
	*n = number{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			n.v, n.set = f, true
			return nil
		}
	}
	n.bad = clip(string(b))
	return nil
}

// describe shows what was sent, for a message.
func (n *number) describe() string {
	if n.bad != "" {
		return n.bad
	}
	return formatNumber(n.v)
}

// formatNumber prints v as JSON would hold it: in full up to 1e15, in
// exponent form beyond.
func formatNumber(v float64) string {
	if math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// count checks a participant count: a whole number from 0 to
// MaxParticipants; absent is 0 unless required.
func (n *number) count(name string, required bool) (int, string) {
	f, problem := n.within(name, required, MaxParticipants, true)
	return int(f), problem
}

// within checks that n is a number from 0 to limit, whole when asked;
// absent is 0 unless required.
func (n *number) within(name string, required bool, limit float64, whole bool) (float64, string) {
	switch {
	case n.bad != "" && n.bad[0] != '-' && (n.bad[0] < '0' || n.bad[0] > '9'):
		return 0, name + " is " + n.bad + ", not a number"
	case n.bad != "":
		return 0, name + " is " + n.bad + ", beyond any float64"
	case !n.set && required:
		return 0, name + " is missing"
	case math.IsNaN(n.v) || n.v < 0:
		return 0, name + " is " + n.describe() + ", below 0"
	case n.v > limit:
		return 0, name + " is " + n.describe() + ", above " + formatNumber(limit)
	case whole && n.v != math.Trunc(n.v):
		return 0, name + " is " + n.describe() + ", not a whole number"
	}
	return n.v, ""
}

// rawJSON is a JSON value kept as sent; null counts as absent.
type rawJSON struct{ v json.RawMessage }

// UnmarshalJSON keeps a copy of b unless it is null; it never fails.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = rawJSON{}
	if len(b) > 0 && string(b) != "null" {
		r.v = append(json.RawMessage(nil), b...)
	}
	return nil
}

// describe shows what was sent, for a message.
func (r *rawJSON) describe() string { return clip(string(r.v)) }

// maxQuoted bounds how much of a value a message quotes.
const maxQuoted = 40

// clip makes what the API sent fit a message: valid UTF-8, each run of
// white space one space, and at most maxQuoted bytes, cut on a rune
// boundary and marked.
func clip(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
