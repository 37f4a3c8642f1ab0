package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// updateGolden rewrites the golden files under testdata/ instead of
// comparing with them: go test ./cmd/rtkwatchd -run Check -update.
var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The secrets of the tests. Every test that prints asserts that none of
// them reaches stdout or stderr.
const (
	testToken        = "cf-test-token-Zq8vXw3mN7pL1kR4"
	testSecret       = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTI0Ynl0ZXMh" // base64 of 24 bytes
	testSlackURL     = "https://hooks.slack.com/services/T00SECRET/B00SECRET/XXXXslackSECRETpath"
	testRoutingKey   = "R0UTINGkeySECRET0123456789abcdef"
	testSMTPPassword = "smtp-PASSWORD-secret"
	testTeamsURL     = "https://example.webhook.office.com/workflows/TEAMSsecretFLOW/triggers/manual?sig=TEAMSsigSECRET"
	testDiscordURL   = "https://discord.com/api/webhooks/123/DISCORDtokenSECRET"
	testAccountID    = "023e105f4ecef8ad9ca31a8372d0c353"
	testApp          = "app-1"
)

// secretEnv is an environment holding every test secret, as a systemd unit
// or a shell would pass them.
func secretEnv() map[string]string {
	return map[string]string{
		"CLOUDFLARE_API_TOKEN":     testToken,
		"RTKWATCHD_WEBHOOK_SECRET": testSecret,
		"SLACK_WEBHOOK_URL":        testSlackURL,
		"PD_ROUTING_KEY":           testRoutingKey,
		"SMTP_PASSWORD":            testSMTPPassword,
		"TEAMS_WEBHOOK_URL":        testTeamsURL,
		"DISCORD_WEBHOOK_URL":      testDiscordURL,
	}
}

// result is what one run of the CLI left behind.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the CLI in-process, as main would, with env as the whole
// environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(t.Context(), args, getenv, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// wantCode fails the test when r did not exit with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// noSecrets fails the test when any test secret, or a recognisable piece of
// one, appears in r's output.
func (r result) noSecrets(t *testing.T, extra ...string) {
	t.Helper()
	secrets := append([]string{
		testToken, testSecret, strings.TrimPrefix(testSecret, "whsec_"),
		testSlackURL, "T00SECRET", "slackSECRETpath",
		testRoutingKey, testSMTPPassword, "TEAMSsecretFLOW", "TEAMSsigSECRET", "DISCORDtokenSECRET",
	}, extra...)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("output contains the secret %q\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

// configParams fill configTemplate.
type configParams struct {
	APIURL       string
	StorePath    string
	Admin        string
	HookURL      string
	Meetings     []string
	FailingAfter int
	// ExtraNotifier, when set, names a second webhook notifier to the
	// same receiver, which no watch routes events to.
	ExtraNotifier string
	// Health adds the recordings and livestreams lists to the watch, and a
	// usage block of its app: 100 minutes a day, at 0.01 a minute.
	Health bool
}

// configTemplate is the config of the tests that poll: one webhook
// notifier and one watch over explicit meetings.
var configTemplate = template.Must(template.New("config").Parse(`api:
  account_id: 023e105f4ecef8ad9ca31a8372d0c353
  token: ${CLOUDFLARE_API_TOKEN}
  base_url: {{.APIURL}}
  timeout: 5s
  requests_per_5m: 3000
store:
  path: {{.StorePath}}
log: {level: info, format: json}
admin: {listen: "{{.Admin}}"}
notifiers:
  - name: ops
    type: webhook
    url: {{.HookURL}}
    secret: ${RTKWATCHD_WEBHOOK_SECRET}
    headers: {X-Team: video}
{{- with .ExtraNotifier}}
  - name: {{.}}
    type: webhook
    url: {{$.HookURL}}
    secret: ${RTKWATCHD_WEBHOOK_SECRET}
{{- end}}
delivery: {timeout: 5s, max_attempts: 5, max_age: 1h}
watches:
  - name: town-hall
    app_id: app-1
    meetings: [{{range $i, $m := .Meetings}}{{if $i}}, {{end}}{{$m}}{{end}}]
    schedule: "@every 30s"
    thresholds:
      participants: [10, 20]
      hysteresis: 2
      minutes_consumed: [30]
    failing_after: {{.FailingAfter}}
    notify: [ops]
{{- if .Health}}
    recordings: true
    livestreams: true
usage:
  - app_id: app-1
    daily_minutes: [100]
    price_per_participant_minute: 0.01
{{- end}}
`))

// fixture is a fake RealtimeKit API, a webhook receiver, a store in a
// temporary directory and a config that ties them together.
type fixture struct {
	t      *testing.T
	api    *rtkfake.Server
	hook   *receiver
	dir    string
	config string
	params configParams
	env    map[string]string
}

func newFixture(t *testing.T, meetings ...string) *fixture {
	t.Helper()
	if len(meetings) == 0 {
		meetings = []string{"meeting-1"}
	}
	api := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccountID})
	t.Cleanup(api.Close)
	dir := t.TempDir()
	f := &fixture{
		t:      t,
		api:    api,
		hook:   newReceiver(t),
		dir:    dir,
		config: filepath.Join(dir, "config.yaml"),
		env:    secretEnv(),
	}
	f.params = configParams{
		APIURL:       api.URL(),
		StorePath:    filepath.Join(dir, "state.db"),
		HookURL:      f.hook.URL(),
		Meetings:     meetings,
		FailingAfter: 2,
	}
	f.writeConfig()
	t.Cleanup(f.checkStore)
	return f
}

