package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleConfig is the repository's commented reference config.
const exampleConfig = "../../config.example.yaml"

func TestCheckExampleConfig(t *testing.T) {
	r := runCLI(t, secretEnv(), "check", "--config", exampleConfig)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	for _, want := range []string{
		"config ../../config.example.yaml is valid\n",
		"api https://api.cloudflare.com/… account 023e105f4ecef8ad9ca31a8372d0c353 timeout 10s\n",
		"budget 21 of 1000 requests per 5 minutes (2%)\n",
		"store /var/lib/rtkwatchd/state.db\n",
		"admin 127.0.0.1:9464\n",
		"delivery timeout 10s, at most 15 attempts within 24h\n",
		"retries attempts at 0s, 1s, 5s, 21s, 1m25s, 5m41s, 22m45s, 1h31m1s, then every 3h12m43s, the 15th and last at 24h after the event",
		"circuit a notifier whose deliveries all fail for 10m is paused and probed every minute; the others get notifier.failing\n",
		"heartbeat disabled\n",
		"notifiers (2)\n",
		"  ops webhook https://hooks.example.com/… all events 1 signing secret; headers X-Team\n",
		"  slack-video slack https://hooks.slack.com/… session.started, session.ended, watch.failing",
		"watches (1)\n",
		"  WATCH APP MEETINGS SCHEDULE POLLS/5m REQUESTS/5m RULES NOTIFY\n",
		"  town-hall 3f1a6a55-7e2c-4d0b-9a44-1c2b3d4e5f60 1 @every 30s 10 10 participants 50,100 (±5); minutes 600; duration 2h,8h; idle ≤0 for 15m; recordings; failing after 3 ops, slack-video\n",
		"app-wide reads (2)\n",
		"  3f1a6a55-7e2c-4d0b-9a44-1c2b3d4e5f60 recordings town-hall @every 30s ≥10 - (the watches')\n",
		"  3f1a6a55-7e2c-4d0b-9a44-1c2b3d4e5f60 usage usage block @every 10m 1 daily 10000 min; monthly 200000 min; price 0.002 per participant minute ops\n",
	} {
		if !strings.Contains(squeeze(r.stdout), squeeze(want)) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// squeeze collapses every run of spaces to one, so that assertions on
// tabular output do not depend on column widths.
func squeeze(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

func TestCheckConfigFromEnvironment(t *testing.T) {
	env := secretEnv()
	env["RTKWATCHD_CONFIG"] = exampleConfig
	r := runCLI(t, env, "check")
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "config ../../config.example.yaml is valid\n") {
		t.Errorf("check did not read $RTKWATCHD_CONFIG:\n%s", r.stdout)
	}
}

// checkBase is the config the error cases of TestCheckInvalid break, one
// mistake each. Its line numbers appear in the expected messages.
const checkBase = `api:
  account_id: 023e105f4ecef8ad9ca31a8372d0c353
  token: ${CLOUDFLARE_API_TOKEN}
  base_url: https://api.cloudflare.com/client/v4/
  timeout: 10s
  requests_per_5m: 1000
store:
  path: /var/lib/rtkwatchd/state.db
admin: {listen: ""}
notifiers:
  - name: ops
    type: webhook
    url: https://hooks.example.com/rtk
    secret: ${RTKWATCHD_WEBHOOK_SECRET}
  - name: slack-video
    type: slack
    url: ${SLACK_WEBHOOK_URL}
    events: [session.started, session.ended, watch.failing]
watches:
  - name: town-hall
    app_id: app-1
    meetings: [meeting-1, meeting-2]
    schedule: "@every 30s"
    thresholds:
      participants: [50, 100]
      hysteresis: 5
      minutes_consumed: [600]
    failing_after: 3
    notify: [ops, slack-video]
`

// writeFile writes content to name under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckBaseIsValid(t *testing.T) {
	path := writeFile(t, t.TempDir(), "config.yaml", checkBase)
	r := runCLI(t, secretEnv(), "check", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	if !strings.Contains(squeeze(r.stdout), "budget 20 of 1000 requests per 5 minutes (2%)\n") {
		t.Errorf("check output lacks the budget line:\n%s", r.stdout)
	}
}

// TestCheckRedactsBaseURL: check shows api.base_url as scheme and host
// only, since its user information, path or query may hold a proxy's
// credentials.
func TestCheckRedactsBaseURL(t *testing.T) {
	config := strings.Replace(checkBase, "base_url: https://api.cloudflare.com/client/v4/",
		"base_url: https://proxy-user:proxyPASS@proxy.example:8443/proxySECRETpath/client/v4/?key=proxyKEY", 1)
	path := writeFile(t, t.TempDir(), "config.yaml", config)
	r := runCLI(t, secretEnv(), "check", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	if !strings.Contains(squeeze(r.stdout), "api https://proxy.example:8443/… account ") {
		t.Errorf("check output lacks the redacted base URL:\n%s", r.stdout)
	}
	for _, secret := range []string{"proxy-user", "proxyPASS", "proxySECRETpath", "proxyKEY"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("check output quotes %q:\n%s%s", secret, r.stdout, r.stderr)
		}
	}
}

// invalidCase is one mistake in checkBase and what check must say of it.
type invalidCase struct {
	name    string
	old     string // replaced in checkBase by new
	new     string
	env     map[string]string // set over secretEnv(); "" unsets
	want    []string          // in stderr
	secrets []string          // further strings that must not be printed
}

func TestCheckInvalid(t *testing.T) {
	checkInvalid(t, []invalidCase{
		{
			name: "unknown key",
			old:  "    failing_after: 3\n", new: "    failing_after: 3\n    retries: 4\n",
			want: []string{`line 29: watches[0]: unknown field "retries"`},
		},
		{
			name: "misspelt key",
			old:  "    schedule:", new: "    shedule:",
			want: []string{`line 23: watches[0]: unknown field "shedule" (did you mean "schedule"?)`},
		},
		{
			name: "bad cron spec",
			old:  `"@every 30s"`, new: `"@evry 1m"`,
			want: []string{`line 23: watches[0].schedule: parse "@evry 1m"`},
		},
		{
			name: "bad six-field cron spec",
			old:  `"@every 30s"`, new: `"61 * * * * *"`,
			want: []string{`line 23: watches[0].schedule: parse "61 * * * * *"`},
		},
		{
			name: "unknown notifier name",
			old:  "notify: [ops, slack-video]", new: "notify: [ops, pager]",
			want: []string{`line 29: watches[0].notify[1]: unknown notifier "pager"`},
		},
		{
			name: "negative threshold",
			old:  "participants: [50, 100]", new: "participants: [100, -5]",
			want: []string{"line 25: watches[0].thresholds.participants[1]: must be > 0"},
		},
		{
			name: "missing account id",
			old:  "  account_id: 023e105f4ecef8ad9ca31a8372d0c353\n", new: "",
			want: []string{"api.account_id: required"},
		},
		{
			name: "malformed webhook url",
			old:  "url: https://hooks.example.com/rtk", new: "url: hooks.example.com/rtk",
			want: []string{"line 13: notifiers[0].url: must be an absolute http:// or https:// URL"},
		},
		{
			name:    "malformed slack url from the environment",
			env:     map[string]string{"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T00SECRET/B00SECRET/XXXXslackSECRETpath"},
			want:    []string{"line 17: notifiers[1].url: must be an absolute http:// or https:// URL"},
			secrets: []string{"hooks.slack.com/services"},
		},
		{
			name:    "secret without whsec_",
			env:     map[string]string{"RTKWATCHD_WEBHOOK_SECRET": "plainSECRETvalue0123456789"},
			want:    []string{`line 14: notifiers[0].secret: must start with "whsec_" followed by base64`},
			secrets: []string{"plainSECRETvalue0123456789"},
		},
		{
			name:    "secret that is not base64",
			env:     map[string]string{"RTKWATCHD_WEBHOOK_SECRET": "whsec_not*base64*SECRETvalue"},
			want:    []string{`line 14: notifiers[0].secret: must be "whsec_" followed by valid standard base64`},
			secrets: []string{"not*base64*SECRETvalue"},
		},
		{
			name:    "secret too short",
			env:     map[string]string{"RTKWATCHD_WEBHOOK_SECRET": "whsec_c2hvcnRTRUM="},
			want:    []string{"line 14: notifiers[0].secret: must decode to at least 16 bytes, not 8"},
			secrets: []string{"c2hvcnRTRUM="},
		},
		{
			name: "two notifiers with one name",
			old:  "  - name: slack-video\n", new: "  - name: ops\n",
			want: []string{`line 15: notifiers[1].name: duplicate name "ops" (also notifiers[0])`},
		},
		{
			name: "broken yaml",
			old:  "meetings: [meeting-1, meeting-2]", new: "meetings: [meeting-1, meeting-2",
			want: []string{"invalid YAML"},
		},
		{
			name: "bad duration",
			old:  "timeout: 10s", new: "timeout: 10 parsecs",
			want: []string{`line 5: api.timeout: must be a duration such as "30s" or "1h30m", got "10 parsecs"`},
		},
		{
			name: "missing token file",
			old:  "token: ${CLOUDFLARE_API_TOKEN}", new: "token_file: /nonexistent/rtkwatchd/cf-token",
			want: []string{`line 3: api.token_file: read "/nonexistent/rtkwatchd/cf-token": no such file or directory`},
		},
		{
			name: "missing secret file",
			old:  "secret: ${RTKWATCHD_WEBHOOK_SECRET}", new: "secret_file: creds/webhook-secret",
			want: []string{"line 14: notifiers[0].secret_file: read ", "creds/webhook-secret", "no such file or directory"},
		},
		{
			name: "unset variable",
			env:  map[string]string{"CLOUDFLARE_API_TOKEN": ""},
			want: []string{"line 3: api.token: environment variable CLOUDFLARE_API_TOKEN is not set"},
		},
		{
			name: "budget above cloudflare's limit",
			old:  "requests_per_5m: 1000", new: "requests_per_5m: 5000",
			want: []string{"line 6: api.requests_per_5m: must be at most 1200 (Cloudflare's limit per token)"},
		},
		{
			name: "several mistakes at once",
			old:  "timeout: 10s\n  requests_per_5m: 1000", new: "timeout: -1s\n  requests_per_5m: 0",
			env: map[string]string{"RTKWATCHD_WEBHOOK_SECRET": "plainSECRETvalue0123456789"},
			want: []string{
				"is invalid (3 problems):\n",
				"\n  line 5: api.timeout: must be > 0\n",
				"\n  line 6: api.requests_per_5m: must be > 0\n",
				"\n  line 14: notifiers[0].secret: must start with",
			},
			secrets: []string{"plainSECRETvalue0123456789"},
		},
	})
}

// checkInvalid runs check on checkBase with each case's mistake: exit 2,
// every wanted line in stderr, no secret, no plan.
func checkInvalid(t *testing.T, tests []invalidCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := checkBase
			if tt.old != "" {
				if !strings.Contains(text, tt.old) {
					t.Fatalf("checkBase lacks %q", tt.old)
				}
				text = strings.Replace(text, tt.old, tt.new, 1)
			}
			env := secretEnv()
			for k, v := range tt.env {
				env[k] = v
			}
			path := writeFile(t, t.TempDir(), "config.yaml", text)
			r := runCLI(t, env, "check", "--config", path)
			r.wantCode(t, exitUsage)
			r.noSecrets(t, tt.secrets...)
			if !strings.HasPrefix(r.stderr, "rtkwatchd: config "+path+" is invalid (") {
				t.Errorf("stderr does not start by naming the config:\n%s", r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("an invalid config printed a plan:\n%s", r.stdout)
			}
		})
	}
}

func TestCheckMissingConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	r := runCLI(t, secretEnv(), "check", "--config", path)
	r.wantCode(t, exitUsage)
	if want := "rtkwatchd: config " + path + ": no such file (use --config)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

func TestCheckDefaultConfigMissing(t *testing.T) {
	if _, err := os.Stat(defaultConfigPath); err == nil {
		t.Skipf("%s exists on this machine", defaultConfigPath)
	}
	r := runCLI(t, secretEnv(), "check")
	r.wantCode(t, exitUsage)
	if !strings.Contains(r.stderr, "config /etc/rtkwatchd/config.yaml: no such file (use --config)") {
		t.Errorf("stderr does not name the default config:\n%s", r.stderr)
	}
}

func TestCheckSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "creds/cf-token", testToken+"\n")
	writeFile(t, dir, "creds/webhook-secret", testSecret+"\n")
	writeFile(t, dir, "creds/slack-url", testSlackURL+"\n")
	text := strings.NewReplacer(
		"token: ${CLOUDFLARE_API_TOKEN}", "token_file: creds/cf-token",
		"secret: ${RTKWATCHD_WEBHOOK_SECRET}", "secret_file: ${CREDENTIALS_DIRECTORY}/webhook-secret",
		"url: ${SLACK_WEBHOOK_URL}", "url_file: creds/slack-url",
	).Replace(checkBase)
	path := writeFile(t, dir, "config.yaml", text)
	env := map[string]string{"CREDENTIALS_DIRECTORY": filepath.Join(dir, "creds")}
	r := runCLI(t, env, "check", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	if !strings.Contains(r.stdout, "https://hooks.slack.com/…") {
		t.Errorf("check does not show the slack notifier's host:\n%s", r.stdout)
	}
}

