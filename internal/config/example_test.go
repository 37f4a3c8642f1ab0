package config

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadExample(t *testing.T) {
	cfg, err := LoadFile("../../config.example.yaml", LoadOptions{Getenv: testEnv(t)})
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if got, want := cfg.API.Token.Value(), testToken; got != want {
		t.Errorf("token = %q, want %q", got, want)
	}
	slack, ok := cfg.Notifier("slack-video")
	if !ok || slack.URL.Value() != testSlackURL {
		t.Errorf("slack-video notifier = %+v, %v; want URL from SLACK_WEBHOOK_URL", slack, ok)
	}
	ops, _ := cfg.Notifier("ops")
	if diff := cmp.Diff([]Secret{NewSecret(testWebhookSecret)}, ops.SigningSecrets()); diff != "" {
		t.Errorf("ops secrets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"town-hall"}, watchNames(cfg.Watches)); diff != "" {
		t.Errorf("watches (-want +got):\n%s", diff)
	}
}

func watchNames(ws []Watch) []string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return names
}

// TestLoadExampleEveryType loads config.example.yaml with the notifiers it
// comments out put back: in its notifiers list, a "#" and one space
// before a word is prose, any other "#" that starts a line comments out
// configuration.
func TestLoadExampleEveryType(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	in := false
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.HasPrefix(line, "notifiers:"):
			in = true
		case line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '\n':
			in = false
		}
		if in && commentedOut(line) {
			line = strings.Replace(line, "#", "", 1)
		}
		b.WriteString(line)
	}
	env := testEnv(t)
	more := map[string]string{
		"TEAMS_WEBHOOK_URL":   "https://example.webhook.office.com/workflows/x?sig=y",
		"PD_ROUTING_KEY":      "R0UTINGkey0123456789abcdef012345",
		"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/token",
		"SMTP_PASSWORD":       "smtp-password",
	}
	cfg, err := Load(strings.NewReader(b.String()), LoadOptions{Getenv: func(k string) string {
		if v, ok := more[k]; ok {
			return v
		}
		return env(k)
	}})
	if err != nil {
		t.Fatalf("Load:\n%s\n%v", b.String(), err)
	}
	var types []string
	for _, n := range cfg.Notifiers {
		types = append(types, n.Type)
	}
	if diff := cmp.Diff([]string{"webhook", "slack", "teams", "pagerduty", "discord", "email"}, types); diff != "" {
		t.Errorf("notifier types (-want +got):\n%s", diff)
	}
	slack, _ := cfg.Notifier("slack-video")
	if slack.Template.IsZero() || slack.Group.IsZero() {
		t.Errorf("slack-video = %+v, want its template and group", slack)
	}
	mail, _ := cfg.Notifier("mail")
	if mail.SMTP.Password.Value() != "smtp-password" || mail.SMTP.Port != 587 || mail.Template.IsZero() {
		t.Errorf("mail = %+v, want its password, port and template", mail)
	}
}

// commentedOut reports whether line is commented-out configuration: a "#"
// that starts it, followed by something other than one space and a word.
func commentedOut(line string) bool {
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "#")
	if !ok || strings.TrimSpace(rest) == "" {
		return false
	}
	return !(strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "  "))
}
