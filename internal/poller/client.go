package poller

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// Client defaults.
const (
	// DefaultBaseURL is the Cloudflare v4 API.
	DefaultBaseURL        = "https://api.cloudflare.com/client/v4/"
	defaultClientTimeout  = 10 * time.Second
	defaultLivePerPage    = 100
	maxLivePages          = 1000 // guards against a server that ignores page_no
	endedSessionsPageSize = 20
)

// ClientOptions configures a [Client].
type ClientOptions struct {
	// BaseURL is the API's base URL; empty means [DefaultBaseURL].
	BaseURL string
	// AccountID is the Cloudflare account that owns the apps.
	AccountID string
	// Token is the API token sent as a bearer token. It never appears in
	// a Failure.
	Token string
	// Timeout bounds each request; 0 means 10s.
	Timeout time.Duration
	// HTTPClient carries the requests; nil means a dedicated client that
	// keeps up to 64 idle connections to the API. The client uses a copy
	// whose transport caps every response body at [MaxResponseBytes];
	// HTTPClient itself is not modified.
	HTTPClient *http.Client
	// UserAgent replaces the SDK's User-Agent when not empty.
	UserAgent string
	// Now is the clock for Observation.At; nil means time.Now.
	Now func() time.Time
}

// Client reads RealtimeKit sessions through the official SDK and turns
// every outcome, including every way a request can fail, into a value
// rtkwatchd can act on. The SDK's own retries are off: the poller decides
// when to try again. A Client is safe for concurrent use.
type Client struct {
	active    *realtime_kit.ActiveSessionService
	sessions  *realtime_kit.SessionService
	accountID string // path-escaped
	token     string // kept only to scrub it from messages
	timeout   time.Duration
	now       func() time.Time
	setupErr  string // a configuration problem every request reports
	hc        *http.Client
}

// NewClient returns a client for one account and token.
func NewClient(o ClientOptions) *Client {
	c := &Client{
		accountID: url.PathEscape(o.AccountID),
		token:     o.Token,
		timeout:   o.Timeout,
		now:       o.Now,
	}
	if c.timeout <= 0 {
		c.timeout = defaultClientTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.setupErr = "invalid API base URL"
	}
	if o.AccountID == "" {
		c.setupErr = "no account ID configured"
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = newHTTPClient()
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
	return c
}

// CloseIdleConnections closes the connections to the API that are kept
// open for reuse and carry no request now. A client that is being replaced
// calls it once its requests have ended, so that its connections do not
// wait out their idle timeout.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// newHTTPClient returns a client tuned for many small requests to one
// host. Deadlines come from each request's context.
func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// ActiveSession polls one meeting. The observation is ObservedSession when
// the API returns a session (LIVE or ENDED), ObservedNoSession on
// RealtimeKit's 404 "no active session" body, and ObservedFailure
// otherwise. At is the time the response (or the failure) arrived.
//
// When ctx itself ends, the observation is a FailureTimeout; callers that
// are shutting down should check ctx.Err and discard it.
func (c *Client) ActiveSession(ctx context.Context, appID, meetingID string) diff.Observation {
	r := c.activeSession(ctx, appID, meetingID)
	obs := diff.Observation{At: c.now()}
	switch {
	case r.rtk404:
		obs.Kind = diff.ObservedNoSession
	case r.failure != nil:
		obs.Kind, obs.Failure = diff.ObservedFailure, r.failure
	default:
		s, f := decodeActiveSession(r.status, r.body)
		if f != nil {
			obs.Kind, obs.Failure = diff.ObservedFailure, f
		} else {
			obs.Kind, obs.Session = diff.ObservedSession, s
		}
	}
	return obs
}

func (c *Client) activeSession(ctx context.Context, appID, meetingID string) apiReply {
	if appID == "" || meetingID == "" {
		return apiReply{failure: &diff.Failure{Kind: diff.FailureClient, Message: "empty app or meeting ID"}}
	}
	var p realtime_kit.ActiveSessionGetActiveSessionParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	appID, meetingID = url.PathEscape(appID), url.PathEscape(meetingID)
	return c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.active.GetActiveSession(ctx, appID, meetingID, p, opts...)
		return err
	})
}

