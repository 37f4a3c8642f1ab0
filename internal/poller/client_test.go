package poller

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
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

func newTestClient(t *testing.T, baseURL string, mod func(*ClientOptions)) *Client {
	t.Helper()
	o := ClientOptions{
		BaseURL:   baseURL,
		AccountID: testAccount,
		Token:     testToken,
		Timeout:   200 * time.Millisecond,
		UserAgent: "rtkwatchd/test",
		Now:       func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	if mod != nil {
		mod(&o)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newHTTPClient()
		t.Cleanup(o.HTTPClient.CloseIdleConnections)
	}
	return NewClient(o)
}

// wantSession converts the fake's view of a session to the one the client
// must return.
func wantSession(t *testing.T, s rtkfake.Session) *diff.Session {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var d diff.Session
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// checkMessage asserts a failure message is short, useful and secret-free.
func checkMessage(t *testing.T, f *diff.Failure) {
	t.Helper()
	if f == nil {
		return
	}
	switch {
	case f.Message == "":
		t.Errorf("failure %s has an empty message", f.Kind)
	case strings.Contains(f.Message, testToken):
		t.Errorf("failure message %q contains the token", f.Message)
	case strings.Contains(f.Message, "http://"), strings.Contains(f.Message, "127.0.0.1"):
		t.Errorf("failure message %q quotes the request URL", f.Message)
	case len(f.Message) > 260:
		t.Errorf("failure message is %d bytes long: %q", len(f.Message), f.Message)
	}
}

func TestActiveSessionOutcomes(t *testing.T) {
	const meeting = "m-1"
	breakout := json.RawMessage(`[{"id":"room-a","live_participants":2}]`)
	meta := json.RawMessage(`{"region":"eu"}`)
	tests := []struct {
		name    string
		opts    rtkfake.Options
		setup   func(srv *rtkfake.Server) // script the fake
		client  func(*ClientOptions)
		want    diff.ObservationKind
		session bool          // compare obs.Session with the fake's session
		failure *diff.Failure // compared without Message
		inMsg   string        // a substring the message must hold
		closed  bool          // poll after the server has closed
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
			want: diff.ObservedSession, session: true,
		},
		{
			name: "ended status on the active-session route",
			opts: rtkfake.Options{ServeEndedStatus: true},
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.EndSession(testApp, meeting)
			},
			want: diff.ObservedSession, session: true,
		},
		{
			name:  "no session yet",
			setup: func(*rtkfake.Server) {},
			want:  diff.ObservedNoSession,
		},
		{
			name: "session ended",
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.EndSession(testApp, meeting)
			},
			want: diff.ObservedNoSession,
		},
		{
			name:    "wrong token",
			setup:   func(*rtkfake.Server) {},
			client:  func(o *ClientOptions) { o.Token = "tok-wrong-" + testToken },
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureAuth, StatusCode: 401},
			inMsg:   "401 Unauthorized: Authentication error (code 10000)",
		},
		{
			name:    "wrong account",
			setup:   func(*rtkfake.Server) {},
			client:  func(o *ClientOptions) { o.AccountID = "acc-other" },
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureAuth, StatusCode: 403},
			inMsg:   "403 Forbidden",
		},
		{
			name:    "401 fault",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Unauthorized}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureAuth, StatusCode: 401},
		},
		{
			name:    "403 fault",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Forbidden}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureAuth, StatusCode: 403},
		},
		{
			name:    "429 with Retry-After",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 7}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureRateLimited, StatusCode: 429, RetryAfter: 7 * time.Second},
			inMsg:   "429 Too Many Requests",
		},
		{
			name:    "500 JSON",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.ServerError}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureServer, StatusCode: 500},
			inMsg:   "500 Internal Server Error: Internal Server Error",
		},
		{
			name:    "502 HTML",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.BadGatewayHTML}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureServer, StatusCode: 502},
			inMsg:   "502 Bad Gateway",
		},
		{
			name: "truncated JSON",
			setup: func(srv *rtkfake.Server) {
				srv.StartSession(testApp, meeting, rtkfake.Session{LiveParticipants: 2})
				srv.SetFault(testApp, meeting, rtkfake.Fault{Kind: rtkfake.TruncatedJSON})
			},
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureDecode, StatusCode: 200},
			inMsg:   "unexpected end of JSON input",
		},
		{
			name:    "garbage",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Garbage}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureDecode, StatusCode: 200},
			inMsg:   "invalid JSON",
		},
		{
			name:    "hang",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.Hang}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureTimeout},
			inMsg:   "200ms",
		},
		{
			name:    "unrouted 404",
			setup:   fault(meeting, rtkfake.Fault{Kind: rtkfake.UnroutedNotFound}),
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureNotFound, StatusCode: 404},
			inMsg:   "Could not route",
		},
		{
			name:    "connection refused",
			setup:   func(*rtkfake.Server) {},
			closed:  true,
			want:    diff.ObservedFailure,
			failure: &diff.Failure{Kind: diff.FailureNetwork},
			inMsg:   "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, tt.opts)
			tt.setup(srv)
			c := newTestClient(t, srv.URL(), tt.client)
			if tt.closed {
				srv.Close()
			}
			start := time.Now()
			obs := c.ActiveSession(t.Context(), testApp, meeting)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("poll took %v", d)
			}

			if obs.Kind != tt.want {
				t.Fatalf("kind = %v, want %v (failure %+v)", obs.Kind, tt.want, obs.Failure)
			}
			if want := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC); !obs.At.Equal(want) {
				t.Errorf("At = %v, want %v", obs.At, want)
			}
			if tt.session {
				var want *diff.Session
				if live, ok := srv.LiveSession(testApp, meeting); ok {
					want = wantSession(t, live)
				} else {
					ended := srv.EndedSessions(testApp, meeting)
					want = wantSession(t, ended[len(ended)-1])
				}
				if diff := cmp.Diff(want, obs.Session); diff != "" {
					t.Errorf("session mismatch (-want +got):\n%s", diff)
				}
			} else if obs.Session != nil {
				t.Errorf("unexpected session %+v", obs.Session)
			}
			checkMessage(t, obs.Failure)
			if tt.failure != nil {
				got := *obs.Failure
				got.Message = ""
				if diff := cmp.Diff(*tt.failure, got); diff != "" {
					t.Errorf("failure mismatch (-want +got):\n%s", diff)
				}
				if !strings.Contains(obs.Failure.Message, tt.inMsg) {
					t.Errorf("message %q does not contain %q", obs.Failure.Message, tt.inMsg)
				}
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
		if obs := c.ActiveSession(t.Context(), testApp, "m-1"); obs.Kind != diff.ObservedSession {
			t.Fatalf("kind = %v, failure %+v", obs.Kind, obs.Failure)
		}
	}
	// No SDK retries: one request per poll.
	if got := srv.ActiveSessionRequests(testApp, "m-1"); got != 3 {
		t.Errorf("fake saw %d requests, want 3", got)
	}
	srv.SetFault(testApp, "m-1", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1})
	if obs := c.ActiveSession(t.Context(), testApp, "m-1"); obs.Kind != diff.ObservedFailure {
		t.Fatalf("kind = %v, want a failure", obs.Kind)
	}
	if got := srv.ActiveSessionRequests(testApp, "m-1"); got != 4 {
		t.Errorf("a 500 was retried: fake saw %d requests, want 4", got)
	}
}