func TestCheckOverBudget(t *testing.T) {
	text := strings.NewReplacer(
		`schedule: "@every 30s"`, `schedule: "@every 1s"`,
		"requests_per_5m: 1000", "requests_per_5m: 500",
	).Replace(checkBase)
	path := writeFile(t, t.TempDir(), "config.yaml", text)
	r := runCLI(t, secretEnv(), "check", "--config", path)
	r.wantCode(t, exitUsage)
	r.noSecrets(t)
	want := "rtkwatchd: the plan needs 600 API requests per 5 minutes, 100 more than api.requests_per_5m (500): poll less often, watch fewer meetings, or use all_live\n"
	if diff := cmp.Diff(want, r.stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	// The plan is printed all the same, so that the user sees where the
	// requests go.
	if !strings.Contains(squeeze(r.stdout), "budget 600 of 500 requests per 5 minutes (120%)\n") {
		t.Errorf("check output lacks the budget line:\n%s", r.stdout)
	}
}

// TestCheckGolden compares the whole output of check for a config that uses
// every kind of watch and notifier with testdata/check/plan.golden.
func TestCheckGolden(t *testing.T) {
	const config = "testdata/check/plan.yaml"
	r := runCLI(t, secretEnv(), "check", "--config", config)
	r.wantCode(t, exitOK)
	r.noSecrets(t, "header-SECRET-value", "heartbeat-SECRET-uuid")
	golden := "testdata/check/plan.golden"
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), r.stdout); diff != "" {
		t.Errorf("check output (-want +got):\n%s", diff)
	}
}
