package rtkfake

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The API answers errors in two shapes. The Cloudflare gateway (routing,
// authentication, rate limits) uses the v4 envelope with an "errors" array;
// RealtimeKit itself uses a single "error" object, as in its 404 for a
// meeting without an active session.

type v4Message struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type v4Envelope struct {
	Success  bool        `json:"success"`
	Errors   []v4Message `json:"errors"`
	Messages []v4Message `json:"messages"`
	Result   any         `json:"result"`
}

// envelopeError returns a v4 envelope body carrying one error.
func envelopeError(code int, message string) []byte {
	return mustMarshal(v4Envelope{
		Errors:   []v4Message{{Code: code, Message: message}},
		Messages: []v4Message{},
	})
}

type rtkErrorBody struct {
	Success bool      `json:"success"`
	Error   v4Message `json:"error"`
}

// rtkError returns a RealtimeKit error body.
func rtkError(code int, message string) []byte {
	return mustMarshal(rtkErrorBody{Error: v4Message{Code: code, Message: message}})
}

// unrouted is the gateway's 404 body for a path it cannot route.
func unrouted(path string) []byte {
	return envelopeError(7003, "Could not route to "+strings.ToValidUTF8(path, "")+", perhaps your object identifier is invalid?")
}

// noActiveSession is RealtimeKit's 404 body for a meeting without an
// active session.
func noActiveSession(meetingID string) []byte {
	return rtkError(404, "No active session found for meeting_id "+meetingID)
}

type sessionBody struct {
	Success bool     `json:"success"`
	Data    *Session `json:"data"`
}

type sessionsData struct {
	Sessions []*Session `json:"sessions"`
}

type sessionsBody struct {
	Success bool         `json:"success"`
	Data    sessionsData `json:"data"`
	Paging  *paging      `json:"paging,omitempty"`
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the fake's own types are marshalled; json.RawMessage fields
		// are validated when a session is stored.
		panic("rtkfake: marshal: " + err.Error())
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }
