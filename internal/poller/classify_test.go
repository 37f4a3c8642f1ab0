package poller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", 0},
		{"-3", 0},
		{"NaN", 0},
		{"", 0},
		{"soon", 0},
		{"99999999", MaxRetryAfter},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestStatusFailure(t *testing.T) {
	c := NewClient(ClientOptions{AccountID: testAccount, Token: testToken, Now: func() time.Time { return time.Unix(0, 0) }})
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   diff.Failure
		rtk404 bool
	}{
		{
			name: "no active session", status: 404,
			body:   `{"success":false,"error":{"code":404,"message":"No active session found for meeting_id m-1"}}`,
			want:   diff.Failure{Kind: diff.FailureNotFound, StatusCode: 404, Message: "404 Not Found: No active session found for meeting_id m-1"},
			rtk404: true,
		},
		{
			name: "unrouted", status: 404,
			body: `{"success":false,"errors":[{"code":7003,"message":"Could not route to /x, perhaps your object identifier is invalid?"}],"messages":[],"result":null}`,
			want: diff.Failure{Kind: diff.FailureNotFound, StatusCode: 404, Message: "404 Not Found: Could not route to /x, perhaps your object identifier is invalid? (code 7003)"},
		},
		{
			name: "404 HTML", status: 404, body: `<html>Not Found</html>`,
			want: diff.Failure{Kind: diff.FailureNotFound, StatusCode: 404, Message: "404 Not Found"},
		},
		{
			name: "404 with a string error", status: 404, body: `{"success":false,"error":"not found"}`,
			want: diff.Failure{Kind: diff.FailureNotFound, StatusCode: 404, Message: "404 Not Found"},
		},
		{
			name: "400 from RealtimeKit", status: 400, body: `{"success":false,"error":{"code":"BAD","message":"per_page too large"}}`,
			want: diff.Failure{Kind: diff.FailureClient, StatusCode: 400, Message: "400 Bad Request: per_page too large (code BAD)"},
		},
		{
			name: "409 without body", status: 409,
			want: diff.Failure{Kind: diff.FailureClient, StatusCode: 409, Message: "409 Conflict"},
		},
		{
			name: "503 HTML", status: 503, body: `<html><body>down</body></html>`,
			want: diff.Failure{Kind: diff.FailureServer, StatusCode: 503, Message: "503 Service Unavailable"},
		},
		{
			name: "599", status: 599,
			want: diff.Failure{Kind: diff.FailureServer, StatusCode: 599, Message: "HTTP 599"},
		},
		{
			name: "429 with a date", status: 429,
			header: http.Header{"Retry-After": {time.Unix(90, 0).UTC().Format(http.TimeFormat)}},
			want:   diff.Failure{Kind: diff.FailureRateLimited, StatusCode: 429, Message: "429 Too Many Requests", RetryAfter: 90 * time.Second},
		},
		{
			name: "token echoed", status: 401,
			body: `{"success":false,"errors":[{"code":9109,"message":"Invalid access token ` + testToken + `"}]}`,
			want: diff.Failure{Kind: diff.FailureAuth, StatusCode: 401, Message: "401 Unauthorized: Invalid access token [redacted] (code 9109)"},
		},
		{
			name: "control characters", status: 403,
			body: `{"success":false,"errors":[{"code":10000,"message":"Authentication\r\n\terror\u0000"}]}`,
			want: diff.Failure{Kind: diff.FailureAuth, StatusCode: 403, Message: "403 Forbidden: Authentication error (code 10000)"},
		},
		{
			name: "long message", status: 500,
			body: `{"success":false,"error":{"code":500,"message":"` + long + `"}}`,
			want: diff.Failure{Kind: diff.FailureServer, StatusCode: 500, Message: "500 Internal Server Error: " + long[:200] + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &http.Response{StatusCode: tt.status, Header: tt.header}
			if res.Header == nil {
				res.Header = http.Header{}
			}
			got, rtk404 := c.statusFailure(res, []byte(tt.body))
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("failure mismatch (-want +got):\n%s", diff)
			}
			if rtk404 != tt.rtk404 {
				t.Errorf("rtk404 = %v, want %v", rtk404, tt.rtk404)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestTransportFailure(t *testing.T) {
	c := NewClient(ClientOptions{AccountID: testAccount, Token: testToken, Timeout: 3 * time.Second})
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://api.example/client/v4/accounts/x?token=" + testToken, Err: err}
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	tests := []struct {
		name string
		err  error
		want diff.Failure
	}{
		{"deadline", wrap(context.DeadlineExceeded), diff.Failure{Kind: diff.FailureTimeout, Message: "no response within 3s"}},
		{"bare deadline", context.DeadlineExceeded, diff.Failure{Kind: diff.FailureTimeout, Message: "no response within 3s"}},
		{"canceled", wrap(context.Canceled), diff.Failure{Kind: diff.FailureTimeout, Message: "request canceled"}},
		{"net timeout", wrap(timeoutError{}), diff.Failure{Kind: diff.FailureTimeout, Message: "no response within 3s"}},
		{"dns", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}),
			diff.Failure{Kind: diff.FailureNetwork, Message: "DNS lookup failed: no such host"}},
		{"dns timeout", wrap(&net.DNSError{Err: "timeout", Name: "api.example", IsTimeout: true}),
			diff.Failure{Kind: diff.FailureNetwork, Message: "DNS lookup failed: timeout"}},
		{"refused", wrap(opErr(syscall.ECONNREFUSED)), diff.Failure{Kind: diff.FailureNetwork, Message: "connection refused"}},
		{"reset", wrap(opErr(syscall.ECONNRESET)), diff.Failure{Kind: diff.FailureNetwork, Message: "connection reset by peer"}},
		{"cut body", fmt.Errorf("error reading response body: %w", io.ErrUnexpectedEOF),
			diff.Failure{Kind: diff.FailureNetwork, Message: "connection closed before the response was complete"}},
		{"eof", wrap(io.EOF), diff.Failure{Kind: diff.FailureNetwork, Message: "connection closed before the response was complete"}},
		{"tls", wrap(errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")),
			diff.Failure{Kind: diff.FailureNetwork, Message: "network error: tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.transportFailure(tt.err)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("failure mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientMisconfigured(t *testing.T) {
	tests := []struct {
		name string
		opts ClientOptions
		want string
	}{
		{"no account", ClientOptions{BaseURL: "http://127.0.0.1:1/client/v4/", Token: testToken}, "no account ID configured"},
		{"bad base URL", ClientOptions{BaseURL: "127.0.0.1/client/v4", AccountID: testAccount, Token: testToken}, "invalid API base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(tt.opts)
			obs := c.ActiveSession(t.Context(), testApp, "m-1")
			_, _, lf := c.LiveSessions(t.Context(), testApp, 10)
			_, ef := c.EndedSession(t.Context(), testApp, "m-1", "s-1")
			for _, f := range []*diff.Failure{obs.Failure, lf, ef} {
				if f == nil || f.Kind != diff.FailureClient || f.Message != tt.want {
					t.Errorf("failure = %+v, want a client failure %q", f, tt.want)
				}
			}
		})
	}
}
