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
	// Group gathers events into one message; the zero Group sends each
	// alone.
	Group Group
	// Limiter paces the messages. Slack accepts about one message per
	// second per incoming webhook, so notifiers that share a URL should
	// share a Limiter. When nil, a limiter of one per second with a burst
	// of one.
	Limiter *rate.Limiter
}

// Slack posts one Block Kit message per event, or per group of events
// (NotifyGroup), to a Slack incoming webhook.
//
// When Slack says the webhook can no longer be used (403, 404 or 410:
// revoked, channel gone or archived), the notifier turns broken: that
// attempt and every later one fail at once, without a request, with
// Result.Broken set, until a new Slack is built from corrected
// configuration. It is safe for concurrent use.
type Slack struct {
	httpTarget
	limiter  *rate.Limiter
	template *Template
	group    Group

	broken latch
}

// NewSlack checks opts and returns a Slack notifier. Its errors never
// repeat the URL.
func NewSlack(opts SlackOptions) (*Slack, error) {
	h, err := newHTTPTarget("slack", opts.Name, opts.URL, opts.UserAgent, opts.Client, opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Slack{httpTarget: h, limiter: opts.Limiter, template: opts.Template, group: opts.Group}
	if s.limiter == nil {
		s.limiter = rate.NewLimiter(rate.Every(time.Second), 1)
	}
	return s, nil
}

// Concurrency returns 1, for the Worker: messages are paced one a second,
// so more attempts in flight would only queue for their turn, using up
// their timeouts, and could reach the channel out of order.
func (s *Slack) Concurrency() int { return 1 }

// Broken returns the error that made the notifier unusable, or nil.
func (s *Slack) Broken() error { return s.broken.get() }

// Notify renders m.Body (an event) as a Slack message and posts it once,
// after waiting for its turn under the limiter.
func (s *Slack) Notify(ctx context.Context, m Message) Result {
	return s.send(ctx, func() ([]byte, error) { return renderSlack(m.Body, s.template) })
}

// Grouping returns how the Worker should group this notifier's events.
func (s *Slack) Grouping() Group { return s.group }

// NotifyGroup renders g as one Slack message and posts it once, after
// waiting for its turn under the limiter.
func (s *Slack) NotifyGroup(ctx context.Context, g GroupMessage) Result {
	return s.send(ctx, func() ([]byte, error) { return renderSlackGroup(g, s.template) })
}

// send renders a payload and posts it once, paced, unless the notifier is
// broken.
func (s *Slack) send(ctx context.Context, render func() ([]byte, error)) Result {
	if err := s.Broken(); err != nil {
		return Result{Err: err, Broken: true}
	}
	payload, err := render()
	if err != nil {
		return Result{Err: err}
	}
	if err := s.limiter.Wait(ctx); err != nil {
		return Result{Err: fmt.Errorf("wait for slack pacing: %w", err), Retry: true}
	}
	res, a := s.post(ctx, "", payload)
	switch a.code {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		res.Broken = true
		s.broken.set(fmt.Errorf("slack webhook unusable, fix its url and reload: %w", res.Err))
	}
	return res
}
