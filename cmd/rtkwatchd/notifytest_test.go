package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rtkwatchd/rtkwatchd/internal/smtptest"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// notifyConfig writes a config whose notifiers are the YAML list items
// in notifiers, and returns its path. Its store is in the same directory.
func notifyConfig(t *testing.T, notifiers string) string {
	t.Helper()
	dir := t.TempDir()
	return writeFile(t, dir, "config.yaml", fmt.Sprintf(`api:
  account_id: %s
  token: ${CLOUDFLARE_API_TOKEN}
store: {path: %s}
delivery: {timeout: 5s}
notifiers:
%s
watches: [{name: w, app_id: app-1, meetings: [m-1]}]
`, testAccountID, filepath.Join(dir, "state.db"), notifiers))
}

// wantLines fails the test unless out contains every line of want.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestNotifyTestWebhook(t *testing.T) {
	rc := newReceiver(t)
	path := notifyConfig(t, fmt.Sprintf(`  - {name: ops, type: webhook, url: "%s?token=QUERYsecret", secret: "${RTKWATCHD_WEBHOOK_SECRET}", headers: {X-Team: video}}`, rc.URL()))
	r := runCLI(t, secretEnv(), "notify", "test", "ops", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t, "QUERYsecret", "/hooks/rtk")
	wantLines(t, r.stdout,
		"notify test: a sample session.started event (id evt_sample_session_started) to ops, webhook "+rc.srv.URL+"/…\n",
		"result:  delivered in ",
		"status:  204\n",
	)
	reqs := rc.take()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(reqs[0].body, reqs[0].header); err != nil {
		t.Errorf("the sample's signature does not verify: %v", err)
	}
	if got := reqs[0].header.Get("webhook-id"); got != "evt_sample_session_started" {
		t.Errorf("webhook-id %q, want the sample's id", got)
	}
}

// TestNotifyTestFailures: each way a receiver can fail is printed with
// what the daemon would do about it, and exits 1.
func TestNotifyTestFailures(t *testing.T) {
	tests := []struct {
		name   string
		typ    string // notifier type
		answer http.HandlerFunc
		want   []string
	}{
		{
			name: "webhook 503", typ: "webhook",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, "down for maintenance")
			},
			want: []string{
				"result:  failed, retryable: the daemon would try again later, after the 30s the receiver asked for (after ",
				"status:  503\n",
				"error:   post http://127.0.0.1:",
				": status 503 Service Unavailable: down for maintenance\n",
			},
		},
		{
			name: "webhook 400", typ: "webhook",
			answer: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) },
			want: []string{
				"result:  failed, not retryable: the daemon would make it a dead letter at once (after ",
				"status:  400\n",
			},
		},
		{
			name: "slack channel gone", typ: "slack",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, "channel_not_found")
			},
			want: []string{
				"status:  404\n",
				"broken:  the daemon stops sending to ops until its config is corrected and reloaded\n",
			},
		},
		{
			name: "discord rate limit", typ: "discord",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`)
			},
			want: []string{"failed, retryable: the daemon would try again later, after the 1.5s the receiver asked for", "status:  429\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newAnsweringReceiver(t, tt.answer)
			extra := ""
			if tt.typ == "webhook" {
				extra = `, secret: "${RTKWATCHD_WEBHOOK_SECRET}"`
			}
			path := notifyConfig(t, fmt.Sprintf(`  - {name: ops, type: %s, url: "%s/SECRETpath"%s}`, tt.typ, rc.srv.URL, extra))
			r := runCLI(t, secretEnv(), "notify", "test", "ops", "--config", path)
			r.wantCode(t, exitFailure)
			r.noSecrets(t, "SECRETpath")
			if r.stderr != "" {
				t.Errorf("stderr %q, want the outcome on stdout only", r.stderr)
			}
			wantLines(t, r.stdout, tt.want...)
		})
	}
}

// TestNotifyTestUnreachable: no answer at all is retryable, and says so.
func TestNotifyTestUnreachable(t *testing.T) {
	rc := newReceiver(t)
	url := rc.URL()
	rc.srv.Close()
	path := notifyConfig(t, fmt.Sprintf(`  - {name: chat, type: teams, url: "%s"}`, url))
	r := runCLI(t, secretEnv(), "notify", "test", "chat", "--config", path)
	r.wantCode(t, exitFailure)
	wantLines(t, r.stdout, "failed, retryable", "status:  none, no answer\n", "error:   post "+rc.srv.URL+": ")
	r.noSecrets(t, "/hooks/rtk")
}

func TestNotifyTestTeamsAndDiscord(t *testing.T) {
	for _, tt := range []struct{ typ, want string }{
		{"teams", `"type":"AdaptiveCard"`},
		{"discord", `"embeds":[{`},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			rc := newReceiver(t)
			path := notifyConfig(t, fmt.Sprintf(`  - {name: chat, type: %s, url: "%s", template: {title: "Test: {{.Title}}"}}`, tt.typ, rc.URL()))
			r := runCLI(t, secretEnv(), "notify", "test", "chat", "--config", path, "--type", "participants.threshold_crossed")
			r.wantCode(t, exitOK)
			reqs := rc.take()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			body := string(reqs[0].body)
			for _, want := range []string{tt.want, "Test: Participants reached 100"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s payload lacks %q:\n%s", tt.typ, want, body)
				}
			}
		})
	}
}

// pagerDuty is a receiver shaped like the Events API v2: 202 and its JSON
// answer for a valid event, 400 for one without a routing key.
func pagerDuty(t *testing.T) *receiver {
	t.Helper()
	return newAnsweringReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// The body was read by the receiver; it is in its requests.
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"success","message":"Event processed"}`)
	})
}

