package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// writePagerDutyConfig writes, at dir/config.yaml, a daemon config that
// polls meeting-1 of the fake every second with the given participants
// thresholds (hysteresis 2) and sends to a PagerDuty notifier at pdURL.
func writePagerDutyConfig(t *testing.T, dir string, api *rtkfake.Server, pdURL string, participants []int) string {
	t.Helper()
	return writeFile(t, dir, "config.yaml", fmt.Sprintf(`api:
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
    thresholds: {participants: %s, hysteresis: 2}
`, testAccountID, api.URL(), filepath.Join(dir, "state.db"), pdURL, testApp, strings.ReplaceAll(fmt.Sprint(participants), " ", ", ")))
}

// runPagerDutyDaemon runs the daemon in process on writePagerDutyConfig's
// config, in a new directory that it returns, with a fake API and a
// PagerDuty receiver, and waits for the meeting's baseline poll.
func runPagerDutyDaemon(t *testing.T, participants []int) (*rtkfake.Server, *receiver, string, *inProcess) {
	t.Helper()
	api := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccountID})
	t.Cleanup(api.Close)
	pd := pagerDuty(t)
	dir := t.TempDir()
	d := runInProcessAt(t, writePagerDutyConfig(t, dir, api, pd.srv.URL, participants), secretEnv())
	pollUntil(t, 10*time.Second, "the baseline poll", func() bool {
		return api.ActiveSessionRequests(testApp, "meeting-1") > 0
	})
	return api, pd, dir, d
}

// pdIncidents follows PagerDuty's incidents through evs: each trigger
// opens its dedup_key, each resolve closes it. It returns the triggers and
// the resolves that closed an open incident, in order, and the keys left
// open.
func pdIncidents(evs []pdEvent) (got []string, open map[string]bool) {
	open = map[string]bool{}
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
	return got, open
}

// hasAction reports whether evs hold an event of that action for key.
func hasAction(evs []pdEvent, action, key string) bool {
	return slices.ContainsFunc(evs, func(e pdEvent) bool { return e.EventAction == action && e.DedupKey == key })
}

// TestPagerDutyResolvesAtSessionEnd: a session that ends while above a
// participants threshold (no down crossing ever comes) resolves the
// incident its up crossing opened, under the same dedup_key, through the
// daemon: the fake API, the poller, the store and the PagerDuty notifier.
func TestPagerDutyResolvesAtSessionEnd(t *testing.T) {
	t.Parallel()
	api, pd, _, _ := runPagerDutyDaemon(t, []int{10, 20})
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
	got, open := pdIncidents(evs)
	key := "rtkwatchd/participants/town-hall/meeting-1/10"
	if want := []string{"trigger " + key, "resolve " + key}; fmt.Sprint(got) != fmt.Sprint(want) || len(open) != 0 {
		t.Errorf("PagerDuty incidents: %q, open %v; want %q and none left open", got, open, want)
	}
}

// TestPagerDutyResolvesAfterReloadRemovesThreshold: a reload that removes
// a participants threshold while the session is above it leaves its
// incident open only until the session falls below T − hysteresis: the
// down crossing of the removed threshold still comes, and resolves it;
// the session's end resolves the other one.
func TestPagerDutyResolvesAfterReloadRemovesThreshold(t *testing.T) {
	t.Parallel()
	api, pd, dir, d := runPagerDutyDaemon(t, []int{10, 20})
	api.StartSession(testApp, "meeting-1", rtkfake.Session{MeetingDisplayName: "Company Town Hall", LiveParticipants: 22})
	var evs []pdEvent
	take := func() []pdEvent { evs = append(evs, decodePD(t, pd.take())...); return evs }
	pollUntil(t, 15*time.Second, "the PagerDuty triggers of 10 and 20", func() bool {
		return countAction(take(), "trigger") == 2
	})

	writePagerDutyConfig(t, dir, api, pd.srv.URL, []int{10})
	d.reload(t)
	pollUntil(t, 10*time.Second, "the reload", func() bool {
		return strings.Contains(d.log.String(), `"message":"config reloaded"`)
	})
	// Polls under the reloaded rules see the session still above 20: the
	// third request after the reload starts once a poll that began after
	// it has been stored.
	polls := api.ActiveSessionRequests(testApp, "meeting-1")
	pollUntil(t, 15*time.Second, "three polls after the reload", func() bool {
		return api.ActiveSessionRequests(testApp, "meeting-1") >= polls+3
	})

	key10 := "rtkwatchd/participants/town-hall/meeting-1/10"
	key20 := "rtkwatchd/participants/town-hall/meeting-1/20"
	// 18 is 20 − 2: still up. Then 17 takes it down.
	api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 18 })
	polls = api.ActiveSessionRequests(testApp, "meeting-1")
	pollUntil(t, 15*time.Second, "polls at 18", func() bool {
		return api.ActiveSessionRequests(testApp, "meeting-1") >= polls+3
	})
	if take(); hasAction(evs, "resolve", key20) {
		t.Fatalf("20 resolved at 18 participants, which is not below 20 - 2: %+v", evs)
	}
	api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 17 })
	pollUntil(t, 15*time.Second, "the resolve of 20", func() bool { return hasAction(take(), "resolve", key20) })
	api.EndSession(testApp, "meeting-1")
	pollUntil(t, 15*time.Second, "the resolve of 10", func() bool { return hasAction(take(), "resolve", key10) })

	got, open := pdIncidents(evs)
	want := []string{"trigger " + key10, "trigger " + key20, "resolve " + key20, "resolve " + key10}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(open) != 0 {
		t.Errorf("PagerDuty incidents: %q, open %v; want %q and none left open", got, open, want)
	}
}
