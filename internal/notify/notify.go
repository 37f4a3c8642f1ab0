// Package notify delivers rtkwatchd's events: signed Standard Webhooks,
// Slack, Microsoft Teams and Discord messages, PagerDuty events and email,
// each behind the one-method Notifier interface, and the Worker that drains
// the store's outbox into them with retries, backoff and dead letters. The
// chat-like types (Slack, Teams, Discord, email) take a Template and may
// group events (GroupNotifier: several events in one message), and every
// renderer keeps what it sends within its service's limits (fit.go).
//
// A Notifier makes exactly one attempt per call and says whether a failure is
// worth retrying; the Worker owns every decision about when to try again and
// when to give up.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/rtkwatchd/rtkwatchd/internal/redact"
)

// Notifier delivers one event to one receiver.
type Notifier interface {
	// Name is the notifier's configured name, the key of its deliveries in
	// the outbox.
	Name() string
	// Notify makes one attempt to deliver m and reports how it went. It
	// must return once ctx is done.
	Notify(ctx context.Context, m Message) Result
}

// Message is one delivery attempt's input.
type Message struct {
	// EventID is the event's id; webhooks send it as webhook-id.
	EventID string
	// EventType is the event's type, such as "session.started".
	EventType string
	// Body is the event JSON, sent (or rendered) as is.
	Body []byte
	// Attempt numbers this attempt, starting at 1.
	Attempt int
}

// Result is the outcome of one attempt. The attempt succeeded when Err is
// nil; otherwise Retry says whether trying again later may help.
type Result struct {
	// Err describes the failure; nil on success. It never contains a
	// secret or the path and query of a receiver's URL.
	Err error
	// Retry is true when the failure is transient (network error, timeout,
	// 408, 429, 5xx).
	Retry bool
	// RetryAfter is the receiver's requested delay (Retry-After), or 0.
	RetryAfter time.Duration
	// Broken is true when the notifier itself is misconfigured (a Slack
	// webhook that was revoked or whose channel is gone): no later attempt
	// can succeed until the configuration changes.
	Broken bool
	// StatusCode is the HTTP status of the response, or 0 when none arrived.
	StatusCode int
}

// maxDrain bounds how much of a response body is read before the
// connection is closed or reused.
const maxDrain = 64 << 10

// maxSnippet bounds how much of a response body is quoted in an error.
const maxSnippet = 200

// defaultUserAgent is sent when the caller sets none.
const defaultUserAgent = "rtkwatchd"

// receiverURL is a parsed receiver URL with its redacted form, the only
// form that may appear in errors and logs.
type receiverURL struct {
	full     string
	redacted string   // scheme://host
	secret   []string // every secret and its encodings, longest first (scrub.go)
}

// parseReceiverURL checks that raw is an absolute http(s) URL. Its errors
// never repeat raw, which may embed a secret.
func parseReceiverURL(raw string) (receiverURL, error) {
	if raw == "" {
		return receiverURL{}, errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return receiverURL{}, errors.New("url does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return receiverURL{}, errors.New("url scheme must be http or https")
	}
	if u.Host == "" {
		return receiverURL{}, errors.New("url has no host")
	}
	r := receiverURL{full: raw, redacted: redact.URL(raw)}
	r.addURLSecrets(raw, u)
	return r, nil
}

// redactedError wraps an error whose text has had secrets removed, so that
// errors.Is and errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// transportError describes a failed round trip without the URL's secrets.
// It unwraps *url.Error, whose text repeats the whole URL.
func (r receiverURL) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	what := "post " + r.redacted
	if errors.Is(err, context.DeadlineExceeded) {
		return &redactedError{msg: what + ": timeout", err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &redactedError{msg: what + ": canceled", err: err}
	}
	return &redactedError{msg: what + ": " + r.scrub(err.Error()), err: err}
}

// statusError describes an unsuccessful response. snippet is the start of
// the response body, already scrubbed.
func (r receiverURL) statusError(code int, snippet string) error {
	msg := fmt.Sprintf("post %s: status %d", r.redacted, code)
	if t := http.StatusText(code); t != "" {
		msg += " " + t
	}
	if snippet != "" {
		msg += ": " + snippet
	}
	return errors.New(msg)
}

// printable turns a response body into one short line of text.
func printable(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, string(b))
	return strings.Join(strings.Fields(s), " ")
}

// retryable reports whether a response status is worth retrying.
func retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// idleConnsPerHost is how many idle connections a notifier's default client
// keeps to its receiver: enough for the Worker's default eight attempts in
// flight, where net/http's default of two would open a new connection for
// most requests.
const idleConnsPerHost = 16

// defaultClient is the client a notifier uses when given none. It does not
// follow redirects: a 3xx is reported as it is, and a signed body never
// travels to a host the operator did not configure. It has a connection
// pool of its own, sized for attempts in flight at once.
func defaultClient() *http.Client {
	c := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConnsPerHost = idleConnsPerHost
		c.Transport = t
	}
	return c
}