// pdEvent is the part of an Events API v2 request that tests read.
type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary  string `json:"summary"`
		Severity string `json:"severity"`
	} `json:"payload"`
}

func decodePD(t *testing.T, reqs []receivedRequest) []pdEvent {
	t.Helper()
	var out []pdEvent
	for _, req := range reqs {
		var e pdEvent
		if err := json.Unmarshal(req.body, &e); err != nil {
			t.Fatalf("pagerduty event %q: %v", req.body, err)
		}
		out = append(out, e)
	}
	return out
}

func TestNotifyTestPagerDuty(t *testing.T) {
	pd := pagerDuty(t)
	path := notifyConfig(t, fmt.Sprintf(`  - {name: oncall, type: pagerduty, url: "%s/v2/enqueue", routing_key: "${PD_ROUTING_KEY}"}`, pd.srv.URL))

	r := runCLI(t, secretEnv(), "notify", "test", "oncall", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	wantLines(t, r.stdout,
		"a sample watch.failing event (id evt_sample_watch_failing) to oncall, pagerduty "+pd.srv.URL+"/…\n",
		"actions: trigger\n",
		"status:  202\n",
		"PagerDuty has a sample incident open now; `rtkwatchd notify test oncall --type watch.recovered` resolves it\n",
	)
	r = runCLI(t, secretEnv(), "notify", "test", "oncall", "--config", path, "--type", "watch.recovered")
	r.wantCode(t, exitOK)
	wantLines(t, r.stdout, "actions: resolve\n")
	evs := decodePD(t, pd.take())
	if len(evs) != 2 {
		t.Fatalf("PagerDuty got %d events, want 2", len(evs))
	}
	if evs[0].EventAction != "trigger" || evs[1].EventAction != "resolve" || evs[0].DedupKey != evs[1].DedupKey || evs[0].DedupKey == "" {
		t.Errorf("events %+v, want a trigger and a resolve with one dedup_key", evs)
	}
	if evs[0].RoutingKey != testRoutingKey || evs[0].Payload == nil || evs[0].Payload.Severity != "warning" {
		t.Errorf("trigger %+v, want the routing key and severity warning", evs[0])
	}

	r = runCLI(t, secretEnv(), "notify", "test", "oncall", "--config", path, "--type", "session.started")
	r.wantCode(t, exitUsage)
	wantLines(t, r.stderr, "pagerduty sends nothing for session.started events; try --type watch.failing (opens a sample incident) and then --type watch.recovered (resolves it)")
	if n := len(pd.take()); n != 0 {
		t.Errorf("PagerDuty got %d events for a type it takes none of", n)
	}
}

// TestNotifyTestPagerDutySessionEnded: the sample session.ended ends above
// 50 and 100 participants, so it resolves the incident the sample
// participants crossing opened, with the idle one and that of 50.
func TestNotifyTestPagerDutySessionEnded(t *testing.T) {
	pd := pagerDuty(t)
	path := notifyConfig(t, fmt.Sprintf(`  - {name: oncall, type: pagerduty, url: "%s/v2/enqueue", routing_key: "${PD_ROUTING_KEY}"}`, pd.srv.URL))

	r := runCLI(t, secretEnv(), "notify", "test", "oncall", "--config", path, "--type", "participants.threshold_crossed")
	r.wantCode(t, exitOK)
	wantLines(t, r.stdout, "actions: resolve, trigger\n",
		"PagerDuty has a sample incident open now; `rtkwatchd notify test oncall --type session.ended` resolves it\n")
	r = runCLI(t, secretEnv(), "notify", "test", "oncall", "--config", path, "--type", "session.ended")
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	wantLines(t, r.stdout, "actions: resolve, resolve, resolve\n")
	if strings.Contains(r.stdout, "incident open now") {
		t.Errorf("session.ended says an incident is open:\n%s", r.stdout)
	}
	evs := decodePD(t, pd.take())
	if len(evs) != 5 {
		t.Fatalf("PagerDuty got %d events, want 5: %+v", len(evs), evs)
	}
	trigger := evs[1]
	if trigger.EventAction != "trigger" || !strings.HasSuffix(trigger.DedupKey, "/100") {
		t.Fatalf("second event %+v, want the trigger of threshold 100", trigger)
	}
	var resolved []string
	for _, e := range evs[2:] {
		if e.EventAction != "resolve" {
			t.Errorf("session.ended sent %+v, want only resolves", e)
		}
		resolved = append(resolved, e.DedupKey)
	}
	if !slices.Contains(resolved, trigger.DedupKey) || !slices.Contains(resolved, strings.TrimSuffix(trigger.DedupKey, "100")+"50") {
		t.Errorf("session.ended resolved %v, want %s and the key of threshold 50 among them", resolved, trigger.DedupKey)
	}
}

func TestNotifyTestEmail(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Plain, nil)
	host, port := ts.HostPort(t)
	path := notifyConfig(t, fmt.Sprintf(`  - name: mail
    type: email
    smtp: {host: %s, port: %d, tls: none}
    from: rtkwatchd@example.com
    to: [video-ops@example.com]
    template: {title: "[rtk] {{.Title}}"}`, host, port))
	r := runCLI(t, secretEnv(), "notify", "test", "mail", "--config", path, "--type", "watch.failing")
	r.wantCode(t, exitOK)
	wantLines(t, r.stdout, fmt.Sprintf("to mail, email smtp://%s:%d\n", host, port), "result:  delivered in ")
	if strings.Contains(r.stdout, "status:") {
		t.Errorf("an email outcome shows an HTTP status:\n%s", r.stdout)
	}
	mails := ts.Received()
	if len(mails) != 1 {
		t.Fatalf("server accepted %d messages, want 1", len(mails))
	}
	if m := string(mails[0].Data); !strings.Contains(m, "Subject: [rtk] Watch failing") {
		t.Errorf("message lacks the templated subject:\n%s", m)
	}

	refusing := smtptest.Start(t, smtptest.Plain, func(s *smtptest.Server) {
		s.Rcpt = func(string) error { return smtptest.Reject(550) }
	})
	host, port = refusing.HostPort(t)
	path = notifyConfig(t, fmt.Sprintf(`  - {name: mail, type: email, smtp: {host: %s, port: %d, tls: none}, from: a@example.com, to: [b@example.com]}`, host, port))
	r = runCLI(t, secretEnv(), "notify", "test", "mail", "--config", path)
	r.wantCode(t, exitFailure)
	wantLines(t, r.stdout, "result:  failed, not retryable", "error:   send mail via "+refusing.Addr()+": ")
}

