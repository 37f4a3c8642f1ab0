package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// eventsJSON runs `events --json` with args and decodes its lines.
func eventsJSON(t *testing.T, f *fixture, args ...string) []admin.Event {
	t.Helper()
	r := f.run("events", append([]string{"--json"}, args...)...)
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	var out []admin.Event
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	for dec.More() {
		var e admin.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("events --json: %v in %q", err, r.stdout)
		}
		out = append(out, e)
	}
	return out
}

// TestSilenceHistoryReplay is what a new user does: with the daemon
// running, a silence added from the CLI holds a session's deliveries
// while `events` shows them; `events replay` delivers one with the same
// webhook-id; a restart keeps the history and the silence, and delivers
// nothing again.
func TestSilenceHistoryReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.params.Admin = freeLoopbackAddr(t)
	f.writeConfig()
	d := f.runInProcess(t)
	pollUntil(t, 10*time.Second, "the start-up poll", func() bool {
		return f.api.ActiveSessionRequests(testApp, "meeting-1") > 0
	})

	r := f.run("silence", "add", "--watch", "town-hall", "--for", "2h", "--reason", "planned town hall rehearsal")
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "silence 1: watch town-hall, every notifier, until ") {
		t.Errorf("silence add printed %q", r.stdout)
	}
	r = f.run("silence", "list")
	r.wantCode(t, exitOK)
	if rows := parseTable(t, strings.SplitN(r.stdout, "\n", 2)[1]); len(rows) != 1 || rows[0]["REASON"] != "planned town hall rehearsal" || rows[0]["NOTIFIER"] != "(all)" {
		t.Errorf("silence list printed %q", r.stdout)
	}

	// A session starts and ends; each reload polls at once.
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 12})
	d.reload(t)
	pollUntil(t, 10*time.Second, "session.started in the history", func() bool { return len(eventsJSON(t, f)) >= 1 })
	f.api.EndSession(testApp, "meeting-1")
	d.reload(t)
	var evs []admin.Event
	pollUntil(t, 10*time.Second, "session.ended in the history", func() bool {
		evs = eventsJSON(t, f)
		return len(evs) > 0 && evs[len(evs)-1].Type == diff.TypeSessionEnded
	})
	for _, e := range evs {
		if len(e.Notifiers) != 0 || len(e.Silenced) != 1 || e.Silenced[0] != "ops" || e.Watch != "town-hall" || e.MeetingID != "meeting-1" {
			t.Errorf("history event %s %s: queued for %v, silenced for %v; want silenced for ops", e.EventID, e.Type, e.Notifiers, e.Silenced)
		}
	}
	if rows := deliveryRows(t, f.run("deliveries")); rows != nil {
		t.Errorf("outbox during the silence = %v, want empty", rows)
	}
	rows := parseTable(t, f.run("events", "--type", diff.TypeSessionStarted).stdout)
	if len(rows) != 1 || rows[0]["SILENCED FOR"] != "ops" || rows[0]["QUEUED FOR"] != "-" || rows[0]["EVENT"] != evs[0].EventID {
		t.Errorf("events --type session.started = %v, want %s silenced for ops", rows, evs[0].EventID)
	}

	// Replay: a clear error for an unknown notifier or id, then the same id.
	f.run("events", "replay", "--notifier", "nope", evs[0].EventID).wantCode(t, exitUsage)
	r = f.run("events", "replay", "--notifier", "ops", evs[0].EventID, "evt_unknown")
	r.wantCode(t, exitFailure)
	if !strings.Contains(r.stderr, "evt_unknown") {
		t.Errorf("replay of an unknown id said %q, want it named", r.stderr)
	}
	f.run("events", "replay", "--notifier", "ops").wantCode(t, exitUsage)
	r = f.run("events", "replay", "--notifier", "ops", evs[0].EventID)
	r.wantCode(t, exitOK)
	var got []receivedRequest
	pollUntil(t, 10*time.Second, "the replayed delivery", func() bool {
		got = append(got, f.hook.take()...)
		return len(got) > 0
	})
	if len(got) != 1 || got[0].header.Get("webhook-id") != evs[0].EventID {
		t.Fatalf("received %d requests, the first with webhook-id %q; want one, with %q", len(got), got[0].header.Get("webhook-id"), evs[0].EventID)
	}
	var body diff.Event
	if err := json.Unmarshal(got[0].body, &body); err != nil || body.Type != diff.TypeSessionStarted || body.Data.ID != evs[0].EventID {
		t.Errorf("replayed body %s (%v), want the session.started event", got[0].body, err)
	}

	// A restart keeps the history and the silence, and delivers nothing
	// again: the start-up poll finds nothing new.
	d.stop()
	if n := len(eventsJSON(t, f)); n != len(evs) {
		t.Errorf("history after the daemon stopped: %d events, want %d", n, len(evs))
	}
	requests := f.api.ActiveSessionRequests(testApp, "meeting-1")
	d = f.runInProcess(t)
	pollUntil(t, 10*time.Second, "the start-up poll after the restart", func() bool {
		return f.api.ActiveSessionRequests(testApp, "meeting-1") > requests
	})
	r = f.run("silence", "list")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "planned town hall rehearsal") {
		t.Errorf("silence list after the restart printed %q, want the silence", r.stdout)
	}
	f.run("silence", "remove", "1").wantCode(t, exitOK)
	f.run("silence", "remove", "1").wantCode(t, exitUsage)
	d.stop()
	if n := len(eventsJSON(t, f)); n != len(evs) {
		t.Errorf("history after the restart: %d events, want %d", n, len(evs))
	}
	if extra := f.hook.take(); len(extra) > 0 {
		t.Errorf("after the restart the receiver got %d more requests, want none", len(extra))
	}
}

// TestDaemonPrunesHistoryAndSilences: at start the daemon removes the
// events older than store.history (168h by default) and the ad hoc
// silences that have ended, and keeps the rest.
func TestDaemonPrunesHistoryAndSilences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st, err := store.Open(f.params.StorePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var evs []store.NewEvent
	for i, age := range []time.Duration{169 * time.Hour, 167 * time.Hour} {
		evs = append(evs, store.NewEvent{ID: fmt.Sprintf("evt_%d", i), Type: diff.TypeSessionStarted, CreatedAt: now.Add(-age), Body: []byte(`{}`)})
	}
	if err := st.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "town-hall", MeetingID: "meeting-1"}, Snapshot: []byte(`{}`), Events: evs}}); err != nil {
		t.Fatal(err)
	}
	for _, end := range []time.Time{now.Add(-time.Minute), now.Add(time.Hour)} {
		if _, err := st.AddSilence(store.Silence{Watch: "town-hall", Start: now.Add(-2 * time.Hour), End: end}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	d := f.runInProcess(t)
	pollUntil(t, 10*time.Second, "the prune at start", func() bool {
		return strings.Contains(d.log.String(), `"message":"removed ended silences"`) &&
			strings.Contains(d.log.String(), `"message":"pruned the history"`)
	})
	d.stop()
	st, err = store.Open(f.params.StorePath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.History(store.HistoryQuery{})
	if err != nil || len(h) != 1 || h[0].EventID != "evt_1" {
		t.Errorf("history after the prune = %+v, %v; want evt_1 alone", h, err)
	}
	list, err := st.Silences()
	if err != nil || len(list) != 1 || list[0].ID != 2 {
		t.Errorf("silences after the prune = %+v, %v; want the second alone", list, err)
	}
}
