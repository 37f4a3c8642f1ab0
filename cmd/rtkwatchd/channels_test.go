package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/smtptest"
)

// TestChannelsEndToEnd is a new user's first hour with the new channels:
// the daemon on a fake RealtimeKit API, a participants threshold crossed
// up and then down, and PagerDuty, Teams, Discord and email receivers
// shaped like the services. One PagerDuty incident opens and resolves
// itself under one dedup_key; Teams gets Adaptive Cards, Discord embeds,
// the mailbox one email per event; no secret reaches the log.
func TestChannelsEndToEnd(t *testing.T) {
	t.Parallel()
	api := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccountID})
	t.Cleanup(api.Close)
	pd := pagerDuty(t)
	teams := newAnsweringReceiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	discord := newReceiver(t)
	mailbox := smtptest.Start(t, smtptest.Plain, nil)
	host, port := mailbox.HostPort(t)

	dir := t.TempDir()
	env := secretEnv()
	env["TEAMS_WEBHOOK_URL"] = teams.srv.URL + "/workflows/TEAMSsecretFLOW/triggers/manual?sig=TEAMSsigSECRET"
	env["DISCORD_WEBHOOK_URL"] = discord.srv.URL + "/api/webhooks/123/DISCORDtokenSECRET"
	path := writeFile(t, dir, "config.yaml", fmt.Sprintf(`api:
  account_id: %s
  token: ${CLOUDFLARE_API_TOKEN}
  base_url: %s
  timeout: 5s
  requests_per_5m: 3000
store: {path: %s}
log: {level: debug, format: json}
admin: {listen: ""}
notifiers:
  - name: oncall
    type: pagerduty
    url: %s/v2/enqueue
    routing_key: ${PD_ROUTING_KEY}
  - name: teams
    type: teams
    url: ${TEAMS_WEBHOOK_URL}
  - name: discord
    type: discord
    url: ${DISCORD_WEBHOOK_URL}
  - name: mail
    type: email
    smtp:
      host: %s
      port: %d
      tls: none
    from: rtkwatchd@example.com
    to: [video-ops@example.com]
delivery: {timeout: 5s, max_attempts: 5, max_age: 1h}
watches:
  - name: town-hall
    app_id: %s
    meetings: [meeting-1]
    schedule: "@every 1s"
    thresholds: {participants: [10], hysteresis: 2}
`, testAccountID, api.URL(), filepath.Join(dir, "state.db"), pd.srv.URL, host, port, testApp))

	d := runInProcessAt(t, path, env)
	pollUntil(t, 10*time.Second, "the baseline poll", func() bool {
		return api.ActiveSessionRequests(testApp, "meeting-1") > 0
	})
	// Up: session.started and participants ≥ 10, which triggers.
	api.StartSession(testApp, "meeting-1", rtkfake.Session{MeetingDisplayName: "Company Town Hall", LiveParticipants: 12})
	var evs []pdEvent
	pollUntil(t, 15*time.Second, "the PagerDuty trigger", func() bool {
		evs = append(evs, decodePD(t, pd.take())...)
		return countAction(evs, "trigger") == 1
	})
	// Down: 5 < 10 − 2, which resolves the same incident.
	api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 5 })
	pollUntil(t, 15*time.Second, "the PagerDuty resolve", func() bool {
		evs = append(evs, decodePD(t, pd.take())...)
		return countAction(evs, "resolve") >= 2 // the idle condition's, then the threshold's
	})
	api.EndSession(testApp, "meeting-1")
	pollUntil(t, 15*time.Second, "four events in every channel", func() bool {
		return teams.count() == 4 && discord.count() == 4 && len(mailbox.Received()) == 4
	})

	var trigger pdEvent
	for _, e := range evs {
		if e.EventAction == "trigger" {
			trigger = e
		}
	}
	resolved := false
	for _, e := range evs {
		resolved = resolved || e.EventAction == "resolve" && e.DedupKey == trigger.DedupKey
		if e.RoutingKey != testRoutingKey {
			t.Errorf("PagerDuty event %+v without the routing key", e)
		}
	}
	if !resolved || trigger.Payload == nil || !strings.Contains(trigger.Payload.Summary, "Company Town Hall") {
		t.Errorf("PagerDuty events %+v: want one trigger about the meeting, resolved under its dedup_key", evs)
	}

	for i, req := range teams.take() {
		var card struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
				Content     struct {
					Type string `json:"type"`
				} `json:"content"`
			} `json:"attachments"`
		}
		if err := json.Unmarshal(req.body, &card); err != nil || card.Type != "message" || len(card.Attachments) != 1 ||
			card.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || card.Attachments[0].Content.Type != "AdaptiveCard" {
			t.Errorf("teams request %d is no Adaptive Card message (%v):\n%s", i, err, req.body)
		}
	}
	var titles []string
	for _, req := range discord.take() {
		var msg struct {
			Embeds []struct {
				Title string `json:"title"`
			} `json:"embeds"`
		}
		if err := json.Unmarshal(req.body, &msg); err != nil || len(msg.Embeds) != 1 {
			t.Fatalf("discord request is not one embed (%v):\n%s", err, req.body)
		}
		titles = append(titles, msg.Embeds[0].Title)
	}
	want := []string{"Session started", "Participants reached 10", "Participants fell below 10", "Session ended"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("discord embed titles %q, want %q", titles, want)
	}
	for _, m := range mailbox.Received() {
		if !strings.Contains(string(m.Data), "Company Town Hall") {
			t.Errorf("email does not name the meeting:\n%s", m.Data)
		}
	}
	result{stdout: d.log.String()}.noSecrets(t, "/hooks/rtk")
}

