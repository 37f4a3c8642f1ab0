package rtkapi

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
)

func TestStatusError(t *testing.T) {
	c := New(Options{AccountID: testAccount, Token: testToken, Now: func() time.Time { return time.Unix(0, 0) }})
	long := strings.Repeat("word ", 100)
	// RealtimeKit's 404 of exactly maxErrorBody bytes, read whole; the
	// same followed by anything is cut short at maxErrorBody + 1 bytes.
	const head, tail = `{"success":false,"error":{"code":404,"message":"`, `"}}`
	fill := strings.Repeat("x", maxErrorBody-len(head)-len(tail))
	largest := head + fill + tail
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   Error
		rtk404 bool
	}{
		{
			name: "no active session", status: 404,
			body:   `{"success":false,"error":{"code":404,"message":"No active session found for meeting_id m-1"}}`,
			want:   Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found: No active session found for meeting_id m-1"},
			rtk404: true,
		},
		{
			name: "RealtimeKit's 404 of maxErrorBody bytes", status: 404, body: largest,
			want:   Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found: " + fill[:200] + "…"},
			rtk404: true,
		},
		{
			// Its start parses, the whole may not: never RealtimeKit's 404.
			name: "RealtimeKit's 404 followed by more", status: 404, body: largest + "x",
			want: Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found: " + fill[:200] + "…"},
		},
		{
			name: "unrouted", status: 404,
			body: `{"success":false,"errors":[{"code":7003,"message":"Could not route to /x, perhaps your object identifier is invalid?"}],"messages":[],"result":null}`,
			want: Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found: Could not route to /x, perhaps your object identifier is invalid? (code 7003)"},
		},
		{
			name: "404 HTML", status: 404, body: `<html>Not Found</html>`,
			want: Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found"},
		},
		{
			name: "404 with a string error", status: 404, body: `{"success":false,"error":"not found"}`,
			want: Error{Kind: KindNotFound, StatusCode: 404, Message: "404 Not Found"},
		},
		{
			name: "400 from RealtimeKit", status: 400, body: `{"success":false,"error":{"code":"BAD","message":"per_page too large"}}`,
			want: Error{Kind: KindClient, StatusCode: 400, Message: "400 Bad Request: per_page too large (code BAD)"},
		},
		{
			name: "409 without body", status: 409,
			want: Error{Kind: KindClient, StatusCode: 409, Message: "409 Conflict"},
		},
		{
			name: "503 HTML", status: 503, body: `<html><body>down</body></html>`,
			want: Error{Kind: KindServer, StatusCode: 503, Message: "503 Service Unavailable"},
		},
		{
			name: "599", status: 599,
			want: Error{Kind: KindServer, StatusCode: 599, Message: "HTTP 599"},
		},
		{
			name: "429 with a date", status: 429,
			header: http.Header{"Retry-After": {time.Unix(90, 0).UTC().Format(http.TimeFormat)}},
			want:   Error{Kind: KindRateLimited, StatusCode: 429, Message: "429 Too Many Requests", RetryAfter: 90 * time.Second},
		},
		{
			name: "429 with fractional seconds", status: 429,
			header: http.Header{"Retry-After": {"1.5"}},
			want:   Error{Kind: KindRateLimited, StatusCode: 429, Message: "429 Too Many Requests", RetryAfter: 1500 * time.Millisecond},
		},
		{
			// How long a pause to accept is the caller's choice.
			name: "429 asking for a day", status: 429,
			header: http.Header{"Retry-After": {"86400"}},
			want:   Error{Kind: KindRateLimited, StatusCode: 429, Message: "429 Too Many Requests", RetryAfter: 24 * time.Hour},
		},
		{
			name: "429 with garbage", status: 429,
			header: http.Header{"Retry-After": {"soon"}},
			want:   Error{Kind: KindRateLimited, StatusCode: 429, Message: "429 Too Many Requests"},
		},
		{
			name: "token echoed", status: 401,
			body: `{"success":false,"errors":[{"code":9109,"message":"Invalid access token ` + testToken + `"}]}`,
			want: Error{Kind: KindAuth, StatusCode: 401, Message: "401 Unauthorized: Invalid access token [redacted] (code 9109)"},
		},
		{
			name: "control characters", status: 403,
			body: `{"success":false,"errors":[{"code":10000,"message":"Authentication\r\n\terror\u0000"}]}`,
			want: Error{Kind: KindAuth, StatusCode: 403, Message: "403 Forbidden: Authentication error (code 10000)"},
		},
		{
			name: "long message", status: 500,
			body: `{"success":false,"error":{"code":500,"message":"` + long + `"}}`,
			want: Error{Kind: KindServer, StatusCode: 500, Message: "500 Internal Server Error: " + long[:200] + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &http.Response{StatusCode: tt.status, Header: tt.header}
			if res.Header == nil {
				res.Header = http.Header{}
			}
			got, rtk404 := c.statusError(res, []byte(tt.body), false)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if rtk404 != tt.rtk404 {
				t.Errorf("rtk404 = %v, want %v", rtk404, tt.rtk404)
			}
			// A caller that answers RealtimeKit's 404 itself gets the same
			// classification, and a bare message for that 404 only.
			owned, rtk404 := c.statusError(res, []byte(tt.body), true)
			want := tt.want
			if tt.rtk404 {
				want.Message = "404 Not Found"
			}
			if diff := cmp.Diff(want, *owned); diff != "" || rtk404 != tt.rtk404 {
				t.Errorf("owning the 404: rtk404 = %v, error mismatch (-want +got):\n%s", rtk404, diff)
			}
		})
	}
}

