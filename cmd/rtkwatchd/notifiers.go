package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
)

// idleCloser is an HTTP client, or a client over one, whose connections
// kept open for reuse can be closed once its requests have ended.
type idleCloser interface{ CloseIdleConnections() }

// buildNotifiers builds one notifier per configured one, each HTTP one with
// a client of its own, which it returns too: whoever replaces the notifiers
// closes their idle connections. Slack notifiers that share a URL share its
// pace. It parses every template and renders it against a sample of every
// event type. Its error joins every problem it finds, each one line that
// names its notifier: "notifiers[1].template: template: slack-video.title:1: …".
func buildNotifiers(cfg *config.Config) ([]notify.Notifier, []idleCloser, error) {
	var (
		out     []notify.Notifier
		clients []idleCloser
		errs    []error
	)
	slackPace := map[string]*rate.Limiter{}
	for i := range cfg.Notifiers {
		nt, hc, problems := configuredNotifier(cfg, i, slackPace)
		if len(problems) > 0 {
			errs = append(errs, problems...)
			continue
		}
		out = append(out, nt)
		if hc != nil {
			clients = append(clients, hc)
		}
	}
	if err := errors.Join(errs...); err != nil {
		closeIdle(clients)
		return nil, nil, err
	}
	return out, clients, nil
}

// configuredNotifier builds the i-th notifier of cfg (see buildNotifier),
// or returns its problems, each naming its field: the template's renders,
// or what the notifier's constructor refused.
func configuredNotifier(cfg *config.Config, i int, slackPace map[string]*rate.Limiter) (notify.Notifier, *http.Client, []error) {
	n := cfg.Notifiers[i]
	tmpl, err := notifierTemplate(n)
	if err != nil {
		var problems []error
		for _, e := range flatten(err) {
			problems = append(problems, fmt.Errorf("notifiers[%d].template: %w", i, e))
		}
		return nil, nil, problems
	}
	nt, hc, err := buildNotifier(n, tmpl, slackPace)
	if err != nil {
		return nil, nil, []error{fmt.Errorf("notifiers[%d]: %w", i, err)}
	}
	return nt, hc, nil
}

// flatten returns the errors that err joins, or err alone.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// buildNotifier builds the notifier n configures, with the template tmpl
// (nil: the defaults), and returns the HTTP client it uses (nil for
// email). slackPace holds the limiter of each Slack URL.
func buildNotifier(n config.Notifier, tmpl *notify.Template, slackPace map[string]*rate.Limiter) (notify.Notifier, *http.Client, error) {
	group := notify.Group{Wait: n.Group.Wait, Max: n.Group.Max}
	if n.Type == config.TypeEmail {
		e, err := notify.NewEmail(notify.EmailOptions{
			Name: n.Name, Host: n.SMTP.Host, Port: n.SMTP.Port, TLS: n.SMTP.TLS,
			Username: n.SMTP.Username, Password: n.SMTP.Password.Value(),
			From: n.From, To: n.To, Template: tmpl, Group: group,
		})
		if err != nil {
			return nil, nil, err
		}
		return e, nil, nil
	}
	hc := notify.NewHTTPClient()
	var (
		nt  notify.Notifier
		err error
	)
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
		nt, err = notify.NewWebhook(notify.WebhookOptions{
			Name: n.Name, URL: n.URL.Value(), Secrets: secrets, Headers: headers,
			UserAgent: userAgent(), Client: hc,
		})
	case config.TypeSlack:
		lim, ok := slackPace[n.URL.Value()]
		if !ok {
			lim = rate.NewLimiter(rate.Every(time.Second), 1)
			slackPace[n.URL.Value()] = lim
		}
		nt, err = notify.NewSlack(notify.SlackOptions{
			Name: n.Name, URL: n.URL.Value(), UserAgent: userAgent(), Client: hc, Limiter: lim, Template: tmpl, Group: group,
		})
	case config.TypeTeams:
		nt, err = notify.NewTeams(notify.TeamsOptions{
			Name: n.Name, URL: n.URL.Value(), UserAgent: userAgent(), Client: hc, Template: tmpl, Group: group,
		})
	case config.TypeDiscord:
		nt, err = notify.NewDiscord(notify.DiscordOptions{
			Name: n.Name, URL: n.URL.Value(), UserAgent: userAgent(), Client: hc, Template: tmpl, Group: group,
		})
	case config.TypePagerDuty:
		nt, err = notify.NewPagerDuty(notify.PagerDutyOptions{
			Name: n.Name, URL: n.URL.Value(), RoutingKey: n.RoutingKey.Value(), Severity: n.Severity,
			UserAgent: userAgent(), Client: hc,
		})
	default: // Validate accepts no other type
		err = fmt.Errorf("unknown notifier type %q", n.Type)
	}
	if err != nil {
		hc.CloseIdleConnections()
		return nil, nil, err
	}
	return nt, hc, nil
}

// notifierTemplate parses n's template, if it has one, and renders it
// against a sample of every event type, so that a template that breaks is
// refused with its name and line (`slack-video.title:1: …`) before any
// event needs it.
func notifierTemplate(n config.Notifier) (*notify.Template, error) {
	if n.Template.IsZero() {
		return nil, nil
	}
	t, err := notify.NewTemplate(n.Name, notify.TemplateOptions{Title: n.Template.Title, Text: n.Template.Text})
	if err != nil {
		return nil, err
	}
	if err := t.RenderSamples(); err != nil {
		return nil, err
	}
	return t, nil
}

// closeIdle closes the idle connections of clients whose requests have
// ended.
func closeIdle(clients []idleCloser) {
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}
