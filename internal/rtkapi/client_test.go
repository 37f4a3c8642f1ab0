package rtkapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

const (
	testToken   = "tok-S3CRET-9f8e7d6c5b4a"
	testAccount = "acc0123456789abcdef0123456789abcd"
	testApp     = "app-1"
)

// steppingClock returns a clock that advances one second per call, so
// that sessions started one after another have distinct started_at.
func steppingClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Second) }
}

func newFake(t *testing.T, opts rtkfake.Options) *rtkfake.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.AccountID == "" {
		opts.AccountID = testAccount
	}
	if opts.Now == nil {
		opts.Now = steppingClock()
	}
	srv := rtkfake.New(opts)
	t.Cleanup(srv.Close)
	return srv
}

// answerTimeout is the test client's timeout for requests that get an
// answer: generous, so that a busy machine never turns an answer into a
// timeout. A case whose receiver hangs sets hangTimeout instead.
const answerTimeout = 10 * time.Second

// hangTimeout is the timeout of a case whose receiver never answers, but
// holds the request until its context ends: it is all that case waits.
const hangTimeout = 200 * time.Millisecond

func newTestClient(t *testing.T, baseURL string, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		BaseURL:   baseURL,
		AccountID: testAccount,
		Token:     testToken,
		Timeout:   answerTimeout,
		UserAgent: "rtkwatchd/test",
		Now:       func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	if mod != nil {
		mod(&o)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newHTTPClient(DefaultMaxInFlight)
		t.Cleanup(o.HTTPClient.CloseIdleConnections)
	}
	return New(o)
}

// wantSession converts the fake's view of a session to the one the client
// must return.
func wantSession(t *testing.T, s rtkfake.Session) *Session {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var d Session
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// asError returns err as an *Error, failing the test when it is not one.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	return e
}

// checkMessage asserts an error message is short, useful and secret-free.
func checkMessage(t *testing.T, f *Error) {
	t.Helper()
	if f == nil {
		return
	}
	switch {
	case f.Message == "":
		t.Errorf("error %s has an empty message", f.Kind)
	case strings.Contains(f.Message, testToken):
		t.Errorf("error message %q contains the token", f.Message)
	case strings.Contains(f.Message, "http://"), strings.Contains(f.Message, "127.0.0.1"):
		t.Errorf("error message %q quotes the request URL", f.Message)
	case len(f.Message) > 260:
		t.Errorf("error message is %d bytes long: %q", len(f.Message), f.Message)
	}
}

