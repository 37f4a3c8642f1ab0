package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadNotifier loads a config whose only notifier is the YAML flow mapping
// n, and returns the notifier or the error.
func loadNotifier(t *testing.T, n string) (Notifier, error) {
	t.Helper()
	doc := "api: {account_id: abc, token: t}\nnotifiers:\n  - " + n + "\nwatches: [{name: w, app_id: a, all_live: true}]\n"
	cfg, err := Load(strings.NewReader(doc), LoadOptions{Getenv: testEnv(t)})
	if err != nil {
		return Notifier{}, err
	}
	return cfg.Notifiers[0], nil
}

func TestNotifierDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Notifier
	}{
		{
			name: "pagerduty",
			yaml: "{name: pd, type: pagerduty, routing_key: k}",
			want: Notifier{Name: "pd", Type: TypePagerDuty, URL: NewSecret(DefaultPagerDutyURL), RoutingKey: NewSecret("k"), Severity: "warning"},
		},
		{
			name: "email starttls",
			yaml: "{name: m, type: email, smtp: {host: h}, from: a@example.com, to: [b@example.com]}",
			want: Notifier{Name: "m", Type: TypeEmail, SMTP: SMTP{Host: "h", Port: 587, TLS: SMTPStartTLS}, From: "a@example.com", To: []string{"b@example.com"}},
		},
		{
			name: "email tls",
			yaml: "{name: m, type: email, smtp: {host: h, tls: tls}, from: a@example.com, to: [b@example.com]}",
			want: Notifier{Name: "m", Type: TypeEmail, SMTP: SMTP{Host: "h", Port: 465, TLS: SMTPTLS}, From: "a@example.com", To: []string{"b@example.com"}},
		},
		{
			name: "email none",
			yaml: "{name: m, type: email, smtp: {host: h, tls: none}, from: a@example.com, to: [b@example.com]}",
			want: Notifier{Name: "m", Type: TypeEmail, SMTP: SMTP{Host: "h", Port: 25, TLS: SMTPNoTLS}, From: "a@example.com", To: []string{"b@example.com"}},
		},
		{
			name: "email port kept",
			yaml: "{name: m, type: email, smtp: {host: h, port: 2525}, from: a@example.com, to: [b@example.com]}",
			want: Notifier{Name: "m", Type: TypeEmail, SMTP: SMTP{Host: "h", Port: 2525, TLS: SMTPStartTLS}, From: "a@example.com", To: []string{"b@example.com"}},
		},
		{
			name: "group max",
			yaml: "{name: s, type: slack, url: https://hooks.slack.com/x, group: {wait: 30s}}",
			want: Notifier{Name: "s", Type: TypeSlack, URL: NewSecret("https://hooks.slack.com/x"), Group: Group{Wait: 30 * time.Second, Max: DefaultGroupMax}},
		},
		{
			name: "no defaults for slack",
			yaml: "{name: s, type: slack, url: https://hooks.slack.com/x}",
			want: Notifier{Name: "s", Type: TypeSlack, URL: NewSecret("https://hooks.slack.com/x")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadNotifier(t, tt.yaml)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("notifier (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNotifierEdges checks each bound of the notifier rules from both
// sides: the last good value loads, the first bad one names its field.
func TestNotifierEdges(t *testing.T) {
	const (
		slack = "{name: s, type: slack, url: https://hooks.slack.com/x, group: %s}"
		email = "{name: m, type: email, smtp: %s, from: a@example.com, to: [b@example.com]}"
	)
	tests := []struct {
		name, yaml, want string // want "" loads
	}{
		{"group wait 1ns", "{wait: 1ns}", ""},
		{"group wait 0", "{wait: 0s}", "group.wait: must be > 0"},
		{"group wait negative", "{wait: -1s}", "group.wait: must be > 0"},
		{"group wait 1h", "{wait: 1h}", ""},
		{"group wait over 1h", "{wait: 1h0m0.000000001s}", "group.wait: must be at most 1h0m0s"},
		{"group max 2", "{wait: 1s, max: 2}", ""},
		{"group max 1", "{wait: 1s, max: 1}", "group.max: must be >= 2"},
		{"group max 100", "{wait: 1s, max: 100}", ""},
		{"group max 101", "{wait: 1s, max: 101}", "group.max: must be at most 100"},
		{"group without wait", "{max: 5}", "group.wait: must be > 0"},
		{"port 1", "{host: h, port: 1}", ""},
		{"port 65535", "{host: h, port: 65535}", ""},
		{"port 65536", "{host: h, port: 65536}", "smtp.port: must be between 1 and 65535, got 65536"},
		{"port negative", "{host: h, port: -1}", "smtp.port: must be between 1 and 65535, got -1"},
		{"ipv6 host", "{host: '::1'}", ""},
		{"host with port", "{host: 'h:25'}", `smtp.host: must be a host name or an IP address, got "h:25"`},
		{"host with space", "{host: 'h h'}", `smtp.host: must be a host name or an IP address, got "h h"`},
		{"password over starttls", "{host: h, username: u, password: p}", ""},
		{"password over tls", "{host: h, tls: tls, username: u, password: p}", ""},
		{"password over none", "{host: h, tls: none, username: u, password: p}", "smtp.password: needs tls starttls or tls"},
		{"password with a line break", "{host: h, username: u, password: \"p\\r\\nQUIT\"}", "smtp.password: must not contain line breaks or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := slack
			if strings.HasPrefix(tt.yaml, "{host") {
				format = email
			}
			_, err := loadNotifier(t, strings.Replace(format, "%s", tt.yaml, 1))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Load: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), "notifiers[0]."+tt.want)):
				t.Errorf("Load: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestNotifierSecretsNotQuoted checks that no error about a routing key
// or an SMTP password repeats it.
func TestNotifierSecretsNotQuoted(t *testing.T) {
	const leak = "Leaky Key\tValue"
	for _, n := range []string{
		"{name: pd, type: pagerduty, routing_key: \"" + leak + "\"}",
		"{name: m, type: email, smtp: {host: h, tls: none, username: u, password: \"" + leak + "\"}, from: a@example.com, to: [b@example.com]}",
		"{name: s, type: slack, url: https://hooks.slack.com/x, routing_key: \"" + leak + "\"}",
	} {
		_, err := loadNotifier(t, n)
		if err == nil {
			t.Errorf("Load(%s) succeeded, want an error", n)
			continue
		}
		if strings.Contains(err.Error(), "Leaky") || strings.Contains(err.Error(), "Value") {
			t.Errorf("error %q quotes the secret", err)
		}
	}
}

func TestNotifierTarget(t *testing.T) {
	tests := []struct {
		n    Notifier
		want string
	}{
		{Notifier{Type: TypeSlack, URL: NewSecret("https://hooks.slack.com/services/T/B/secret")}, "https://hooks.slack.com/…"},
		{Notifier{Type: TypePagerDuty, URL: NewSecret(DefaultPagerDutyURL)}, "https://events.pagerduty.com/…"},
		{Notifier{Type: TypeEmail, SMTP: SMTP{Host: "smtp.example.com", Port: 587}}, "smtp://smtp.example.com:587"},
		{Notifier{Type: TypeEmail, SMTP: SMTP{Host: "::1", Port: 25}}, "smtp://[::1]:25"},
		{Notifier{Type: TypeDiscord, URL: NewSecret("not a url")}, "[redacted]"},
	}
	for _, tt := range tests {
		if got := tt.n.Target(); got != tt.want {
			t.Errorf("%s Target() = %q, want %q", tt.n.Type, got, tt.want)
		}
	}
}

// TestGroupWaitUnderMaxAge: a group must go out before its events are too
// old to retry.
func TestGroupWaitUnderMaxAge(t *testing.T) {
	for _, tt := range []struct {
		maxAge time.Duration
		want   string
	}{
		{time.Hour + time.Nanosecond, ""},
		{time.Hour, "notifiers[1].group.wait: must be shorter than delivery.max_age (1h0m0s)"},
	} {
		c := validConfig()
		c.Delivery.MaxAge = tt.maxAge
		c.Notifiers[1].Group = Group{Wait: time.Hour, Max: 2}
		err := c.Validate()
		if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
			t.Errorf("max_age %s: Validate() = %v, want %q", tt.maxAge, err, tt.want)
		}
	}
}

// TestNotifierEventsNameNotifierHealth: a notifier's events filter may name
// notifier.failing and notifier.recovered, which it then takes, and no
// other type; without them, it does not take them.
func TestNotifierEventsNameNotifierHealth(t *testing.T) {
	n, err := loadNotifier(t, "{name: pager, type: slack, url: https://hooks.slack.com/services/T0/B0/x, events: [notifier.failing, watch.failing]}")
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]bool{
		"notifier.failing": true, "watch.failing": true, "notifier.recovered": false, "session.started": false,
	} {
		if got := n.Wants(typ); got != want {
			t.Errorf("Wants(%s) = %v, want %v", typ, got, want)
		}
	}
	_, err = loadNotifier(t, "{name: pager, type: slack, url: https://hooks.slack.com/services/T0/B0/x, events: [notifier.recovered, notifier.failing_]}")
	if err == nil || !strings.Contains(err.Error(), `notifiers[0].events[1]: unknown event type "notifier.failing_"`) ||
		strings.Contains(err.Error(), "events[0]") {
		t.Errorf("error = %v, want events[1] alone unknown", err)
	}
}
