package rtkapi

import (
	"errors"
	"time"
)

// ErrNoActiveSession is what [Client.ActiveSession] returns for a meeting
// that has no active session: RealtimeKit's own 404, which is how a
// session that ended looks on that route. It is an answer, not a failure.
var ErrNoActiveSession = errors.New("no active session")

// ErrUnknownMeeting is what [Client.Meeting] returns for a meeting that the
// app does not have: RealtimeKit's own 404 on the meeting's route. It is an
// answer, not a failure.
var ErrUnknownMeeting = errors.New("no such meeting")

// Kind classifies a failed request.
type Kind string

// The kinds of failed request.
const (
	KindAuth        Kind = "auth"         // 401, 403
	KindRateLimited Kind = "rate_limited" // 429
	KindServer      Kind = "server"       // 5xx
	KindNotFound    Kind = "not_found"    // a 404 that is not RealtimeKit's "no active session"
	KindClient      Kind = "client"       // any other 4xx or non-2xx, or a client that is misconfigured
	KindNetwork     Kind = "network"      // connection refused, reset, DNS …
	KindTimeout     Kind = "timeout"      // the request's deadline passed, or its context ended
	KindDecode      Kind = "decode"       // a body that is not the JSON expected, or too large
)

// Error is a failed request: what kind of failure, the HTTP status when a
// response arrived, and a short message that is safe to log and to send
// to receivers (it never holds the token, a secret part of the base URL,
// or more than a couple of hundred bytes of the API's own words).
type Error struct {
	Kind       Kind
	StatusCode int           // 0 when no HTTP response arrived
	RetryAfter time.Duration // a 429's Retry-After; 0 when it had none
	Message    string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }
