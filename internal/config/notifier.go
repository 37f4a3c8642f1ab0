package config

import (
	"net"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/rtkwatchd/rtkwatchd/internal/redact"
)

// Notifier types.
const (
	TypeWebhook   = "webhook"
	TypeSlack     = "slack"
	TypeTeams     = "teams"
	TypePagerDuty = "pagerduty"
	TypeDiscord   = "discord"
	TypeEmail     = "email"
)

// NotifierTypes lists every notifier type, in the order the README
// documents them.
var NotifierTypes = []string{TypeWebhook, TypeSlack, TypeTeams, TypePagerDuty, TypeDiscord, TypeEmail}

// chatTypes are the notifier types that render a message for people, and
// so take a template and may group events.
var chatTypes = []string{TypeSlack, TypeTeams, TypeDiscord, TypeEmail}

// Defaults of the notifier keys a configuration may leave out. They apply
// to the notifiers of the type that takes the key.
const (
	// DefaultPagerDutyURL is where a pagerduty notifier sends its events.
	DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
	// DefaultSeverity is the severity of a pagerduty notifier's alerts.
	DefaultSeverity = "warning"
	// DefaultSMTPTLS is how an email notifier secures its connection.
	DefaultSMTPTLS = SMTPStartTLS
	// DefaultGroupMax is how many events one grouped message holds at most.
	DefaultGroupMax = 20
)

// The TLS modes of an email notifier's SMTP connection.
const (
	// SMTPStartTLS upgrades a plaintext connection with STARTTLS, and never
	// falls back to plaintext. Default port 587.
	SMTPStartTLS = "starttls"
	// SMTPTLS speaks TLS from the first byte. Default port 465.
	SMTPTLS = "tls"
	// SMTPNoTLS speaks plaintext, for a relay on the same host or network;
	// it takes no password. Default port 25.
	SMTPNoTLS = "none"
)

// smtpPorts are the default ports of the TLS modes.
var smtpPorts = map[string]int{SMTPStartTLS: 587, SMTPTLS: 465, SMTPNoTLS: 25}

// Limits of a notifier's group.
const (
	// MaxGroupWait bounds group.wait: a notification held longer is news
	// no more.
	MaxGroupWait = time.Hour
	// MaxGroupMax bounds group.max, and with it the size of one grouped
	// delivery.
	MaxGroupMax = 100
)

// Notifier is one destination of events: a Standard Webhooks endpoint, a
// Slack, Microsoft Teams or Discord channel, PagerDuty, or email. Each type
// takes only its own keys; Validate says which.
type Notifier struct {
	// Name identifies the notifier in watches[].notify and in the store.
	Name string `yaml:"name"`
	// Type is one of NotifierTypes.
	Type string `yaml:"type"`
	// URL is where events are posted. It is a Secret because a Slack,
	// Teams or Discord URL is a credential and a webhook URL may embed one.
	// A pagerduty notifier defaults it to DefaultPagerDutyURL; an email
	// notifier has none.
	URL Secret `yaml:"url"`
	// Secret is a webhook's signing secret, "whsec_" followed by base64.
	Secret Secret `yaml:"secret"`
	// Secrets are more signing secrets of a webhook. More than one lets a
	// receiver rotate keys; every one signs. See SigningSecrets.
	Secrets []Secret `yaml:"secrets"`
	// Headers are extra HTTP headers of a webhook, by name. Their values
	// may hold credentials, so they are Secrets too.
	Headers map[string]Secret `yaml:"headers"`
	// RoutingKey is a pagerduty notifier's integration key (Events API v2).
	RoutingKey Secret `yaml:"routing_key"`
	// Severity is a pagerduty notifier's alert severity: critical, error,
	// warning (the default) or info.
	Severity string `yaml:"severity"`
	// SMTP is an email notifier's mail server.
	SMTP SMTP `yaml:"smtp"`
	// From is an email notifier's sender address.
	From string `yaml:"from"`
	// To are an email notifier's recipients, at least one.
	To []string `yaml:"to"`
	// Template replaces the default title and text of a chat-like
	// notifier's messages (slack, teams, discord, email).
	Template Template `yaml:"template"`
	// Group gathers the events of a chat-like notifier into fewer
	// messages; the zero Group sends one message per event.
	Group Group `yaml:"group"`
	// Events, when not empty, limits the notifier to these event types,
	// from diff.EventTypes.
	Events []string `yaml:"events"`
}