func TestActiveSessionCallerCancels(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.Hang})
	c := newTestClient(t, srv.URL(), func(o *ClientOptions) { o.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	obs := c.ActiveSession(ctx, testApp, "m-1")
	if obs.Kind != diff.ObservedFailure || obs.Failure.Kind != diff.FailureTimeout {
		t.Fatalf("got %v %+v, want a timeout failure", obs.Kind, obs.Failure)
	}
}

// TestActiveSessionOddResponses covers answers the fake never gives.
func TestActiveSessionOddResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    diff.Failure
	}{
		{
			name: "body cut short",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "500")
				_, _ = w.Write([]byte(`{"success":true,`))
			},
			want: diff.Failure{Kind: diff.FailureNetwork, Message: "connection closed before the response was complete"},
		},
		{
			name:    "no content",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			want:    diff.Failure{Kind: diff.FailureDecode, StatusCode: 204, Message: "204 No Content with an unexpected body: empty body"},
		},
		{
			name:    "redirect without a location",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMultipleChoices) },
			want:    diff.Failure{Kind: diff.FailureClient, StatusCode: 300, Message: "unexpected response 300 Multiple Choices"},
		},
		{
			name: "success false",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"success":false,"errors":[]}`))
			},
			want: diff.Failure{Kind: diff.FailureDecode, StatusCode: 200, Message: "200 OK with an unexpected body: success is not true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL+"/client/v4/", nil)
			obs := c.ActiveSession(t.Context(), testApp, "m-1")
			if obs.Kind != diff.ObservedFailure {
				t.Fatalf("kind = %v, want a failure", obs.Kind)
			}
			if diff := cmp.Diff(tt.want, *obs.Failure); diff != "" {
				t.Errorf("failure mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
