package main

import (
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
)

// idleCloser is an HTTP client, or a client over one, whose connections
// kept open for reuse can be closed once its requests have ended.
type idleCloser interface{ CloseIdleConnections() }

// buildNotifiers builds one notifier per configured one, each with an HTTP
// client of its own, which it returns too: whoever replaces the notifiers
// closes their idle connections. Slack notifiers that share a URL share its
// pace.
func buildNotifiers(cfg *config.Config, log zerolog.Logger) ([]notify.Notifier, []idleCloser, error) {
	var (
		out     []notify.Notifier
		clients []idleCloser
	)
	slackPace := map[string]*rate.Limiter{}
	for _, n := range cfg.Notifiers {
		hc := notify.NewHTTPClient()
		switch n.Type {
		case config.TypeWebhook:
			var secrets []string
			for _, s := range n.SigningSecrets() {
				secrets = append(secrets, s.Value())
			}
			headers := make(map[string]string, len(n.Headers))
			for name, v := range n.Headers {
				headers[name] = v.Value()
			}
			w, err := notify.NewWebhook(notify.WebhookOptions{
				Name: n.Name, URL: n.URL.Value(), Secrets: secrets, Headers: headers,
				UserAgent: userAgent(), Client: hc,
			})
			if err != nil {
				return nil, nil, err
			}
			out = append(out, w)
			clients = append(clients, hc)
		case config.TypeSlack:
			lim, ok := slackPace[n.URL.Value()]
			if !ok {
				lim = rate.NewLimiter(rate.Every(time.Second), 1)
				slackPace[n.URL.Value()] = lim
			}
			s, err := notify.NewSlack(notify.SlackOptions{
				Name: n.Name, URL: n.URL.Value(), UserAgent: userAgent(), Client: hc, Limiter: lim,
			})
			if err != nil {
				return nil, nil, err
			}
			out = append(out, s)
			clients = append(clients, hc)
		default:
			log.Warn().Str("notifier", n.Name).Str("type", n.Type).Msg("unknown notifier type; skipped")
		}
	}
	return out, clients, nil
}

// closeIdle closes the idle connections of clients whose requests have
// ended.
func closeIdle(clients []idleCloser) {
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}
