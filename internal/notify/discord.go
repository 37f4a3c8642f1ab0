package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/retryafter"
)

// DiscordOptions configure a Discord notifier.
type DiscordOptions struct {
	// Name is the notifier's configured name.
	Name string
	// URL is the channel's webhook URL. It is a credential (its path
	// carries the webhook's token): only its scheme and host ever appear
	// in errors.
	URL string
	// Username overrides the webhook's name on the messages; empty keeps
	// the one set in Discord.
	Username string
	// Template replaces the default title and text; nil keeps them.
	Template *Template
	// Group gathers events into one message; the zero Group sends each
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

// Discord posts one embed per event (a group of events is one message of
// up to ten embeds, see NotifyGroup) to a Discord channel's webhook: the
// title, the meeting and watch (or the template's text), the event's
// numbers as fields, a colour for good news, warnings and trouble, and the
// event's time; within Discord's limits on every text and 6,000 characters
// in all. Mentions are switched off.
//
// A 2xx is success (Discord answers 204); 408, 429 and 5xx are retried,
// a 429 after the longer of Retry-After and the retry_after of Discord's
// JSON body (seconds, with a fraction); any other status is a dead letter.
// A 401, 403 or 404 (token invalid, webhook deleted) also turns the
// notifier broken: that attempt and every later one fail at once, without
// a request, with Result.Broken set, until a new Discord is built from
// corrected configuration. It is safe for concurrent use.
type Discord struct {
	httpTarget
	username string
	template *Template
	group    Group
	broken   latch
}

// NewDiscord checks opts and returns a Discord notifier. Its errors never
// repeat the URL.
func NewDiscord(opts DiscordOptions) (*Discord, error) {
	h, err := newHTTPTarget("discord", opts.Name, opts.URL, opts.UserAgent, opts.Client, opts.Now)
	if err != nil {
		return nil, err
	}
	return &Discord{httpTarget: h, username: opts.Username, template: opts.Template, group: opts.Group}, nil
}

// Concurrency returns 1, for the Worker: embeds reach the channel in the
// order of their events, and a burst waits its turn instead of running
// into Discord's per-webhook rate limit.
func (d *Discord) Concurrency() int { return 1 }

// Broken returns the error that made the notifier unusable, or nil.
func (d *Discord) Broken() error { return d.broken.get() }

// Notify renders m.Body (an event) as an embed and posts it once.
func (d *Discord) Notify(ctx context.Context, m Message) Result {
	return d.send(ctx, func() ([]byte, error) { return renderDiscord(m.Body, d.template, d.username) })
}

// Grouping returns how the Worker should group this notifier's events.
func (d *Discord) Grouping() Group { return d.group }

// NotifyGroup renders g as one message of up to ten embeds and posts it
// once.
func (d *Discord) NotifyGroup(ctx context.Context, g GroupMessage) Result {
	return d.send(ctx, func() ([]byte, error) { return renderDiscordGroup(g, d.template, d.username) })
}

// send renders a payload and posts it once, unless the notifier is
// broken.
func (d *Discord) send(ctx context.Context, render func() ([]byte, error)) Result {
	if err := d.broken.get(); err != nil {
		return Result{Err: err, Broken: true}
	}
	payload, err := render()
	if err != nil {
		return Result{Err: err}
	}
	res, a := d.post(ctx, "", payload)
	switch a.code {
	case http.StatusTooManyRequests:
		res.RetryAfter = max(res.RetryAfter, discordRetryAfter(a.body))
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		res.Broken = true
		d.broken.set(fmt.Errorf("discord webhook unusable, fix its url and reload: %w", res.Err))
	}
	return res
}

// maxRetryAfter bounds a delay a receiver may ask for, as retryafter.Parse
// does for a Retry-After header.
const maxRetryAfter = retryafter.Max

// discordRetryAfter reads the retry_after of Discord's 429 body: seconds,
// with a fraction, rounded up to the millisecond. It returns 0 when the
// body has none that makes sense.
func discordRetryAfter(body []byte) time.Duration {
	var v struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) != nil || v.RetryAfter == nil {
		return 0
	}
	secs := *v.RetryAfter
	if math.IsNaN(secs) || secs <= 0 {
		return 0
	}
	if secs >= maxRetryAfter.Seconds() {
		return maxRetryAfter
	}
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}
