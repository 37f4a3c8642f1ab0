package config

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/stdwebhooks"
)

// severities are the alert severities PagerDuty accepts.
var severities = []string{"critical", "error", "warning", "info"}

// smtpModes are the values of an email notifier's smtp.tls.
var smtpModes = []string{SMTPStartTLS, SMTPTLS, SMTPNoTLS}

// typedKey is a notifier key that only some types take.
type typedKey struct {
	key   string   // as written in YAML
	what  string   // as a message names it
	types []string // the types that take it
	set   func(*Notifier) bool
}

// typedKeys are the notifier keys that only some types take; any other
// type that sets one is told which types take it.
var typedKeys = []typedKey{
	{"url", "url", []string{TypeWebhook, TypeSlack, TypeTeams, TypePagerDuty, TypeDiscord}, func(n *Notifier) bool { return !n.URL.IsZero() }},
	{"secret", "signing secret", []string{TypeWebhook}, func(n *Notifier) bool { return !n.Secret.IsZero() }},
	{"secrets", "signing secret", []string{TypeWebhook}, func(n *Notifier) bool { return len(n.Secrets) > 0 }},
	{"headers", "headers", []string{TypeWebhook}, func(n *Notifier) bool { return len(n.Headers) > 0 }},
	{"routing_key", "routing key", []string{TypePagerDuty}, func(n *Notifier) bool { return !n.RoutingKey.IsZero() }},
	{"severity", "severity", []string{TypePagerDuty}, func(n *Notifier) bool { return n.Severity != "" }},
	{"smtp", "smtp server", []string{TypeEmail}, func(n *Notifier) bool { return n.SMTP != SMTP{} }},
	{"from", "from address", []string{TypeEmail}, func(n *Notifier) bool { return n.From != "" }},
	{"to", "recipients", []string{TypeEmail}, func(n *Notifier) bool { return len(n.To) > 0 }},
	{"template", "template", chatTypes, func(n *Notifier) bool { return !n.Template.IsZero() }},
	{"group", "group", chatTypes, func(n *Notifier) bool { return !n.Group.IsZero() }},
}

// notifiers checks every notifier: its name and type, that it sets only
// keys its type takes, and the rules of its type. Templates are not parsed
// here: their language and helpers belong to the notify package, and
// `check` renders every one.
func (v *validator) notifiers(ns []Notifier, maxAge time.Duration) {
	first := make(map[string]int)
	for i := range ns {
		n := &ns[i]
		p := fmt.Sprintf("notifiers[%d]", i)
		v.name(p, n.Name, first, "notifiers", i)
		switch {
		case n.Type == "":
			v.add(p+".type", "required: one of %s", strings.Join(NotifierTypes, ", "))
		case !slices.Contains(NotifierTypes, n.Type):
			v.add(p+".type", "must be one of %s, got %s", strings.Join(NotifierTypes, ", "), v.quote(p+".type", n.Type))
		default:
			v.typedKeys(p, n)
		}
		switch n.Type {
		case TypeWebhook:
			v.notifierURL(p, n)
			v.webhook(p, n)
		case TypeSlack, TypeTeams, TypeDiscord:
			v.notifierURL(p, n)
		case TypePagerDuty:
			v.notifierURL(p, n)
			v.pagerDuty(p, n)
		case TypeEmail:
			v.email(p, n)
		}
		if n.ChatLike() && !n.Group.IsZero() {
			v.group(p+".group", n.Group, maxAge)
		}
		each(v, p+".events", n.Events, "event type", func(ep, e string) {
			if !slices.Contains(diff.EventTypes, e) {
				v.add(ep, "unknown event type %s; known: %s", v.quote(ep, e), strings.Join(diff.EventTypes, ", "))
			}
		})
	}
}

// typedKeys reports each key that n sets but its type does not take.
func (v *validator) typedKeys(p string, n *Notifier) {
	for _, k := range typedKeys {
		if slices.Contains(k.types, n.Type) || !k.set(n) {
			continue
		}
		v.add(p+"."+k.key, "%s %s notifier takes no %s; only %s notifiers do", article(n.Type), n.Type, k.what, orList(k.types))
	}
}