// SMTP is the mail server of an email notifier.
type SMTP struct {
	// Host is the server's host name or IP address.
	Host string `yaml:"host"`
	// Port is the server's port; by default 587 for starttls, 465 for tls
	// and 25 for none.
	Port int `yaml:"port"`
	// TLS is SMTPStartTLS (the default), SMTPTLS or SMTPNoTLS.
	TLS string `yaml:"tls"`
	// Username and Password authenticate (SMTP AUTH), over TLS only; both
	// or neither.
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// Template is a chat-like notifier's message template: Go text/template
// sources over the event. An empty source keeps the default.
type Template struct {
	// Title replaces the default title (Slack's header, the Teams card's
	// heading, the Discord embed's title, the email's subject).
	Title string `yaml:"title"`
	// Text replaces the default text under the title.
	Text string `yaml:"text"`
}

// IsZero reports whether the template changes nothing.
func (t Template) IsZero() bool { return t.Title == "" && t.Text == "" }

// Group gathers the events of a chat-like notifier that arrive within Wait
// of the first into one message of at most Max events.
type Group struct {
	// Wait is how long the first event of a group waits for others; 0
	// (the zero Group) sends every event alone.
	Wait time.Duration `yaml:"wait"`
	// Max is how many events one message holds at most; DefaultGroupMax
	// when a group is configured without it.
	Max int `yaml:"max"`
}

// IsZero reports whether no grouping is configured.
func (g Group) IsZero() bool { return g == Group{} }

// UnmarshalYAML decodes a group over its default Max.
func (g *Group) UnmarshalYAML(n *yaml.Node) error {
	type plain Group
	p := plain{Max: DefaultGroupMax}
	if err := n.Load(&p, yaml.WithKnownFields()); err != nil {
		return err
	}
	*g = Group(p)
	return nil
}

// UnmarshalYAML decodes a notifier and fills in the defaults of its type:
// a pagerduty notifier's url and severity, an email notifier's TLS mode
// and port.
func (n *Notifier) UnmarshalYAML(node *yaml.Node) error {
	type plain Notifier
	var p plain
	if err := node.Load(&p, yaml.WithKnownFields()); err != nil {
		return err
	}
	*n = Notifier(p)
	switch n.Type {
	case TypePagerDuty:
		if n.URL.IsZero() {
			n.URL = NewSecret(DefaultPagerDutyURL)
		}
		if n.Severity == "" {
			n.Severity = DefaultSeverity
		}
	case TypeEmail:
		if n.SMTP.TLS == "" {
			n.SMTP.TLS = DefaultSMTPTLS
		}
		if n.SMTP.Port == 0 {
			n.SMTP.Port = smtpPorts[n.SMTP.TLS]
		}
	}
	return nil
}

// ChatLike reports whether the notifier's type renders messages for
// people (slack, teams, discord, email): those take a template and a
// group.
func (n Notifier) ChatLike() bool { return slices.Contains(chatTypes, n.Type) }

// Wants reports whether the notifier takes events of the given type.
func (n Notifier) Wants(eventType string) bool {
	return len(n.Events) == 0 || slices.Contains(n.Events, eventType)
}

// SigningSecrets returns a webhook's signing secrets: Secret, when set,
// then Secrets.
func (n Notifier) SigningSecrets() []Secret {
	if n.Secret.IsZero() {
		return slices.Clone(n.Secrets)
	}
	return append([]Secret{n.Secret}, n.Secrets...)
}

// RedactedURL returns the scheme and host of the notifier's URL, such as
// "https://hooks.slack.com/…", for output that must not reveal the path or
// query, which may hold a token. It returns "[redacted]" when the URL does
// not parse.
func (n Notifier) RedactedURL() string {
	if r := redact.URL(n.URL.Value()); r != "" {
		return r + "/…"
	}
	return redacted
}

// Target describes where the notifier delivers, without any secret: the
// redacted URL, or an email notifier's server as "smtp://host:port".
func (n Notifier) Target() string {
	if n.Type == TypeEmail {
		return "smtp://" + net.JoinHostPort(n.SMTP.Host, strconv.Itoa(n.SMTP.Port))
	}
	return n.RedactedURL()
}
