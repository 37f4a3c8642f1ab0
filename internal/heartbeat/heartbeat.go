// Package heartbeat requests a dead man's switch URL (Healthchecks.io,
// Cronitor, Uptime Kuma's push monitor) after each interval in which every
// watch made progress. When rtkwatchd stops, hangs, or its polls stop
// hearing from the API, the requests stop and the switch fires: it watches
// the watcher.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/redact"
)

// Log field names.
const (
	logURL    = "url"
	logReason = "reason"
	logStatus = "status"
)

// maxBody is how much of a response body is read before the connection
// is closed.
const maxBody = 64 << 10

// Options configure a Heartbeat. Zero values take the defaults shown.
type Options struct {
	// URL is requested after each good interval. It usually holds a token:
	// it never appears in logs or errors, only its scheme and host.
	URL string
	// Method is GET (default), HEAD or POST (with an empty body).
	Method string
	// Every is the interval (default 1m).
	Every time.Duration
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// Progressed says whether every watch made progress since a time, and
	// if not, why; poller.Scheduler.Progressed. Required.
	Progressed func(since time.Time) (bool, string)
	// Client sends the requests; a client of its own when nil.
	Client *http.Client
	// Logger receives the Heartbeat's logs.
	Logger zerolog.Logger
	// Metrics counts the intervals; nil counts nothing.
	Metrics *Metrics
}

// Heartbeat requests its URL once per good interval. Run it once.
type Heartbeat struct {
	opts     Options
	redacted string // the URL's scheme and host
}

// New checks opts and returns a Heartbeat.
func New(opts Options) (*Heartbeat, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("heartbeat: url must be an absolute http:// or https:// URL")
	}
	if opts.Progressed == nil {
		return nil, errors.New("heartbeat: no progress check")
	}
	if opts.Method == "" {
		opts.Method = http.MethodGet
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	return &Heartbeat{opts: opts, redacted: redact.URL(opts.URL)}, nil
}

// Run requests the URL at the end of each interval of Every in which
// every watch made progress, until ctx ends; then it returns nil. An
// interval without progress is logged and skipped. A request that fails
// is logged and counted, and never retried: the next interval's request
// is the retry, so a failing URL is requested at most once an interval.
func (h *Heartbeat) Run(ctx context.Context) error {
	t := time.NewTicker(h.opts.Every)
	defer t.Stop()
	since := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ok, why := h.opts.Progressed(since)
		since = time.Now()
		if !ok {
			h.opts.Metrics.count(OutcomeWithheld)
			h.opts.Logger.Warn().Str(logReason, why).Msg("no progress in the last interval; withholding the heartbeat")
			continue
		}
		if err := h.beat(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.opts.Metrics.count(OutcomeFailed)
			h.opts.Logger.Error().Err(err).Msg("heartbeat failed; the next interval tries again")
			continue
		}
		h.opts.Metrics.count(OutcomeSent)
		h.opts.Logger.Debug().Str(logURL, h.redacted).Msg("heartbeat sent")
	}
}

// beat makes one request within the timeout, and drains and closes its
// response.
func (h *Heartbeat) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, h.opts.Method, h.opts.URL, http.NoBody)
	if err != nil {
		return fmt.Errorf("request heartbeat %s: %w", h.redacted, unwrapURL(err))
	}
	req.Header.Set("User-Agent", "rtkwatchd-heartbeat")
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("request heartbeat %s: timeout after %s", h.redacted, h.opts.Timeout)
		}
		return fmt.Errorf("request heartbeat %s: %w", h.redacted, unwrapURL(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("request heartbeat %s: status %s", h.redacted, resp.Status)
	}
	return nil
}

// unwrapURL drops a *url.Error, whose text repeats the whole URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