// article is the indefinite article of a notifier type.
func article(typ string) string {
	if strings.ContainsRune("aeiou", rune(typ[0])) {
		return "an"
	}
	return "a"
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// notifierURL checks the url of a notifier that posts to one.
func (v *validator) notifierURL(p string, n *Notifier) {
	if err := checkHTTPURL(n.URL.Value()); n.URL.IsZero() {
		v.add(p+".url", "required: set url or url_file")
	} else if err != nil {
		v.add(p+".url", "%v", err)
	}
}

// webhook checks a webhook's signing secrets and headers.
func (v *validator) webhook(p string, n *Notifier) {
	if n.Secret.IsZero() && len(n.Secrets) == 0 {
		v.add(p+".secret", "required for a webhook: set secret, secret_file or secrets")
	}
	if !n.Secret.IsZero() {
		v.signingSecret(p+".secret", n.Secret)
	}
	for j, s := range n.Secrets {
		v.signingSecret(fmt.Sprintf("%s.secrets[%d]", p, j), s)
	}
	v.headers(p+".headers", n.Headers)
}

// pagerDuty checks a pagerduty notifier's routing key and severity. The
// key is never quoted.
func (v *validator) pagerDuty(p string, n *Notifier) {
	switch {
	case n.RoutingKey.IsZero():
		v.add(p+".routing_key", "required: set routing_key or routing_key_file")
	case !printable(n.RoutingKey.Value()):
		v.add(p+".routing_key", "must not contain spaces or control characters")
	}
	if !slices.Contains(severities, n.Severity) {
		v.add(p+".severity", "must be one of %s, got %s", strings.Join(severities, ", "), v.quote(p+".severity", n.Severity))
	}
}

// email checks an email notifier's server and addresses. The password is
// never quoted.
func (v *validator) email(p string, n *Notifier) {
	s, sp := n.SMTP, p+".smtp"
	switch {
	case s.Host == "":
		v.add(sp+".host", "required: the mail server's host name or IP address")
	case !validHost(s.Host):
		v.add(sp+".host", "must be a host name or an IP address, got %s", v.quote(sp+".host", s.Host))
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add(sp+".port", "must be between 1 and 65535, got %d", s.Port)
	}
	tlsOK := slices.Contains(smtpModes, s.TLS)
	if !tlsOK {
		v.add(sp+".tls", "must be one of %s, got %s", strings.Join(smtpModes, ", "), v.quote(sp+".tls", s.TLS))
	}
	switch {
	case s.Username != "" && s.Password.IsZero():
		v.add(sp+".password", "required with smtp.username: set password or password_file")
	case s.Username == "" && !s.Password.IsZero():
		v.add(sp+".username", "required with smtp.password")
	case !s.Password.IsZero() && s.TLS == SMTPNoTLS:
		v.add(sp+".password", "needs tls %s or %s: a password is never sent in plaintext", SMTPStartTLS, SMTPTLS)
	}
	if strings.ContainsAny(s.Username, "\r\n\x00") {
		v.add(sp+".username", "must not contain line breaks or NUL")
	}
	if strings.ContainsAny(s.Password.Value(), "\r\n\x00") {
		v.add(sp+".password", "must not contain line breaks or NUL")
	}
	if n.From == "" {
		v.add(p+".from", "required: the sender's address")
	} else if _, err := mail.ParseAddress(n.From); err != nil {
		v.add(p+".from", "%s is not an email address", v.quote(p+".from", n.From))
	}
	if len(n.To) == 0 {
		v.add(p+".to", "required: at least one recipient")
	}
	each(v, p+".to", n.To, "recipient", func(tp, to string) {
		if _, err := mail.ParseAddress(to); err != nil {
			v.add(tp, "%s is not an email address", v.quote(tp, to))
		}
	})
}

// validHost reports whether h is an IP address or could be a host name:
// no spaces, control characters or URL punctuation.
func validHost(h string) bool {
	return net.ParseIP(h) != nil || printable(h) && !strings.ContainsAny(h, "/:@[]?#")
}

// group checks a chat-like notifier's group. Its wait must be shorter
// than delivery.max_age (when that is valid), or a group's first attempt
// would come when its events are already too old to retry.
func (v *validator) group(p string, g Group, maxAge time.Duration) {
	switch {
	case g.Wait <= 0:
		v.add(p+".wait", "must be > 0, such as 30s (leave group out to send every event alone)")
	case g.Wait > MaxGroupWait:
		v.add(p+".wait", "must be at most %s", MaxGroupWait)
	case maxAge > 0 && g.Wait >= maxAge:
		v.add(p+".wait", "must be shorter than delivery.max_age (%s)", maxAge)
	}
	switch {
	case g.Max < 2:
		v.add(p+".max", "must be >= 2 (leave group out to send every event alone)")
	case g.Max > MaxGroupMax:
		v.add(p+".max", "must be at most %d", MaxGroupMax)
	}
}

// signingSecret checks a webhook's signing secret, never quoting it.
func (v *validator) signingSecret(path string, s Secret) {
	if _, err := stdwebhooks.DecodeSecret(s.Value()); err != nil {
		v.add(path, "%v", err)
	}
}

// headers checks a webhook's extra headers. Their values may be
// credentials and never appear in a message.
func (v *validator) headers(path string, h map[string]Secret) {
	canonical := make(map[string]string)
	for _, name := range slices.Sorted(maps.Keys(h)) {
		hp := path + "." + name
		c := http.CanonicalHeaderKey(name)
		switch {
		case !headerPattern.MatchString(name):
			v.add(hp, "not a valid header name")
		case stdwebhooks.Reserved(name):
			v.add(hp, "set by rtkwatchd; it cannot be overridden")
		case canonical[c] != "":
			v.add(hp, "duplicate header (also %s)", canonical[c])
		}
		canonical[c] = name
		if strings.ContainsAny(h[name].Value(), "\r\n\x00") {
			v.add(hp, "value must not contain line breaks or NUL")
		}
	}
}