// TestPlainRTK404 holds the recognizer of RealtimeKit's usual 404 to the
// exact bytes it accepts: one byte off the documented form is decoded.
func TestPlainRTK404(t *testing.T) {
	const head = `{"success":false,"error":{"code":404,"message":"`
	tests := []struct {
		body string
		want bool
	}{
		{head + `No active session found for meeting_id m-1"}}`, true},
		{head + `No active session found for meeting_id m-1"}}` + "\n", true}, // json.Encoder's newline
		{head + `"}}`, true},                   // an empty message
		{head + "caf\xc3\xa9 \x7f\"}}", true},  // UTF-8 and DEL are plain string bytes
		{head + `No active session"}} `, true}, // trailing space
		{head + `say \"hi\""}}`, false},        // an escape: decoded
		{head + `a\nb"}}`, false},              // an escape sequence
		{head + "a\x1fb\"}}", false},           // a control character
		{head + `a"}`, false},                  // truncated
		{head + `a"}}}`, false},                // trailing garbage
		{head + `"}` + `}x`, false},            // trailing garbage after the object
		{head[:len(head)-1] + `}}`, false},     // no message string
		{` ` + head + `a"}}`, false},           // leading space: decoded
		{`{"success":false,"error":{"code":"404","message":"a"}}`, false},
		{`{"success":false,"error":{"message":"a","code":404}}`, false},
		{`{"success":true,"error":{"code":404,"message":"a"}}`, false},
		{``, false},
		{`"}}`, false},
	}
	for _, tt := range tests {
		if got := plainRTK404([]byte(tt.body)); got != tt.want {
			t.Errorf("plainRTK404(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

// FuzzPlainRTK404 holds that whatever the recognizer accepts, decoding
// the body finds RealtimeKit's error object too: skipping the decoding
// never changes the answer.
func FuzzPlainRTK404(f *testing.F) {
	f.Add([]byte(`{"success":false,"error":{"code":404,"message":"No active session found for meeting_id m-1"}}`))
	f.Add([]byte(`{"success":false,"error":{"code":404,"message":"\u00e9"}}`))
	f.Add([]byte(`{"success":false,"error":{"code":404,"message":"a\xff"}}` + "\r\n"))
	c := New(Options{AccountID: testAccount, Token: testToken})
	res := &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !plainRTK404(body) {
			return
		}
		if _, rtk404 := c.statusError(res, body, false); !rtk404 {
			t.Fatalf("recognized %q, which decoding does not take for RealtimeKit's 404", body)
		}
	})
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestTransportError(t *testing.T) {
	c := New(Options{AccountID: testAccount, Token: testToken, Timeout: 3 * time.Second})
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://api.example/client/v4/accounts/x?token=" + testToken, Err: err}
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	tests := []struct {
		name string
		err  error
		want Error
	}{
		{"deadline", wrap(context.DeadlineExceeded), Error{Kind: KindTimeout, Message: "no response within 3s"}},
		{"bare deadline", context.DeadlineExceeded, Error{Kind: KindTimeout, Message: "no response within 3s"}},
		{"canceled", wrap(context.Canceled), Error{Kind: KindTimeout, Message: "request canceled"}},
		{"net timeout", wrap(timeoutError{}), Error{Kind: KindTimeout, Message: "no response within 3s"}},
		{"dns", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}),
			Error{Kind: KindNetwork, Message: "DNS lookup failed: no such host"}},
		{"dns timeout", wrap(&net.DNSError{Err: "timeout", Name: "api.example", IsTimeout: true}),
			Error{Kind: KindNetwork, Message: "DNS lookup failed: timeout"}},
		{"refused", wrap(opErr(syscall.ECONNREFUSED)), Error{Kind: KindNetwork, Message: "connection refused"}},
		{"reset", wrap(opErr(syscall.ECONNRESET)), Error{Kind: KindNetwork, Message: "connection reset by peer"}},
		{"cut body", fmt.Errorf("error reading response body: %w", io.ErrUnexpectedEOF),
			Error{Kind: KindNetwork, Message: "connection closed before the response was complete"}},
		{"eof", wrap(io.EOF), Error{Kind: KindNetwork, Message: "connection closed before the response was complete"}},
		{"tls", wrap(errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")),
			Error{Kind: KindNetwork, Message: "network error: tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.transportError(tt.err)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientMisconfigured(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no account", Options{BaseURL: "http://127.0.0.1:1/client/v4/", Token: testToken}, "no account ID configured"},
		{"bad base URL", Options{BaseURL: "127.0.0.1/client/v4", AccountID: testAccount, Token: testToken}, "invalid API base URL"},
		{"base URL not HTTP", Options{BaseURL: "ftp://127.0.0.1/client/v4", AccountID: testAccount, Token: testToken}, "invalid API base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.opts)
			_, aerr := c.ActiveSession(t.Context(), testApp, "m-1")
			_, _, lerr := c.readList(t.Context(), testApp, LiveList(10))
			_, perr := c.SessionsPage(t.Context(), testApp, ListQuery{PageNo: 1})
			merr := c.Meeting(t.Context(), testApp, "m-1")
			for _, err := range []error{aerr, lerr, perr, merr} {
				if e := asError(t, err); e.Kind != KindClient || e.Message != tt.want {
					t.Errorf("error = %+v, want a client error %q", e, tt.want)
				}
			}
		})
	}
}

// TestClientEmptyIDs: a call without the ids it needs fails before any
// request.
func TestClientEmptyIDs(t *testing.T) {
	c := New(Options{BaseURL: "http://127.0.0.1:1/client/v4/", AccountID: testAccount, Token: testToken})
	_, aerr := c.ActiveSession(t.Context(), testApp, "")
	_, _, lerr := c.readList(t.Context(), "", LiveList(10))
	_, perr := c.SessionsPage(t.Context(), "", ListQuery{PageNo: 1})
	merr := c.Meeting(t.Context(), testApp, "")
	for i, err := range []error{aerr, lerr, perr, merr} {
		if e := asError(t, err); e.Kind != KindClient || !strings.HasPrefix(e.Message, "empty app") {
			t.Errorf("call %d: error = %+v, want a client error about an empty id", i, e)
		}
	}
}

// TestScrubBaseURL: a message that quotes the base URL shows only its
// scheme and host, whatever credentials its user information or path
// carry.
func TestScrubBaseURL(t *testing.T) {
	const base = "https://proxy-user:proxy-pass@proxy.example:8443/S3CRET-path/client/v4/"
	c := New(Options{BaseURL: base, AccountID: testAccount, Token: testToken})
	tests := []struct{ in, want string }{
		{"refused https://proxy-user:proxy-pass@proxy.example:8443/S3CRET-path/client/v4/accounts/x",
			"refused https://proxy.example:8443/accounts/x"},
		{"refused https://proxy-user:xxxxx@proxy.example:8443/S3CRET-path/client/v4/accounts/x",
			"refused https://proxy.example:8443/accounts/x"},
		{"refused https://proxy.example:8443/other", "refused https://proxy.example:8443/other"},
		{"token " + testToken, "token [redacted]"},
	}
	for _, tt := range tests {
		if got := c.scrub(tt.in); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
