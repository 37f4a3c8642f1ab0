package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/retryafter"
)

// maxAnswer bounds how much of a response body a notifier keeps to read:
// enough for Discord's rate-limit JSON and any service's error message.
const maxAnswer = 4 << 10

// answer is what a receiver answered to one POST.
type answer struct {
	code   int
	header http.Header
	body   []byte // at most maxAnswer bytes of the body
}

// postJSON POSTs payload to u once, as contentType (JSON; the empty
// string is "application/json"), and returns the answer, with
// the body read up to maxAnswer bytes, the rest drained up to maxDrain,
// and closed. Its error is a transport error, free of the URL's secrets.
func postJSON(ctx context.Context, c *http.Client, u receiverURL, userAgent, contentType string, payload []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.full, bytes.NewReader(payload))
	if err != nil {
		// The URL parsed when the notifier was built, so only a bad
		// context gets here.
		return answer{}, fmt.Errorf("post %s: build request", u.redacted)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	return send(c, u, req)
}

// send makes req, a request to u, once and returns the answer, with the
// body read up to maxAnswer bytes, the rest drained up to maxDrain, and
// closed. Its error is a transport error, free of the URL's secrets.
func send(c *http.Client, u receiverURL, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, u.transportError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain-int64(len(body))))
	return answer{code: resp.StatusCode, header: resp.Header, body: body}, nil
}

// result classifies an answer as SPEC §6 does: a 2xx is success; 408, 429
// and 5xx are retried, after the Retry-After the receiver asked for; any
// other status (3xx, 4xx) is a dead letter. The error quotes the start of
// the body, scrubbed of every secret before it is cut (see snippet). Every
// HTTP notifier, the webhook included, classifies its answers here.
func (u receiverURL) result(a answer, now time.Time) Result {
	if a.code >= 200 && a.code < 300 {
		return Result{StatusCode: a.code}
	}
	res := Result{
		Err:        u.statusError(a.code, u.snippet(a.body, len(a.body) >= maxAnswer)),
		Retry:      retryable(a.code),
		StatusCode: a.code,
	}
	if res.Retry {
		res.RetryAfter = retryafter.Parse(a.header.Get("Retry-After"), now)
	}
	return res
}

// httpTarget is what the HTTP notifiers share: the notifier's name, its
// receiver's URL, the user-agent, the client and the clock.
type httpTarget struct {
	name      string
	url       receiverURL
	userAgent string
	client    *http.Client
	now       func() time.Time
}

// newHTTPTarget checks rawURL and fills in the defaults: "rtkwatchd" as
// user-agent, a client that does not follow redirects, time.Now. kind (the
// notifier's type) and name start its errors, which never repeat the URL.
func newHTTPTarget(kind, name, rawURL, userAgent string, client *http.Client, now func() time.Time) (httpTarget, error) {
	u, err := parseReceiverURL(rawURL)
	if err != nil {
		return httpTarget{}, fmt.Errorf("%s %s: %w", kind, name, err)
	}
	h := httpTarget{name: name, url: u, userAgent: userAgent, client: client, now: now}
	if h.userAgent == "" {
		h.userAgent = defaultUserAgent
	}
	if h.client == nil {
		h.client = defaultClient()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Name returns the notifier's configured name.
func (h *httpTarget) Name() string { return h.name }

// post sends payload once (see postJSON) and classifies the answer (see
// result). A transport error is retried.
func (h *httpTarget) post(ctx context.Context, contentType string, payload []byte) (Result, answer) {
	a, err := postJSON(ctx, h.client, h.url, h.userAgent, contentType, payload)
	if err != nil {
		return Result{Err: err, Retry: true}, answer{}
	}
	return h.url.result(a, h.now()), a
}

// latch holds the error that made a notifier unusable, once set, until
// the notifier is built again from corrected configuration.
type latch struct {
	mu  sync.Mutex
	err error
}

// get returns the error, or nil while the notifier is usable.
func (l *latch) get() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// set records err unless an error is already recorded.
func (l *latch) set(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}
