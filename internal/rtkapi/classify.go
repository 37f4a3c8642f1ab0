package rtkapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/rtkwatchd/rtkwatchd/internal/retryafter"
)

// maxAPIMessage bounds how much of the API's own error message an Error
// quotes.
const maxAPIMessage = 200

// maxErrorBody bounds how much of an error response is parsed.
const maxErrorBody = 64 << 10

// typedErrorBody is apiErrorBody when "error", if present, is an object:
// the usual answer, read in one pass.
type typedErrorBody struct {
	Error  *rtkErrorObject  `json:"error"`
	Errors []rtkErrorObject `json:"errors"`
}

// apiErrorBody covers both error shapes: RealtimeKit's single "error"
// object and the Cloudflare gateway's v4 "errors" array.
type apiErrorBody struct {
	Error  json.RawMessage  `json:"error"`
	Errors []rtkErrorObject `json:"errors"`
}

type rtkErrorObject struct {
	Code    errorCode `json:"code"`
	Message string    `json:"message"`
}

// errorCode is an API error code, which may be a number or a string.
type errorCode string

// UnmarshalJSON keeps a number's text or a string's value; anything else
// is no code.
func (c *errorCode) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case json.Unmarshal(b, &s) == nil:
		*c = errorCode(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*c = errorCode(b)
	}
	return nil
}

// readErrorBody returns the start of an error response's body, which was
// read whole before (by the SDK, which put it back, or by resend): at most
// maxErrorBody bytes, and one more when the body is longer, so that
// statusError knows it was cut short; nothing when it could not be read.
func readErrorBody(res *http.Response) []byte {
	if res.Body == nil {
		return nil
	}
	if rb, ok := res.Body.(*readBody); ok && rb.Len() == len(rb.b) {
		return rb.b[:min(len(rb.b), maxErrorBody+1)]
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody+1))
	_ = res.Body.Close()
	return b
}

// statusError classifies an HTTP error response. It also reports whether
// the response is a 404 with RealtimeKit's own "error" object, which on the
// active-session route means the meeting has no active session; with
// owns404, the error of such a response is a bare 404, its message not
// built, since the caller answers it with its own. body is the start of
// the response's body as readErrorBody returns it: a body of more than
// maxErrorBody bytes was cut short, and is never RealtimeKit's 404.
func (c *Client) statusError(res *http.Response, body []byte, owns404 bool) (*Error, bool) {
	status := res.StatusCode
	// Only a body read whole can be RealtimeKit's 404: the start of a
	// longer one may parse where the whole would not.
	whole := len(body) <= maxErrorBody
	body = body[:min(len(body), maxErrorBody)]
	if owns404 && status == http.StatusNotFound && whole && plainRTK404(body) {
		return &Error{Kind: KindNotFound, StatusCode: status, Message: "404 Not Found"}, true
	}
	f := &Error{StatusCode: status}
	var rtk *rtkErrorObject
	var code, msg string
	var typed typedErrorBody
	var e apiErrorBody
	switch {
	case json.Unmarshal(body, &typed) == nil:
		// The usual shapes, in one pass.
		if rtk = typed.Error; rtk != nil {
			code, msg = string(rtk.Code), rtk.Message
		} else if len(typed.Errors) > 0 {
			code, msg = string(typed.Errors[0].Code), typed.Errors[0].Message
		}
	case json.Unmarshal(body, &e) == nil:
		if len(e.Error) > 0 && e.Error[0] == '{' {
			rtk = new(rtkErrorObject)
			if json.Unmarshal(e.Error, rtk) != nil {
				rtk = nil
			} else {
				code, msg = string(rtk.Code), rtk.Message
			}
		}
		if rtk == nil && len(e.Errors) > 0 {
			code, msg = string(e.Errors[0].Code), e.Errors[0].Message
		}
	}
	rtk404 := status == http.StatusNotFound && rtk != nil && whole
	if owns404 && rtk404 {
		return &Error{Kind: KindNotFound, StatusCode: status, Message: "404 Not Found"}, true
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		f.Kind = KindAuth
	case status == http.StatusTooManyRequests:
		f.Kind = KindRateLimited
		f.RetryAfter = retryafter.Parse(res.Header.Get("Retry-After"), c.now())
	case status == http.StatusNotFound:
		f.Kind = KindNotFound
	case status >= 500:
		f.Kind = KindServer
	default:
		f.Kind = KindClient
	}
	f.Message = statusLine(status)
	if msg = c.scrub(msg); msg != "" {
		f.Message += ": " + msg
		if code != "" && code != strconv.Itoa(status) {
			f.Message += " (code " + c.scrub(code) + ")"
		}
	}
	return f, rtk404
}