func TestActiveSessionOutcomes(t *testing.T) {
	const meeting = "m-1"
	breakout := json.RawMessage(`[{"id":"room-a","live_participants":2}]`)
	meta := json.RawMessage(`{"region":"eu"}`)
	tests := []struct {
		name      string
		opts      rtkfake.Options
		setup     func(srv *rtkfake.Server) // script the fake
		client    func(*Options)
		session   bool   // a session, compared with the fake's
		noSession bool   // ErrNoActiveSession
		failure   *Error // compared without Message
		inMsg     string // a substring the message must hold
		closed    bool   // poll after the server has closed
	}{
		{
			name: "live session",
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{
					LiveParticipants: 7, MinutesConsumed: 12.5, MeetingDisplayName: "Standup",
					BreakoutRooms: breakout, Meta: meta,
				})
				srv.UpdateSession(testApp, meeting, func(s *rtkfake.Session) { s.LiveParticipants = 3 })
			},
			session: true,
		},
		{
			name: "ended status on the active-session route",
			opts: rtkfake.Options{ServeEndedStatus: true},
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.EndSession(testApp, meeting)
			},
			session: true,
		},
		{
			name:      "no session yet",
			setup:     func(*rtkfake.Server) {},
			noSession: true,
		},
		{
			name: "session ended",
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.EndSession(testApp, meeting)
			},
			noSession: true,
		},
		{
			name:    "wrong token",
			setup:   func(*rtkfake.Server) {},
			client:  func(o *Options) { o.Token = "tok-wrong-" + testToken },
			failure: &Error{Kind: KindAuth, StatusCode: 401},
			inMsg:   "401 Unauthorized: Authentication error (code 10000)",
		},
		{
			name:    "wrong account",
			setup:   func(*rtkfake.Server) {},
			client:  func(o *Options) { o.AccountID = "acc-other" },
			failure: &Error{Kind: KindAuth, StatusCode: 403},
			inMsg:   "403 Forbidden",
		},
		{
			name:    "401 fault",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Unauthorized}),
			failure: &Error{Kind: KindAuth, StatusCode: 401},
		},
		{
			name:    "403 fault",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Forbidden}),
			failure: &Error{Kind: KindAuth, StatusCode: 403},
		},
		{
			name:    "429 with Retry-After",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 7}),
			failure: &Error{Kind: KindRateLimited, StatusCode: 429, RetryAfter: 7 * time.Second},
			inMsg:   "429 Too Many Requests",
		},
		{
			name:    "500 JSON",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.ServerError}),
			failure: &Error{Kind: KindServer, StatusCode: 500},
			inMsg:   "500 Internal Server Error: Internal Server Error",
		},
		{
			name:    "502 HTML",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.BadGatewayHTML}),
			failure: &Error{Kind: KindServer, StatusCode: 502},
			inMsg:   "502 Bad Gateway",
		},
		{
			name: "truncated JSON",
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.SetFault(testApp, meeting, rtkfake.Fault{Kind: rtkfake.TruncatedJSON})
			},
			failure: &Error{Kind: KindDecode, StatusCode: 200},
			inMsg:   "unexpected end of JSON input",
		},
		{
			name:    "garbage",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Garbage}),
			failure: &Error{Kind: KindDecode, StatusCode: 200},
			inMsg:   "invalid JSON",
		},
		{
			name:    "hang",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Hang}),
			client:  func(o *Options) { o.Timeout = hangTimeout },
			failure: &Error{Kind: KindTimeout},
			inMsg:   "200ms",
		},
		{
			name:    "unrouted 404",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.UnroutedNotFound}),
			failure: &Error{Kind: KindNotFound, StatusCode: 404},
			inMsg:   "Could not route",
		},
		{
			name:    "connection refused",
			setup:   func(*rtkfake.Server) {},
			closed:  true,
			failure: &Error{Kind: KindNetwork},
			inMsg:   "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, tt.opts)
			tt.setup(srv)
			rec := &recorder{rt: srv.Client().Transport}
			c := newTestClient(t, srv.URL(), func(o *Options) {
				o.HTTPClient = &http.Client{Transport: rec}
				if tt.client != nil {
					tt.client(o)
				}
			})
			if tt.closed {
				srv.Close()
			}
			got, err := c.ActiveSession(t.Context(), testApp, meeting)
			// One attempt, whatever the outcome: a retry would make a
			// failing poll wait out its backoff.
			if n := rec.count(); n != 1 {
				t.Errorf("%d attempts; want 1, no retry", n)
			}

			switch {
			case tt.session:
				if err != nil {
					t.Fatalf("error %v, want the session", err)
				}
				var want *Session
				if live, ok := srv.LiveSession(testApp, meeting); ok {
					want = wantSession(t, live)
				} else {
					ended := srv.EndedSessions(testApp, meeting)
					want = wantSession(t, ended[len(ended)-1])
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("session mismatch (-want +got):\n%s", diff)
				}
				return
			case got != nil:
				t.Errorf("unexpected session %+v", got)
			}
			if tt.noSession {
				if err != ErrNoActiveSession {
					t.Fatalf("error %v, want ErrNoActiveSession itself", err)
				}
				return
			}
			e := asError(t, err)
			checkMessage(t, e)
			if errors.Is(err, ErrNoActiveSession) {
				t.Errorf("failure %+v is ErrNoActiveSession", e)
			}
			gotErr := *e
			gotErr.Message = ""
			if diff := cmp.Diff(*tt.failure, gotErr); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(e.Message, tt.inMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.inMsg)
			}
		})
	}
}

func fault(meeting string, f rtkfake.Fault) func(*rtkfake.Server) {
	return func(srv *rtkfake.Server) { srv.SetFault(testApp, meeting, f) }
}

func TestActiveSessionSendsCredentials(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 1})
	c := newTestClient(t, srv.URL(), nil)
	for range 3 {
		if _, err := c.ActiveSession(t.Context(), testApp, "m-1"); err != nil {
			t.Fatalf("error %v, want the session", err)
		}
	}
	// No SDK retries: one request per poll.
	if got := srv.ActiveSessionRequests(testApp, "m-1"); got != 3 {
		t.Errorf("fake saw %d requests, want 3", got)
	}
	srv.SetFault(testApp, "m-1", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
	if _, err := c.ActiveSession(t.Context(), testApp, "m-1"); asError(t, err).Kind != KindServer {
		t.Fatalf("error %v, want a server failure", err)
	}
	if got := srv.ActiveSessionRequests(testApp, "m-1"); got != 4 {
		t.Errorf("a 500 was retried: fake saw %d requests, want 4", got)
	}
}

func TestActiveSessionCallerCancels(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.Hang})
	c := newTestClient(t, srv.URL(), func(o *Options) { o.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.ActiveSession(ctx, testApp, "m-1"); asError(t, err).Kind != KindTimeout {
		t.Fatalf("error %v, want a timeout", err)
	}
}

// TestActiveSessionOddResponses covers answers the fake never gives.
func TestActiveSessionOddResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    Error
	}{
		{
			name: "body cut short",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "500")
				_, _ = w.Write([]byte(`{"success":true,`))
			},
			want: Error{Kind: KindNetwork, Message: "connection closed before the response was complete"},
		},
		{
			name:    "no content",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			want:    Error{Kind: KindDecode, StatusCode: 204, Message: "204 No Content with an unexpected body: empty body"},
		},
		{
			name:    "redirect without a location",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMultipleChoices) },
			want:    Error{Kind: KindClient, StatusCode: 300, Message: "unexpected response 300 Multiple Choices"},
		},
		{
			name: "success false",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"success":false,"errors":[]}`))
			},
			want: Error{Kind: KindDecode, StatusCode: 200, Message: "200 OK with an unexpected body: success is not true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL+"/client/v4/", nil)
			_, err := c.ActiveSession(t.Context(), testApp, "m-1")
			if diff := cmp.Diff(tt.want, *asError(t, err)); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