// LiveSessions lists every LIVE session of an app, page by page (page_no
// from 1, perPage sessions a page; perPage <= 0 means 100) until a page
// holds fewer than perPage sessions. It returns the sessions in the API's
// order, without duplicates, and the number of requests made. When any
// page fails it returns no sessions and the failure.
func (c *Client) LiveSessions(ctx context.Context, appID string, perPage int) ([]diff.Session, int, *diff.Failure) {
	if appID == "" {
		return nil, 0, &diff.Failure{Kind: diff.FailureClient, Message: "empty app ID"}
	}
	if perPage <= 0 {
		perPage = defaultLivePerPage
	}
	var (
		out     []diff.Session
		seen    map[string]struct{}
		entries int
		problem string // the first entry that did not decode
	)
	for page := 1; ; page++ {
		if page > maxLivePages {
			return nil, page - 1, &diff.Failure{Kind: diff.FailureDecode, StatusCode: http.StatusOK,
				Message: "sessions list did not end after " + strconv.Itoa(maxLivePages) + " pages"}
		}
		var p realtime_kit.SessionGetSessionsParams
		p.Status.Value, p.Status.Present = realtime_kit.SessionGetSessionsParamsStatusLive, true
		p.PerPage.Value, p.PerPage.Present = float64(perPage), true
		p.PageNo.Value, p.PageNo.Present = float64(page), true
		pg, f := c.listSessions(ctx, appID, p)
		if f != nil {
			return nil, page, f
		}
		entries += pg.entries
		if problem == "" {
			problem = pg.problem
		}
		if page == 1 && pg.entries < perPage && pg.problem == "" {
			return pg.sessions, 1, nil // the common case: one page, nothing to merge
		}
		if seen == nil {
			seen = make(map[string]struct{}, 2*len(pg.sessions))
		}
		for _, s := range pg.sessions {
			// Sessions that end between two pages shift the later ones
			// back; one may then appear twice.
			if _, dup := seen[s.ID]; !dup {
				seen[s.ID] = struct{}{}
				out = append(out, s)
			}
		}
		if pg.entries < perPage {
			if len(out) == 0 && problem != "" {
				// Nothing in the whole list decodes: that is the list failing.
				return nil, page, decodeFailure(http.StatusOK, problem)
			}
			return out, page, nil
		}
	}
}

// EndedSession fetches the final numbers of an ended session from the
// meeting's ENDED sessions, newest first. It returns nil and no failure
// when the session is not listed yet.
func (c *Client) EndedSession(ctx context.Context, appID, meetingID, sessionID string) (*diff.Session, *diff.Failure) {
	if appID == "" || meetingID == "" {
		return nil, &diff.Failure{Kind: diff.FailureClient, Message: "empty app or meeting ID"}
	}
	var p realtime_kit.SessionGetSessionsParams
	p.AssociatedID.Value, p.AssociatedID.Present = meetingID, true
	p.Status.Value, p.Status.Present = realtime_kit.SessionGetSessionsParamsStatusEnded, true
	p.SortBy.Value, p.SortBy.Present = realtime_kit.SessionGetSessionsParamsSortByCreatedAt, true
	p.SortOrder.Value, p.SortOrder.Present = realtime_kit.SessionGetSessionsParamsSortOrderDesc, true
	p.PerPage.Value, p.PerPage.Present = endedSessionsPageSize, true
	p.PageNo.Value, p.PageNo.Present = 1, true
	pg, f := c.listSessions(ctx, appID, p)
	if f != nil {
		return nil, f
	}
	for i := range pg.sessions {
		if pg.sessions[i].ID == sessionID {
			return &pg.sessions[i], nil
		}
	}
	return nil, nil
}

// listSessions fetches and decodes one page of an app's sessions.
func (c *Client) listSessions(ctx context.Context, appID string, p realtime_kit.SessionGetSessionsParams) (sessionsPage, *diff.Failure) {
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	appID = url.PathEscape(appID)
	r := c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.sessions.GetSessions(ctx, appID, p, opts...)
		return err
	})
	if r.failure != nil {
		return sessionsPage{}, r.failure
	}
	return decodeSessions(r.status, r.body)
}

// apiReply is the outcome of one request.
type apiReply struct {
	status  int           // the status of a 2xx response
	body    []byte        // the body of a 2xx response
	failure *diff.Failure // nil on a 2xx response
	// rtk404 is set on a 404 that carries RealtimeKit's own "error"
	// object rather than the gateway's "errors" array; failure is set too.
	rtk404 bool
}

// call sends one request under its own deadline. The SDK is asked for the
// raw body and the *http.Response so that every outcome can be told apart:
// the SDK reports a non-JSON error page as a JSON syntax error, and a body
// it cannot parse and a body it could not read alike.
func (c *Client) call(ctx context.Context, send func(context.Context, ...option.RequestOption) error) apiReply {
	if c.setupErr != "" {
		return apiReply{failure: &diff.Failure{Kind: diff.FailureClient, Message: c.setupErr}}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var (
		body []byte
		res  *http.Response
	)
	err := send(ctx, option.WithResponseBodyInto(&body), option.WithResponseInto(&res))
	if err != nil {
		if errors.Is(err, errResponseTooLarge) {
			// The SDK reads every body whole, a 2xx or an error one.
			return apiReply{failure: tooLargeFailure(res)}
		}
		if res != nil && res.StatusCode >= 400 {
			// The SDK leaves the error body readable in res.Body.
			f, rtk404 := c.statusFailure(res, readErrorBody(res))
			return apiReply{failure: f, rtk404: rtk404}
		}
		return apiReply{failure: c.transportFailure(err)}
	}
	if res == nil || res.StatusCode < 200 || res.StatusCode > 299 {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return apiReply{failure: &diff.Failure{Kind: diff.FailureClient, StatusCode: status,
			Message: "unexpected response " + statusLine(status)}}
	}
	return apiReply{status: res.StatusCode, body: body}
}
