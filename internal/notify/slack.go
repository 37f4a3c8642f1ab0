package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// SlackOptions configure a Slack notifier.
type SlackOptions struct {
	// Name is the notifier's configured name.
	Name string
	// URL is the incoming-webhook URL. It is a credential: only its scheme
	// and host ever appear in errors.
	URL string
	// UserAgent is the user-agent header; "rtkwatchd" when empty.
	UserAgent string
	// Client makes the requests; when nil, a client that does not follow
	// redirects.
	Client *http.Client
	// Now is the clock used to read Retry-After dates; time.Now when nil.
	Now func() time.Time
	// Template replaces the default title and text; nil keeps them.
	Template *Template
	// Limiter paces the messages. Slack accepts about one message per
	// second per incoming webhook, so notifiers that share a URL should
	// share a Limiter. When nil, a limiter of one per second with a burst
	// of one.
	Limiter *rate.Limiter
}

// Slack posts one Block Kit message per event to a Slack incoming webhook.
//
// When Slack says the webhook can no longer be used (403, 404 or 410:
// revoked, channel gone or archived), the notifier turns broken: that
// attempt and every later one fail at once, without a request, with
// Result.Broken set, until a new Slack is built from corrected
// configuration. It is safe for concurrent use.
type Slack struct {
	name      string
	url       receiverURL
	userAgent string
	client    *http.Client
	now       func() time.Time
	limiter   *rate.Limiter
	template  *Template

	broken latch
}

// NewSlack checks opts and returns a Slack notifier. Its errors never
// repeat the URL.
func NewSlack(opts SlackOptions) (*Slack, error) {
	u, err := parseReceiverURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("slack %s: %w", opts.Name, err)
	}
	s := &Slack{
		name:      opts.Name,
		url:       u,
		userAgent: opts.UserAgent,
		client:    opts.Client,
		now:       opts.Now,
		limiter:   opts.Limiter,
		template:  opts.Template,
	}
	if s.userAgent == "" {
		s.userAgent = defaultUserAgent
	}
	if s.client == nil {
		s.client = defaultClient()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.limiter == nil {
		s.limiter = rate.NewLimiter(rate.Every(time.Second), 1)
	}
	return s, nil
}

// Name returns the notifier's configured name.
func (s *Slack) Name() string { return s.name }

// Concurrency returns 1, for the Worker: messages are paced one a second,
// so more attempts in flight would only queue for their turn, using up
// their timeouts, and could reach the channel out of order.
func (s *Slack) Concurrency() int { return 1 }

// Broken returns the error that made the notifier unusable, or nil.
func (s *Slack) Broken() error { return s.broken.get() }

// Notify renders m.Body (an event) as a Slack message and posts it once,
// after waiting for its turn under the limiter.
func (s *Slack) Notify(ctx context.Context, m Message) Result {
	if err := s.Broken(); err != nil {
		return Result{Err: err, Broken: true}
	}
	payload, err := renderSlack(m.Body, s.template)
	if err != nil {
		return Result{Err: err}
	}
	if err := s.limiter.Wait(ctx); err != nil {
		return Result{Err: fmt.Errorf("wait for slack pacing: %w", err), Retry: true}
	}
	a, err := postJSON(ctx, s.client, s.url, s.userAgent, "", payload)
	if err != nil {
		return Result{Err: err, Retry: true}
	}
	res := s.url.result(a, s.now())
	switch a.code {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		res.Broken = true
		s.broken.set(fmt.Errorf("slack webhook unusable, fix its url and reload: %w", res.Err))
	}
	return res
}