// plainRTK404 reports whether body is RealtimeKit's 404 exactly as the
// API sends it (SPEC §2: {"success":false,"error":{"code":404,"message":
// "No active session found for meeting_id …"}}, then optional whitespace)
// with a message holding no quote, backslash or control character. Such a
// body is valid JSON with an "error" object, as decoding it would find, so
// a caller that owns the 404 is answered without decoding: about half the
// polls of an app get this answer. Any other body reports false and is
// decoded.
func plainRTK404(body []byte) bool {
	const head, tail = `{"success":false,"error":{"code":404,"message":"`, `"}}`
	b := bytes.TrimRight(body, " \t\r\n")
	if len(b) < len(head)+len(tail) || !bytes.HasPrefix(b, []byte(head)) || !bytes.HasSuffix(b, []byte(tail)) {
		return false
	}
	for _, c := range b[len(head) : len(b)-len(tail)] {
		if c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

// tooLargeError reports a response whose body exceeded MaxResponseBytes.
func tooLargeError(res *http.Response) *Error {
	f := &Error{Kind: KindDecode, Message: errResponseTooLarge.Error()}
	if res != nil {
		f.StatusCode = res.StatusCode
		f.Message = statusLine(res.StatusCode) + " with a body larger than " + strconv.Itoa(MaxResponseBytes>>20) + " MiB"
	}
	return f
}

// statusLine returns "404 Not Found" for 404.
func statusLine(status int) string {
	if t := http.StatusText(status); t != "" {
		return strconv.Itoa(status) + " " + t
	}
	return "HTTP " + strconv.Itoa(status)
}

// transportError classifies an error that left no HTTP error response:
// a deadline, a connection that failed, or a body that could not be read.
func (c *Client) transportError(err error) *Error {
	timeout := &Error{Kind: KindTimeout, Message: "no response within " + c.timeout.String()}
	var netErr net.Error
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return timeout
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindTimeout, Message: "request canceled"}
	case errors.As(err, &dnsErr):
		msg := "DNS lookup failed"
		if dnsErr.IsNotFound {
			msg += ": no such host"
		} else if dnsErr.IsTimeout {
			msg += ": timeout"
		}
		return &Error{Kind: KindNetwork, Message: msg}
	case errors.As(err, &netErr) && netErr.Timeout():
		return timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: KindNetwork, Message: "connection refused"}
	case errors.Is(err, syscall.ECONNRESET):
		return &Error{Kind: KindNetwork, Message: "connection reset by peer"}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &Error{Kind: KindNetwork, Message: "connection closed before the response was complete"}
	case errors.As(err, &urlErr):
		// url.Error quotes the request URL; keep only what went wrong.
		err = urlErr.Err
	}
	return &Error{Kind: KindNetwork, Message: "network error: " + c.scrub(err.Error())}
}

// scrub makes text from outside safe for an Error message: the base URL
// shown as its scheme and host only, the token removed, control characters
// and runs of spaces collapsed, and at most maxAPIMessage bytes.
func (c *Client) scrub(s string) string {
	for _, b := range c.baseForms {
		if b != c.endpoint && strings.Contains(s, b) {
			s = strings.ReplaceAll(s, b, c.endpoint)
		}
	}
	if c.token != "" && strings.Contains(s, c.token) {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > maxAPIMessage {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
