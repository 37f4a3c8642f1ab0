// Package rtkapi reads Cloudflare RealtimeKit sessions, and an app's
// recordings, livestreams and daywise analytics, through the official SDK
// (its realtime_kit and option packages only).
//
// Every call makes one request (Recordings and Livestreams one per page) under its own deadline, with the SDK's
// retries off: the caller decides when to try again. A call returns what it
// read, or an error: [ErrNoActiveSession] when a meeting has no active
// session, [ErrUnknownMeeting] when an app has no such meeting, or an
// [*Error] that says what kind of failure it was, with a short message that
// never holds the API token. Bodies are capped at [MaxResponseBytes] and
// decoded strictly: a value of another JSON type than the SDK documents, or
// outside its domain (a negative count, 1e308 participants), is a failure
// of [KindDecode] that names the field and the value, never a number to act
// on. A [ListRead] says which pages of the sessions list to fetch, one
// [Client.SessionsPage] at a time, so that the caller paces each page, and
// tells when the list is complete, or cannot be read whole. A [Gate], which
// a daemon shares between all its clients, bounds the requests in flight
// and the memory their bodies take.
//
// The package knows nothing of the rest of rtkwatchd (diff, config, the
// store): of its packages it imports only the two leaves that every HTTP
// client of rtkwatchd shares, retryafter and redact.
package rtkapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"

	"github.com/rtkwatchd/rtkwatchd/internal/redact"
)

// DefaultBaseURL is the Cloudflare v4 API, where RealtimeKit lives.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4/"

// defaultTimeout bounds a request when Options.Timeout is 0.
const defaultTimeout = 10 * time.Second

// Options configures a [Client].
type Options struct {
	// BaseURL is the API's base URL; empty means [DefaultBaseURL].
	BaseURL string
	// AccountID is the Cloudflare account that owns the apps.
	AccountID string
	// Token is the API token sent as a bearer token. It never appears in
	// an error.
	Token string
	// Timeout bounds each request; 0 means 10s.
	Timeout time.Duration
	// HTTPClient carries the requests; nil means a dedicated client that
	// keeps as many idle connections to the API as the gate lets requests
	// through, so that in steady state every request reuses one. The
	// client uses a copy whose transport caps every response body at
	// [MaxResponseBytes]; HTTPClient itself is not modified.
	HTTPClient *http.Client
	// Gate bounds the requests in flight and the memory of their bodies,
	// shared with every other client given the same gate; nil means a gate
	// of this client's own, of [DefaultMaxInFlight].
	Gate *Gate
	// UserAgent replaces the SDK's User-Agent when not empty.
	UserAgent string
	// Now is the clock that an HTTP date in a Retry-After is measured
	// from; nil means time.Now.
	Now func() time.Time
}

// Client reads the RealtimeKit API of one account with one token. A
// Client is safe for concurrent use.
type Client struct {
	active      *realtime_kit.ActiveSessionService
	sessions    *realtime_kit.SessionService
	meetings    *realtime_kit.MeetingService
	recordings  *realtime_kit.RecordingService
	livestreams *realtime_kit.LivestreamService
	analytics   *realtime_kit.AnalyticsService
	accountID   string // path-escaped
	timeout     time.Duration
	now         func() time.Time
	setupErr    string // a configuration problem every request reports
	token       string // kept only to scrub it from messages
	// baseForms are the base URL as configured and as net/url prints it,
	// which a message never quotes; endpoint, its scheme and host, stands
	// in for them.
	baseForms []string
	endpoint  string
	hc        *http.Client // carries every request; body-capped
	gate      *Gate
	prepared  prepared // active-session requests, built once each
	deadlines *deadlines
}

// New returns a client for one account and token.
func New(o Options) *Client {
	c := &Client{
		accountID: url.PathEscape(o.AccountID),
		token:     o.Token,
		timeout:   o.Timeout,
		now:       o.Now,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	c.deadlines = newDeadlines(c.timeout)
	if c.now == nil {
		c.now = time.Now
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.setupErr = "invalid API base URL"
	} else {
		// A base URL may carry a proxy's credentials in its user
		// information or path: a message that quotes it shows its scheme
		// and host only.
		c.endpoint = redact.URL(base)
		c.baseForms = []string{strings.TrimSuffix(base, "/"), strings.TrimSuffix(u.Redacted(), "/")}
	}
	if o.AccountID == "" {
		c.setupErr = "no account ID configured"
	}
	c.gate = o.Gate
	if c.gate == nil {
		c.gate = NewGate(DefaultMaxInFlight)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = newHTTPClient(c.gate.MaxInFlight())
	}
	c.hc = limitedClient(hc, MaxResponseBytes)
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithAPIToken(o.Token),
		option.WithMaxRetries(0),
		option.WithHTTPClient(c.hc),
	}
	if o.UserAgent != "" {
		opts = append(opts, option.WithHeader("User-Agent", o.UserAgent))
	}
	c.active = realtime_kit.NewActiveSessionService(opts...)
	c.sessions = realtime_kit.NewSessionService(opts...)
	c.meetings = realtime_kit.NewMeetingService(opts...)
	c.recordings = realtime_kit.NewRecordingService(opts...)
	c.livestreams = realtime_kit.NewLivestreamService(opts...)
	c.analytics = realtime_kit.NewAnalyticsService(opts...)
	return c
}

