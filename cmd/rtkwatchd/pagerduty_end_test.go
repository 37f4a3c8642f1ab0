package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestPagerDutyResolvesAtSessionEnd: a session that ends while above a
// participants threshold (no down crossing ever comes) resolves the
// incident its up crossing opened, under the same dedup_key, through the
// daemon: the fake API, the poller, the store and the PagerDuty notifier.
func TestPagerDutyResolvesAtSessionEnd(t *testing.T) {
	t.Parallel()
	api := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccountID})
	t.Cleanup(api.Close)
	pd := pagerDuty(t)
	dir := t.TempDir()
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
delivery: {timeout: 5s, max_attempts: 5, max_age: 1h}
watches:
  - name: town-hall
    app_id: %s
    meetings: [meeting-1]
    schedule: "@every 1s"
    thresholds: {participants: [10, 20], hysteresis: 2}
`, testAccountID, api.URL(), filepath.Join(dir, "state.db"), pd.srv.URL, testApp))

	runInProcessAt(t, path, secretEnv())
	pollUntil(t, 10*time.Second, "the baseline poll", func() bool {
		return api.ActiveSessionRequests(testApp, "meeting-1") > 0
	})
	api.StartSession(testApp, "meeting-1", rtkfake.Session{MeetingDisplayName: "Company Town Hall", LiveParticipants: 12})
	var evs []pdEvent
	pollUntil(t, 15*time.Second, "the PagerDuty trigger", func() bool {
		evs = append(evs, decodePD(t, pd.take())...)
		return countAction(evs, "trigger") == 1
	})
	api.EndSession(testApp, "meeting-1")
	// The end resolves the idle condition (none is open) and threshold 10,
	// which the session was above; 20 it never reached.
	pollUntil(t, 15*time.Second, "the PagerDuty resolves", func() bool {
		evs = append(evs, decodePD(t, pd.take())...)
		return countAction(evs, "resolve") >= 3
	})
	var got []string
	open := map[string]bool{}
	for _, e := range evs {
		switch e.EventAction {
		case "trigger":
			open[e.DedupKey] = true
			got = append(got, "trigger "+e.DedupKey)
		case "resolve":
			if open[e.DedupKey] {
				got = append(got, "resolve "+e.DedupKey)
			}
			delete(open, e.DedupKey)
		}
	}
	key := "rtkwatchd/participants/town-hall/meeting-1/10"
	if want := []string{"trigger " + key, "resolve " + key}; fmt.Sprint(got) != fmt.Sprint(want) || len(open) != 0 {
		t.Errorf("PagerDuty incidents: %q, open %v; want %q and none left open", got, open, want)
	}
}
