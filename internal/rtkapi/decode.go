package rtkapi

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Session statuses as the API reports them.
const (
	StatusLive  = "LIVE"
	StatusEnded = "ENDED"
)

// Bounds of what the API may say about one session. Anything outside them
// is an answer the API should never send, reported as a decode failure
// rather than believed: a participant count of 1e308 would otherwise cross
// every threshold, and a minutes count of 1e308 would use up the
// once-per-session minutes alerts before the real crossing.
const (
	// MaxParticipants bounds live_participants and
	// max_concurrent_participants, far above any RealtimeKit meeting.
	MaxParticipants = 1_000_000
	// MaxMinutesConsumed bounds minutes_consumed: a million participants
	// for two years.
	MaxMinutesConsumed = 1e12
)

// Session is one RealtimeKit session as the API describes it. Every
// session the package returns passed the checks of its decoder: an ID, a
// status of [StatusLive] or [StatusEnded], an associated meeting when it
// comes from the sessions list, whole counts from 0 to [MaxParticipants],
// minutes_consumed from 0 to [MaxMinutesConsumed], and a started_at (and
// ended_at, when set) in RFC 3339. BreakoutRooms and Meta are the API's JSON
// as sent, nil when absent or null.
type Session struct {
	ID                        string          `json:"id"`
	AssociatedID              string          `json:"associated_id"`
	MeetingDisplayName        string          `json:"meeting_display_name"`
	Type                      string          `json:"type"`
	Status                    string          `json:"status"`
	LiveParticipants          int             `json:"live_participants"`
	MaxConcurrentParticipants int             `json:"max_concurrent_participants"`
	MinutesConsumed           float64         `json:"minutes_consumed"`
	OrganizationID            string          `json:"organization_id"`
	StartedAt                 string          `json:"started_at"`
	CreatedAt                 string          `json:"created_at"`
	UpdatedAt                 string          `json:"updated_at"`
	EndedAt                   string          `json:"ended_at,omitempty"`
	BreakoutRooms             json.RawMessage `json:"breakout_rooms,omitempty"`
	Meta                      json.RawMessage `json:"meta,omitempty"`
}

// activeBody is a 2xx answer of the active-session route.
type activeBody struct {
	Success *bool        `json:"success"`
	Data    *wireSession `json:"data"`
}

// decodeActiveSession decodes a 2xx active-session body strictly: success
// true, and a data object that is a session as [Session] describes it.
// Anything else is a failure that names the field and, for a value of the
// wrong type or out of bounds, the value. A body that is what it should be
// is read the fast way (see typedSession); any other is read again, field
// by field, for the message.
func decodeActiveSession(status int, body []byte) (*Session, *Error) {
	if s, ok := decodeTypedActiveSession(body); ok {
		return s, nil
	}
	return decodeWireActiveSession(status, body)
}

// decodeWireActiveSession is decodeActiveSession's careful way, field by
// field, which names what is wrong.
func decodeWireActiveSession(status int, body []byte) (*Session, *Error) {
	var r activeBody
	if e := unmarshal(status, body, &r); e != nil {
		return nil, e
	}
	if r.Success == nil || !*r.Success {
		return nil, decodeError(status, "success is not true")
	}
	if r.Data == nil {
		return nil, decodeError(status, "no data object")
	}
	s, problem := r.Data.session(false)
	if problem != "" {
		return nil, decodeError(status, "data."+problem)
	}
	return &s, nil
}

// pageBody is a 2xx answer of the sessions route.
type pageBody struct {
	Success *bool       `json:"success"`
	Data    *pageData   `json:"data"`
	Paging  *wirePaging `json:"paging"`
}

type pageData struct {
	Sessions []wireSession `json:"sessions"`
}

// decodePage decodes one page of GET …/sessions strictly, checking every
// session as decodeActiveSession does. A page without data or without
// data.sessions lists no session. One odd entry must not blind a watch to
// every other session, so it is left out and named in Problem: its
// meeting then looks absent from the list, and a caller asks that meeting
// directly before it believes a session ended.
func decodePage(status int, body []byte) (Page, *Error) {
	var r pageBody
	if e := unmarshal(status, body, &r); e != nil {
		return Page{}, e
	}
	if r.Success == nil || !*r.Success {
		return Page{}, decodeError(status, "success is not true")
	}
	var page Page
	if r.Paging != nil {
		p, problem := r.Paging.paging()
		if problem != "" {
			return Page{}, decodeError(status, "paging."+problem)
		}
		page.Paging = &p
	}
	if r.Data == nil {
		page.Sessions = []Session{}
		return page, nil
	}
	page.Entries = len(r.Data.Sessions)
	page.Sessions = make([]Session, 0, len(r.Data.Sessions))
	for i := range r.Data.Sessions {
		s, problem := r.Data.Sessions[i].session(true)
		if problem != "" {
			if page.Problem == "" {
				page.Problem = "data.sessions[" + strconv.Itoa(i) + "]." + problem
			}
			continue
		}
		page.Sessions = append(page.Sessions, s)
	}
	return page, nil
}

// unmarshal decodes body into v, one of the body types above, whose fields
// below the top level never fail: a type error can only concern the body
// itself, data, data.sessions, or paging. The message says where the JSON
// broke but quotes none of it.
func unmarshal(status int, body []byte, v any) *Error {
	if len(body) == 0 {
		return decodeError(status, "empty body")
	}
	err := json.Unmarshal(body, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return decodeError(status, "invalid JSON: "+syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "data.sessions" {
			if p, ok := v.(*pageBody); ok && p.Data != nil && p.Data.Sessions != nil {
				// An entry that is not an object: it stays empty, and
				// its check names it.
				return nil
			}
		}
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return decodeError(status, field+" is "+article(typ.Value)+", not "+article(jsonKind(typ.Type.Kind().String())))
	}
	return decodeError(status, "invalid JSON")
}

// jsonKind names the JSON type that a Go kind decodes from.
func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map", "ptr":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "bool"
	case "string":
		return "string"
	}
	return "number"
}

// article puts "a" or "an" before a JSON type name.
func article(what string) string {
	if strings.HasPrefix(what, "array") || strings.HasPrefix(what, "object") {
		return "an " + what
	}
	return "a " + what
}

// decodeError reports a response whose body is not what was expected.
func decodeError(status int, what string) *Error {
	return &Error{Kind: KindDecode, StatusCode: status, Message: statusLine(status) + " with an unexpected body: " + what}
}
