package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsNeverContainSecrets feeds a secret into every path that can
// fail and checks that no error message contains it.
func TestErrorsNeverContainSecrets(t *testing.T) {
	const s = "LEAK-Sup3rS3cret-x" // not base64, no whsec_ prefix
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretFile := writeFile("secret", s+"\n")
	whsecFile := writeFile("whsec", "whsec_"+s+"\n")
	spacedFile := writeFile("spaced", "Bearer "+s+"\n")
	badURLFile := writeFile("url", "ftp://"+s+"@host/"+s+"\n")

	env := map[string]string{
		"SECRET":       s,
		"WHSEC":        "whsec_" + s,
		"GOOD_WHSEC":   testWebhookSecret,
		"SHORT_WHSEC":  "whsec_" + "AAECAwQFBgc=",
		"SECRET_URL":   "hooks.example.com/" + s,
		"BAD_ESC_URL":  "https://h/%zz" + s,
		"SPACED_TOKEN": s + " " + s,
	}
	head := "api: {account_id: abc, token: tok}\nwatches: [{name: w, app_id: a, all_live: true}]\n"
	hook := func(fields string) string {
		return head + "notifiers:\n  - {name: n, type: webhook, url: 'https://h/x', " + fields + "}\n"
	}
	slack := func(fields string) string {
		return head + "notifiers:\n  - {name: n, type: slack, " + fields + "}\n"
	}

	docs := map[string]string{
		"token with space":         "api: {account_id: abc, token: '" + s + " " + s + "'}\nwatches: [{name: w, app_id: a, all_live: true}]\n",
		"token from env w/ space":  "api: {account_id: abc, token: '${SPACED_TOKEN}'}\n",
		"token file with space":    "api: {account_id: abc, token_file: " + spacedFile + "}\n",
		"token list":               "api: {account_id: abc, token: [" + s + "]}\n",
		"token mapping":            "api: {account_id: abc, token: {" + s + ": " + s + "}}\n",
		"token and file":           "api: {account_id: abc, token: " + s + ", token_file: " + secretFile + "}\n",
		"unterminated var":         "api: {account_id: abc, token: '" + s + "${" + s + "'}\n",
		"invalid var name":         "api: {account_id: abc, token: '${" + s + "}'}\n",
		"unterminated quote":       "api:\n  account_id: abc\n  token: \"" + s + "\n",
		"int from env":             "api: {account_id: abc, token: x, requests_per_5m: '${SECRET}'}\n",
		"duration from env":        "api: {account_id: abc, token: x, timeout: '${SECRET}'}\n",
		"bool from env":            "api: {account_id: abc, token: x}\nwatches: [{name: w, app_id: a, all_live: '${SECRET}'}]\n",
		"float from env":           "api: {account_id: abc, token: x}\nwatches: [{name: w, app_id: a, thresholds: {minutes_consumed: ['${SECRET}']}}]\n",
		"url no scheme":            slack("url: '" + s + "'"),
		"url from env":             slack("url: '${SECRET_URL}'"),
		"url bad escape":           slack("url: '${BAD_ESC_URL}'"),
		"url ftp":                  slack("url: 'ftp://" + s + ":" + s + "@host/" + s + "?" + s + "'"),
		"url file":                 slack("url_file: " + badURLFile),
		"url list":                 slack("url: [" + s + "]"),
		"secret no prefix":         hook("secret: '" + s + "'"),
		"secret bad base64":        hook("secret: 'whsec_" + s + "'"),
		"secret env":               hook("secret: '${WHSEC}'"),
		"secret short":             hook("secret: '${SHORT_WHSEC}'"),
		"secret file":              hook("secret_file: " + whsecFile),
		"secrets list":             hook("secrets: ['" + s + "', 'whsec_" + s + "']"),
		"secrets scalar":           hook("secrets: '" + s + "'"),
		"secret and file":          hook("secret: '" + s + "', secret_file: " + secretFile),
		"slack with secret":        slack("url: 'https://h/x', secret: '" + s + "'"),
		"header value":             hook("secret: '${GOOD_WHSEC}', headers: {Authorization: \"Bearer " + s + "\\r\\nX: " + s + "\"}"),
		"header value list":        hook("headers: {Authorization: [" + s + "]}"),
		"slack header":             slack("url: 'https://h/x', headers: {Authorization: '" + s + "'}"),
		"schedule from env":        head + "watches: [{name: w, app_id: a, all_live: true, schedule: '${SECRET_URL}'}]\n",
		"schedule fields from env": head + "watches: [{name: w, app_id: a, all_live: true, schedule: '${SPACED_TOKEN}'}]\n",
		"log level from env":       head + "log: {level: '${SECRET}'}\n",
		"log format from env":      head + "log: {format: '${SECRET}'}\n",
		"admin listen from env":    head + "admin: {listen: '${SECRET}'}\n",
		"admin port from env":      head + "admin: {listen: 'localhost:${SECRET}'}\n",
		"watch name from env":      "api: {account_id: abc, token: tok}\nwatches: [{name: '${SECRET}', app_id: a, all_live: true}, {name: '${SECRET}', app_id: a, all_live: true}]\n",
		"meetings from env":        head + "watches: [{name: w, app_id: a, meetings: ['${SECRET}', '${SECRET}']}]\n",
		"notify from env":          head + "watches: [{name: w, app_id: a, all_live: true, notify: ['${SECRET}']}]\n",
		"notifier type from env":   head + "notifiers:\n  - {name: n, type: '${SECRET}', url: 'https://h/x'}\n",
		"event type from env":      slack("url: 'https://h/x', events: ['${SECRET}', '${SECRET}']"),
		"smtp fields from env":     head + "notifiers:\n  - {name: m, type: email, smtp: {host: '${SECRET}', tls: '${SECRET}'}, from: '${SECRET}', to: ['${SECRET}', '${SECRET}']}\n",
		"silence fields from env":  head + "silences:\n  - {name: s, watches: ['${SECRET}'], notifiers: ['${SECRET}'], schedule: '${SECRET_URL}', timezone: '${SECRET}', duration: 1h}\n",
		"secret next to unset":     "api: {account_id: abc, token: '${UNSET}'}\nlog: {level: '${SECRET}'}\nwatches: [{name: w, app_id: a, all_live: true, schedule: '${SECRET_URL}'}]\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			_, err := Load(strings.NewReader(doc), LoadOptions{Getenv: func(k string) string { return env[k] }})
			if err == nil {
				t.Fatalf("Load succeeded; want an error")
			}
			t.Logf("%v", err)
			if strings.Contains(err.Error(), s) {
				t.Errorf("error contains the secret:\n%v", err)
			}
			var errs Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					if strings.Contains(e.Field, s) || strings.Contains(e.Err.Error(), s) {
						t.Errorf("FieldError contains the secret: %v", e)
					}
				}
			}
		})
	}

	t.Run("Validate", func(t *testing.T) {
		c := validConfig()
		c.API.Token = NewSecret(s + "\n")
		c.Notifiers[0].URL = NewSecret("mailto:" + s)
		c.Notifiers[0].Secrets = []Secret{NewSecret(s), NewSecret("whsec_" + s)}
		c.Notifiers[0].Headers = map[string]Secret{"Authorization": NewSecret(s + "\n")}
		c.Notifiers[1].URL = NewSecret(s)
		c.Notifiers[1].Secrets = []Secret{NewSecret(s)}
		err := c.Validate()
		if err == nil {
			t.Fatal("Validate succeeded")
		}
		if strings.Contains(err.Error(), s) {
			t.Errorf("error contains the secret:\n%v", err)
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != 7 {
			t.Errorf("got %d problems, want 7:\n%v", n, err)
		}
	})
}