// TestNotifyTestStoreLocked: notify test never opens the store, so it
// works while the daemon holds it.
func TestNotifyTestStoreLocked(t *testing.T) {
	rc := newReceiver(t)
	path := notifyConfig(t, fmt.Sprintf(`  - {name: chat, type: slack, url: "%s"}`, rc.URL()))
	st, err := store.Open(filepath.Join(filepath.Dir(path), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := runCLI(t, secretEnv(), "notify", "test", "chat", "--config", path)
	r.wantCode(t, exitOK)
	if n := len(rc.take()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

// TestNotifyTestEventsFilter: without --type, the sample is an event the
// notifier takes; with one it does not take, it is sent with a note.
func TestNotifyTestEventsFilter(t *testing.T) {
	rc := newReceiver(t)
	path := notifyConfig(t, fmt.Sprintf(`  - {name: chat, type: slack, url: "%s", events: [watch.failing, watch.recovered]}`, rc.URL()))
	r := runCLI(t, secretEnv(), "notify", "test", "chat", "--config", path)
	r.wantCode(t, exitOK)
	wantLines(t, r.stdout, "a sample watch.failing event")
	if strings.Contains(r.stdout, "note:") {
		t.Errorf("a note for an event the notifier takes:\n%s", r.stdout)
	}
	r = runCLI(t, secretEnv(), "notify", "test", "chat", "--config", path, "--type", "session.ended")
	r.wantCode(t, exitOK)
	wantLines(t, r.stdout, "note:    chat takes only watch.failing, watch.recovered events; the daemon would not send it this one\n")
}

func TestNotifyTestUsage(t *testing.T) {
	rc := newReceiver(t)
	path := notifyConfig(t, fmt.Sprintf("  - {name: chat, type: slack, url: \"%s\"}\n  - {name: broken, type: discord, url: \"%s\", template: {text: \"{{.Nope}}\"}}", rc.URL(), rc.URL()))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"notify"}, "notify takes one subcommand: test"},
		{"unknown subcommand", []string{"notify", "send", "chat"}, "notify takes one subcommand: test"},
		{"no name", []string{"notify", "test", "--config", path}, `notify test takes one notifier name, got []`},
		{"two names", []string{"notify", "test", "chat", "ops", "--config", path}, `notify test takes one notifier name, got ["chat" "ops"]`},
		{"unknown notifier", []string{"notify", "test", "ops", "--config", path}, `no notifier "ops" in ` + path + `; its notifiers: chat, broken`},
		{"unknown type", []string{"notify", "test", "chat", "--type", "session.begun", "--config", path}, `--type "session.begun": no such event type; one of session.started, session.ended,`},
		{"broken template", []string{"notify", "test", "broken", "--config", path}, "is invalid (1 problem):\n  " + `notifiers[1].template: every event type: template: broken.text:1:2: executing "broken.text" at <.Nope>: can't evaluate field Nope`},
		{"missing config", []string{"notify", "test", "chat", "--config", path + ".nope"}, "no such file"},
		{"bad flag", []string{"notify", "test", "chat", "--tpye", "x"}, "flag provided but not defined: -tpye"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, secretEnv(), tt.args...)
			r.wantCode(t, exitUsage)
			wantLines(t, r.stderr, tt.want)
		})
	}
	if n := len(rc.take()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

// TestNotifyTestEmailSTARTTLSProcess runs the binary against a mail server
// that offers STARTTLS and requires AUTH, as a real one does: the binary
// trusts the test's certificate through SSL_CERT_FILE, as it would a
// system CA. The password authenticates and appears in no output, neither
// when it is right nor when the server refuses it.
func TestNotifyTestEmailSTARTTLSProcess(t *testing.T) {
	bin := daemonBinary(t)
	ts := smtptest.Start(t, smtptest.StartTLS, func(s *smtptest.Server) { s.User, s.Pass = "rtk", testSMTPPassword })
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", string(ts.CertPEM()))
	host, port := ts.HostPort(t)
	path := notifyConfig(t, fmt.Sprintf(`  - name: mail
    type: email
    smtp:
      host: %s
      port: %d
      username: rtk
      password: ${SMTP_PASSWORD}
    from: rtkwatchd@example.com
    to: [video-ops@example.com]`, host, port))
	env := func(password string) []string {
		return childEnv("SSL_CERT_FILE="+ca, "CLOUDFLARE_API_TOKEN="+testToken, "SMTP_PASSWORD="+password)
	}

	stdout, stderr, code := runBinary(t, bin, env(testSMTPPassword), 30*time.Second, "notify", "test", "mail", "--config", path)
	r := result{stdout: stdout, stderr: stderr, code: code}
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	mails := ts.Received()
	if len(mails) != 1 || mails[0].User != "rtk" || !mails[0].TLS {
		t.Fatalf("server accepted %+v, want one message over TLS from user rtk", mails)
	}

	stdout, stderr, code = runBinary(t, bin, env("wrong-"+testSMTPPassword), 30*time.Second, "notify", "test", "mail", "--config", path)
	r = result{stdout: stdout, stderr: stderr, code: code}
	r.wantCode(t, exitFailure)
	r.noSecrets(t, "wrong-")
	wantLines(t, r.stdout, "result:  failed, not retryable", "error:   send mail via "+ts.Addr()+": ")

	stdout, stderr, code = runBinary(t, bin, env(testSMTPPassword), 30*time.Second, "check", "--config", path)
	r = result{stdout: stdout, stderr: stderr, code: code}
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	wantLines(t, squeeze(r.stdout), fmt.Sprintf("mail email smtp://%s:%d all events tls starttls, with auth; from rtkwatchd@example.com; to video-ops@example.com\n", host, port))
}