// checkStore runs bbolt's consistency check over the fixture's store, when
// the test created one. It runs after the test let go of the store.
func (f *fixture) checkStore() {
	f.t.Helper()
	if _, err := os.Stat(f.params.StorePath); errors.Is(err, fs.ErrNotExist) {
		return
	}
	st, err := store.Open(f.params.StorePath, store.Options{ReadOnly: true})
	if err != nil {
		f.t.Errorf("reopen the store after the test: %v", err)
		return
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		f.t.Error(err)
	}
}

// writeConfig writes f.params to f.config.
func (f *fixture) writeConfig() {
	f.t.Helper()
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, f.params); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(f.config, b.Bytes(), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// run runs a command with --config pointing at the fixture's config.
func (f *fixture) run(cmd string, args ...string) result {
	f.t.Helper()
	return runCLI(f.t, f.env, append([]string{cmd, "--config", f.config}, args...)...)
}

// once runs `once` with args, requires exit 0 and no secret in the output,
// and returns the events it printed.
func (f *fixture) once(args ...string) []diff.Event {
	f.t.Helper()
	return f.onceExit(exitOK, args...)
}

// onceExit runs `once`, wants the exit code, and returns the events printed.
func (f *fixture) onceExit(code int, args ...string) []diff.Event {
	f.t.Helper()
	r := f.run("once", args...)
	r.wantCode(f.t, code)
	r.noSecrets(f.t)
	return decodeEvents(f.t, r.stdout)
}

// wholeSecondUTC is the form of every event's timestamp.
var wholeSecondUTC = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// decodeEvents decodes stdout as one event per line, strictly, and checks
// the form of each timestamp.
func decodeEvents(t *testing.T, stdout string) []diff.Event {
	t.Helper()
	var evs []diff.Event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		line := sc.Bytes()
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var ev diff.Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("stdout line %q is not one event: %v", line, err)
		}
		if dec.More() {
			t.Fatalf("stdout line %q holds more than one JSON document", line)
		}
		var raw struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(line, &raw); err != nil || !wholeSecondUTC.MatchString(raw.Timestamp) {
			t.Errorf("event timestamp %q, want UTC in whole seconds (2006-01-02T15:04:05Z)", raw.Timestamp)
		}
		evs = append(evs, ev)
	}
	return evs
}

// eventTypes lists the types of evs, in order.
func eventTypes(evs []diff.Event) []string {
	types := make([]string, 0, len(evs))
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	return types
}

// wantTypes fails the test when evs are not of the types want, in order.
func wantTypes(t *testing.T, want []string, evs []diff.Event) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, eventTypes(evs)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			r := runCLI(t, nil, arg)
			r.wantCode(t, exitOK)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("version printed %d lines, want 3:\n%s", len(lines), r.stdout)
			}
			if v, ok := strings.CutPrefix(lines[0], "rtkwatchd "); !ok || v == "" {
				t.Errorf("line 1 = %q, want \"rtkwatchd <version>\"", lines[0])
			}
			if c, ok := strings.CutPrefix(lines[1], "commit "); !ok || c == "" {
				t.Errorf("line 2 = %q, want \"commit <commit>\"", lines[1])
			}
			if lines[2] != runtime.Version() {
				t.Errorf("line 3 = %q, want the Go version %q", lines[2], runtime.Version())
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
		})
	}
}

func TestVersionFromLinkerFlag(t *testing.T) {
	old := version
	version = "v1.2.3"
	t.Cleanup(func() { version = old })
	r := runCLI(t, nil, "version")
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "rtkwatchd v1.2.3\n") {
		t.Errorf("stdout = %q, want it to start with the version set by -ldflags", r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "rtkwatchd: no command given"},
		{"unknown command", []string{"frobnicate"}, `rtkwatchd: unknown command "frobnicate"`},
		{"unknown flag", []string{"check", "--frob"}, "flag provided but not defined: -frob"},
		{"check with an argument", []string{"check", "--config", "x.yaml", "extra"}, `check takes no arguments, got ["extra"]`},
		{"once with an argument", []string{"once", "extra"}, `once takes no arguments, got ["extra"]`},
		{"state with two meetings", []string{"state", "a", "b"}, `state takes at most one MEETING_ID, got ["a" "b"]`},
		{"deliveries with a stray argument", []string{"deliveries", "redo"}, `unknown deliveries argument "redo" (want retry)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestUsageListsCommands(t *testing.T) {
	r := runCLI(t, nil)
	r.wantCode(t, exitUsage)
	for _, cmd := range []string{"run", "check", "once", "demo", "state", "deliveries", "version"} {
		if !strings.Contains(r.stderr, "\n  "+cmd+" ") {
			t.Errorf("usage does not list %q:\n%s", cmd, r.stderr)
		}
	}

	h := runCLI(t, nil, "help")
	h.wantCode(t, exitOK)
	if h.stdout != usage {
		t.Errorf("help printed %q, want the usage on stdout", h.stdout)
	}
}

func TestHelpFlag(t *testing.T) {
	// -h on a command prints its usage and flags and exits 0 without an error line.
	r := runCLI(t, nil, "once", "-h")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stderr, "-dry-run") {
		t.Errorf("once -h does not describe --dry-run:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "rtkwatchd: ") {
		t.Errorf("once -h printed an error line:\n%s", r.stderr)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   int
		wantStderr string
	}{
		{"nil", nil, exitOK, ""},
		{"plain error", errors.New("boom"), exitFailure, "rtkwatchd: boom\n"},
		{"usage error", usageError(errors.New("bad flag")), exitUsage, "rtkwatchd: bad flag\n"},
		{"silent usage error", usageError(errSilent), exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.err, &stderr); got != tt.wantCode {
				t.Errorf("exitCode = %d, want %d", got, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
