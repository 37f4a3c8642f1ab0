package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/stdwebhooks"
)

// Standard Webhooks header names.
const (
	headerWebhookID        = stdwebhooks.HeaderID
	headerWebhookTimestamp = stdwebhooks.HeaderTimestamp
	headerWebhookSignature = stdwebhooks.HeaderSignature
)

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// Name is the notifier's configured name.
	Name string
	// URL receives the POSTs. Only its scheme and host ever appear in
	// errors.
	URL string
	// Secrets are "whsec_<base64>" signing secrets. Each adds one v1
	// signature to webhook-signature, so that a receiver may rotate
	// secrets without losing events. At least one is required.
	Secrets []string
	// Headers are extra request headers. They may not override the
	// headers the notifier sets itself. A value of 8 bytes or more
	// (minCredentialLen) may be a credential: it never appears in errors,
	// not even where a receiver echoes it, and neither does the token of a
	// value such as "Bearer <token>". Shorter values ("json", "video") are
	// not treated as credentials, so that the words they match stay
	// readable in errors.
	Headers map[string]string
	// UserAgent is the user-agent header; "rtkwatchd" when empty.
	UserAgent string
	// Client makes the requests; when nil, a client that does not follow
	// redirects. Its Timeout, if any, applies on top of the context's.
	Client *http.Client
	// Now stamps webhook-timestamp; time.Now when nil.
	Now func() time.Time
}

// Webhook delivers events as Standard Webhooks: a POST of the event JSON,
// signed with HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}".
// It is safe for concurrent use.
type Webhook struct {
	name      string
	url       receiverURL
	keys      [][]byte
	headers   http.Header
	userAgent string
	client    *http.Client
	now       func() time.Time
}

// NewWebhook checks opts and returns a Webhook. Its errors name the
// notifier but never repeat its URL or secrets.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	u, err := parseReceiverURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", opts.Name, err)
	}
	if len(opts.Secrets) == 0 {
		return nil, fmt.Errorf("webhook %s: no signing secret", opts.Name)
	}
	keys := make([][]byte, 0, len(opts.Secrets))
	for i, s := range opts.Secrets {
		key, err := stdwebhooks.DecodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: secret %d: %w", opts.Name, i+1, err)
		}
		keys = append(keys, key)
	}
	headers := make(http.Header, len(opts.Headers))
	for name, value := range opts.Headers {
		if err := checkHeader(name, value); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", opts.Name, err)
		}
		headers.Set(name, value)
		u.addHeaderSecret(value)
	}
	w := &Webhook{
		name:      opts.Name,
		url:       u,
		keys:      keys,
		headers:   headers,
		userAgent: opts.UserAgent,
		client:    opts.Client,
		now:       opts.Now,
	}
	if w.userAgent == "" {
		w.userAgent = defaultUserAgent
	}
	if w.client == nil {
		w.client = defaultClient()
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// checkHeader rejects header names that are not HTTP tokens or that the
// notifier sets itself, and values that would split a header. Values are
// never quoted: they may be credentials.
func checkHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return fmt.Errorf("header %q: not a valid header name", name)
	}
	if stdwebhooks.Reserved(name) {
		return fmt.Errorf("header %s: set by rtkwatchd, cannot be configured", textproto.CanonicalMIMEHeaderKey(name))
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("header %s: value contains a line break or NUL", textproto.CanonicalMIMEHeaderKey(name))
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP header name.
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// Name returns the notifier's configured name.
func (w *Webhook) Name() string { return w.name }

// sign returns the webhook-signature header for one attempt: a
// space-separated "v1,<base64>" signature per secret, in the order given.
func (w *Webhook) sign(id string, timestamp int64, body []byte) string {
	var sb strings.Builder
	ts := strconv.AppendInt(nil, timestamp, 10)
	sum := make([]byte, 0, sha256.Size)
	for i, key := range w.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write(ts)
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(sum[:0])))
	}
	return sb.String()
}

// Notify POSTs m.Body once, signed for this attempt's timestamp.
func (w *Webhook) Notify(ctx context.Context, m Message) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.full, bytes.NewReader(m.Body))
	if err != nil {
		// The URL parsed in NewWebhook, so only a bad context gets here.
		return Result{Err: fmt.Errorf("post %s: build request", w.url.redacted)}
	}
	for name, values := range w.headers {
		req.Header[name] = values
	}
	ts := w.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.userAgent)
	req.Header.Set(headerWebhookID, m.EventID)
	req.Header.Set(headerWebhookTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(headerWebhookSignature, w.sign(m.EventID, ts, m.Body))

	a, err := send(w.client, w.url, req)
	if err != nil {
		return Result{Err: err, Retry: true}
	}
	return w.url.result(a, w.now())
}