// countAction counts the PagerDuty events of one action.
func countAction(evs []pdEvent, action string) int {
	n := 0
	for _, e := range evs {
		if e.EventAction == action {
			n++
		}
	}
	return n
}

// TestBrokenTemplateRefused: a template that breaks on a sample event
// stops `run` (exit 2, naming the template and its line) and a reload
// (the running config stays), as `check` does.
func TestBrokenTemplateRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good, err := os.ReadFile(f.config)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(good), "delivery:", fmt.Sprintf(`  - name: chat
    type: slack
    url: %s
    template: {title: "{{.Title}}", text: "{{bogus .Title}}"}
delivery:`, f.hook.URL()), 1)
	const want = `notifiers[1].template: template: chat.text:1: function "bogus" not defined`

	writeFile(t, f.dir, "broken.yaml", broken)
	r := runCLI(t, f.env, "run", "--config", filepath.Join(f.dir, "broken.yaml"))
	r.wantCode(t, exitUsage)
	wantLines(t, r.stderr, want)

	d := f.runInProcess(t)
	pollUntil(t, 10*time.Second, "the daemon running", func() bool { return strings.Contains(d.log.String(), `"message":"rtkwatchd running"`) })
	writeFile(t, f.dir, "config.yaml", broken)
	d.reload(t)
	pollUntil(t, 10*time.Second, "the reload rejected", func() bool {
		return strings.Contains(d.log.String(), "reload rejected; the running config stays in force")
	})
	wantLines(t, d.log.String(), strings.ReplaceAll(want, `"`, `\"`))
}

// TestGroupedSlackEndToEnd: twelve meetings of a watch go live at once;
// their twelve session.started reach Slack as one or two messages (one per
// poll that found them), not twelve.
func TestGroupedSlackEndToEnd(t *testing.T) {
	t.Parallel()
	api := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccountID})
	t.Cleanup(api.Close)
	slack := newAnsweringReceiver(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	var meetings []string
	for i := range 12 {
		meetings = append(meetings, fmt.Sprintf("meeting-%02d", i))
	}
	dir := t.TempDir()
	env := secretEnv()
	env["SLACK_WEBHOOK_URL"] = slack.srv.URL + "/services/T00SECRET/B00SECRET/XXXXslackSECRETpath"
	path := writeFile(t, dir, "config.yaml", fmt.Sprintf(`api:
  account_id: %s
  token: ${CLOUDFLARE_API_TOKEN}
  base_url: %s
  requests_per_5m: 5000
store: {path: %s}
log: {level: debug, format: json}
admin: {listen: ""}
notifiers:
  - name: slack-video
    type: slack
    url: ${SLACK_WEBHOOK_URL}
    group: {wait: 3s, max: 20}
watches:
  - name: town-hall
    app_id: %s
    meetings: [%s]
    schedule: "@every 1s"
`, testAccountID, api.URL(), filepath.Join(dir, "state.db"), testApp, strings.Join(meetings, ", ")))

	d := runInProcessAt(t, path, env)
	pollUntil(t, 10*time.Second, "the baseline poll of every meeting", func() bool {
		return strings.Contains(d.log.String(), `"polls":12,"failed":0,"events":0`)
	})
	for _, m := range meetings {
		api.StartSession(testApp, m, rtkfake.Session{LiveParticipants: 3})
	}
	shown := func() int {
		n := 0
		for _, r := range slack.reqs {
			n += strings.Count(string(r.body), `"type":"section"`)
		}
		return n
	}
	pollUntil(t, 20*time.Second, "twelve session.started in Slack", func() bool {
		slack.mu.Lock()
		defer slack.mu.Unlock()
		return shown() >= 12
	})
	reqs := slack.take()
	if len(reqs) < 1 || len(reqs) > 2 {
		t.Errorf("slack got %d messages for 12 events, want one or two", len(reqs))
	}
	for _, r := range reqs {
		if !strings.Contains(string(r.body), ":bell: ") || !strings.Contains(string(r.body), "events in watch town-hall") {
			t.Errorf("a message is not a group:\n%s", r.body)
		}
	}
	result{stdout: d.log.String()}.noSecrets(t)
}
