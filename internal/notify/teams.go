package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// TeamsOptions configure a Teams notifier.
type TeamsOptions struct {
	// Name is the notifier's configured name.
	Name string
	// URL is the Workflows webhook URL ("Send webhook alerts to a
	// channel"). It is a credential (its query carries the signature):
	// only its scheme and host ever appear in errors.
	URL string
	// Template replaces the default title and text; nil keeps them.
	Template *Template
	// Group gathers events into one card; the zero Group sends each
	// alone.
	Group Group
	// UserAgent is the user-agent header; "rtkwatchd" when empty.
	UserAgent string
	// Client makes the requests; when nil, a client that does not follow
	// redirects.
	Client *http.Client
	// Now is the clock used to read Retry-After dates; time.Now when nil.
	Now func() time.Time
}

// Teams posts one Adaptive Card per event (or per group of events, see
// NotifyGroup) to a Microsoft Teams Workflows webhook: the title, the facts
// (meeting, watch, the event's numbers, session), the error if any, and
// the event's id and time, within Teams' 28 KB.
//
// A 2xx is success (Workflows answers 202); 408, 429 (after its
// Retry-After) and 5xx are retried; any other status is a dead letter. A
// 401, 403 or 404 (the flow was deleted, turned off or its URL revoked)
// also turns the notifier broken: that attempt and every later one fail at
// once, without a request, with Result.Broken set, until a new Teams is
// built from corrected configuration. It is safe for concurrent use.
type Teams struct {
	httpTarget
	template *Template
	group    Group
	broken   latch
}

// NewTeams checks opts and returns a Teams notifier. Its errors never
// repeat the URL.
func NewTeams(opts TeamsOptions) (*Teams, error) {
	h, err := newHTTPTarget("teams", opts.Name, opts.URL, opts.UserAgent, opts.Client, opts.Now)
	if err != nil {
		return nil, err
	}
	return &Teams{httpTarget: h, template: opts.Template, group: opts.Group}, nil
}

// Concurrency returns 1, for the Worker: cards reach the channel in the
// order of their events, and a burst waits its turn instead of running
// into the flow's throttling.
func (t *Teams) Concurrency() int { return 1 }

// Broken returns the error that made the notifier unusable, or nil.
func (t *Teams) Broken() error { return t.broken.get() }

// Notify renders m.Body (an event) as an Adaptive Card and posts it once.
func (t *Teams) Notify(ctx context.Context, m Message) Result {
	return t.send(ctx, func() ([]byte, error) { return renderTeams(m.Body, t.template) })
}

// Grouping returns how the Worker should group this notifier's events.
func (t *Teams) Grouping() Group { return t.group }

// NotifyGroup renders g as one Adaptive Card and posts it once.
func (t *Teams) NotifyGroup(ctx context.Context, g GroupMessage) Result {
	return t.send(ctx, func() ([]byte, error) { return renderTeamsGroup(g, t.template) })
}

// send renders a payload and posts it once, unless the notifier is
// broken.
func (t *Teams) send(ctx context.Context, render func() ([]byte, error)) Result {
	if err := t.broken.get(); err != nil {
		return Result{Err: err, Broken: true}
	}
	payload, err := render()
	if err != nil {
		return Result{Err: err}
	}
	res, a := t.post(ctx, "application/json; charset=utf-8", payload)
	switch a.code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		res.Broken = true
		t.broken.set(fmt.Errorf("teams webhook unusable, fix its url and reload: %w", res.Err))
	}
	return res
}