// CloseIdleConnections closes the connections to the API that are kept
// open for reuse and carry no request now. A client that is being replaced
// calls it once its requests have ended, so that its connections do not
// wait out their idle timeout.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// newHTTPClient returns a client tuned for many small requests to one
// host, at most maxInFlight at once: it keeps that many connections open
// between requests. Deadlines come from each request's context.
func newHTTPClient(maxInFlight int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxInFlight,
		MaxIdleConnsPerHost:   maxInFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// ActiveSession fetches a meeting's active session. The session may be
// LIVE or ENDED. A meeting without one is [ErrNoActiveSession]: the 404
// that carries RealtimeKit's own "error" object, where a 404 of the
// Cloudflare gateway (an unknown route) is an [*Error] of [KindNotFound].
// Every other failure is an [*Error].
//
// When ctx itself ends, the error is of [KindTimeout]; callers that are
// shutting down should check ctx.Err and discard it.
func (c *Client) ActiveSession(ctx context.Context, appID, meetingID string) (*Session, error) {
	if appID == "" || meetingID == "" {
		return nil, &Error{Kind: KindClient, Message: "empty app or meeting ID"}
	}
	if c.setupErr != "" {
		return nil, &Error{Kind: KindClient, Message: c.setupErr}
	}
	var p realtime_kit.ActiveSessionGetActiveSessionParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	appID, meetingID = url.PathEscape(appID), url.PathEscape(meetingID)
	req, err := c.prepared.get(preparedKey{appID, meetingID}, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.active.GetActiveSession(ctx, appID, meetingID, p, opts...)
		return err
	})
	if err != nil {
		return nil, c.buildError(err)
	}
	r := c.callOwning404(ctx, c.resend(req))
	defer r.release()
	switch {
	case r.rtk404:
		return nil, ErrNoActiveSession
	case r.err != nil:
		return nil, r.err
	}
	s, e := decodeActiveSession(r.status, r.body)
	if e != nil {
		return nil, e
	}
	return s, nil
}

// reply is the outcome of one request.
type reply struct {
	status int    // the status of a 2xx response
	body   []byte // the body of a 2xx response
	err    *Error // nil on a 2xx response
	// rtk404 is set on a 404 that carries RealtimeKit's own "error"
	// object rather than the gateway's "errors" array; err is set too
	// (without the API's message, for callOwning404).
	rtk404 bool
	// release gives body's memory back to the gate; the caller calls it
	// once it has decoded body. Never nil.
	release func()
}

// noRelease is the release of a reply that holds nothing.
func noRelease() {}

// call sends one request under its own deadline, once the gate has a slot
// for it; waiting for the slot does not count against the deadline. The
// SDK is asked for the *http.Response, body unread (see viaSDK), so that
// every outcome can be told apart (the SDK reports a non-JSON error page
// as a JSON syntax error, and a body it cannot parse and a body it could
// not read alike) and so that the gate bounds the memory of the body. An
// error response's body is read whole, through the transport's cap, as
// the SDK reads it.
func (c *Client) call(ctx context.Context, send sendFunc) reply {
	return c.callWith(ctx, send, false)
}

// callOwning404 is call for a caller that answers RealtimeKit's own 404
// with an error of its own (ErrNoActiveSession, ErrUnknownMeeting): the
// reply's err is then a bare 404 whose message is not built, as half the
// polls of an app get such an answer.
func (c *Client) callOwning404(ctx context.Context, send sendFunc) reply {
	return c.callWith(ctx, send, true)
}

// callWith is call; owns404 as callOwning404 says.
func (c *Client) callWith(ctx context.Context, send sendFunc, owns404 bool) reply {
	if c.setupErr != "" {
		return reply{err: &Error{Kind: KindClient, Message: c.setupErr}, release: noRelease}
	}
	if err := c.gate.enter(ctx); err != nil {
		return reply{err: c.transportError(err), release: noRelease}
	}
	defer c.gate.leave()
	ctx, cancel := c.deadlines.bound(ctx)
	defer cancel()
	r := c.roundTrip(ctx, send, owns404)
	if r.release == nil {
		r.release = noRelease
	}
	return r
}

// roundTrip sends one request and reads its answer.
func (c *Client) roundTrip(ctx context.Context, send sendFunc, owns404 bool) reply {
	res, err := send(ctx)
	switch {
	case errors.Is(err, errResponseTooLarge):
		// An error body is read whole, and the transport refuses one
		// over the limit.
		return reply{err: tooLargeError(res)}
	case err != nil:
		return reply{err: c.transportError(err)}
	case res != nil && res.StatusCode >= 400:
		e, rtk404 := c.statusError(res, readErrorBody(res), owns404)
		return reply{err: e, rtk404: rtk404}
	}
	if res == nil || res.StatusCode < 200 || res.StatusCode > 299 {
		status := 0
		if res != nil {
			status = res.StatusCode
			drain(res.Body)
		}
		return reply{err: &Error{Kind: KindClient, StatusCode: status,
			Message: "unexpected response " + statusLine(status)}}
	}
	body, release, err := c.gate.readBody(ctx, res.Body, res.ContentLength)
	_ = res.Body.Close()
	switch {
	case errors.Is(err, errResponseTooLarge):
		return reply{err: tooLargeError(res)}
	case err != nil:
		return reply{err: c.transportError(err)}
	}
	return reply{status: res.StatusCode, body: body, release: release}
}

// drain reads what is left of a body that is not used, so that its
// connection can be reused, and closes it. The transport caps what it
// reads.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, body)
	_ = body.Close()
}
