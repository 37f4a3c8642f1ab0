package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// wantDelivered fails the test unless reqs are exactly evs, each delivered
// once as a Standard Webhooks request signed with testSecret whose
// webhook-id is the event's data.id.
func wantDelivered(t *testing.T, evs []diff.Event, reqs []receivedRequest) {
	t.Helper()
	if len(reqs) != len(evs) {
		t.Fatalf("receiver got %d requests, want %d (one per event)", len(reqs), len(evs))
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[string]diff.Event, len(evs))
	for _, ev := range evs {
		byID[ev.Data.ID] = ev
	}
	for _, req := range reqs {
		if err := wh.Verify(req.body, req.header); err != nil {
			t.Errorf("signature of %s does not verify: %v", req.header.Get("webhook-id"), err)
		}
		var got diff.Event
		if err := json.Unmarshal(req.body, &got); err != nil {
			t.Fatalf("webhook body %q: %v", req.body, err)
		}
		if id := req.header.Get("webhook-id"); id != got.Data.ID {
			t.Errorf("webhook-id %q, want data.id %q", id, got.Data.ID)
		}
		want, ok := byID[got.Data.ID]
		if !ok {
			t.Errorf("receiver got event %s (%s), which once did not print", got.Data.ID, got.Type)
			continue
		}
		delete(byID, got.Data.ID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("delivered event differs from the printed one (-printed +delivered):\n%s", diff)
		}
		for k, want := range map[string]string{"Content-Type": "application/json", "X-Team": "video"} {
			if got := req.header.Get(k); got != want {
				t.Errorf("header %s = %q, want %q", k, got, want)
			}
		}
		if ua := req.header.Get("User-Agent"); !strings.HasPrefix(ua, "rtkwatchd/") {
			t.Errorf("user-agent %q, want rtkwatchd/<version>", ua)
		}
	}
}

// wantMeeting fails the test unless ev belongs to the fixture's watch and
// meeting and carries sequence seq.
func wantMeeting(t *testing.T, ev diff.Event, meeting string, seq uint64) {
	t.Helper()
	d := ev.Data
	got := []any{d.Watch, d.AccountID, d.AppID, d.MeetingID, d.Sequence}
	want := []any{"town-hall", testAccountID, testApp, meeting, seq}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: watch, account, app, meeting, sequence (-want +got):\n%s", ev.Type, diff)
	}
	if !strings.HasPrefix(d.ID, "evt_") {
		t.Errorf("%s: data.id %q, want evt_…", ev.Type, d.ID)
	}
	if ev.Timestamp.IsZero() {
		t.Errorf("%s: no timestamp", ev.Type)
	}
}

func ptr[T any](v T) *T { return &v }

// TestOnceSequence plays a meeting's life against the fake API, one `once`
// per step, and checks what each run prints and delivers.
func TestOnceSequence(t *testing.T) {
	f := newFixture(t)

	// The first run records a baseline and emits nothing.
	wantTypes(t, nil, f.once())
	if reqs := f.hook.take(); len(reqs) != 0 {
		t.Fatalf("the baseline delivered %d requests", len(reqs))
	}

	sid := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 1})
	evs := f.once()
	wantTypes(t, []string{diff.TypeSessionStarted}, evs)
	started := evs[0]
	wantMeeting(t, started, "meeting-1", 1)
	if started.Data.SessionID != sid || started.Data.Previous != nil || started.Data.Current == nil {
		t.Fatalf("session.started: session_id %q (want %q), previous %v (want null), current %v (want the session)",
			started.Data.SessionID, sid, started.Data.Previous, started.Data.Current)
	}
	if c := started.Data.Current; c.ID != sid || c.Status != diff.StatusLive || c.LiveParticipants != 3 {
		t.Errorf("session.started current = %+v, want the live session %s with 3 participants", *c, sid)
	}
	wantDelivered(t, evs, f.hook.take())

	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) {
		s.LiveParticipants, s.MinutesConsumed = 25, 45
	})
	evs = f.once()
	wantTypes(t, []string{diff.TypeParticipantsThreshold, diff.TypeParticipantsThreshold, diff.TypeMinutesThreshold}, evs)
	type crossing struct {
		Threshold       float64
		Direction       string
		Live, Prev      int
		MinutesConsumed float64
	}
	var got []crossing
	for i, ev := range evs {
		wantMeeting(t, ev, "meeting-1", uint64(2+i))
		c := crossing{Direction: ev.Data.Direction}
		if ev.Data.Threshold != nil {
			c.Threshold = *ev.Data.Threshold
		}
		if ev.Data.LiveParticipants != nil {
			c.Live = *ev.Data.LiveParticipants
		}
		if ev.Data.PreviousLiveParticipants != nil {
			c.Prev = *ev.Data.PreviousLiveParticipants
		}
		if ev.Data.MinutesConsumed != nil {
			c.MinutesConsumed = *ev.Data.MinutesConsumed
		}
		got = append(got, c)
	}
	want := []crossing{
		{Threshold: 10, Direction: diff.DirectionUp, Live: 25, Prev: 3},
		{Threshold: 20, Direction: diff.DirectionUp, Live: 25, Prev: 3},
		{Threshold: 30, MinutesConsumed: 45},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("threshold events (-want +got):\n%s", diff)
	}
	wantDelivered(t, evs, f.hook.take())

	// Falling to 19 is within the hysteresis of 20; falling to 7 is below
	// both thresholds minus the hysteresis.
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 19 })
	wantTypes(t, nil, f.once())
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 7 })
	evs = f.once()
	wantTypes(t, []string{diff.TypeParticipantsThreshold, diff.TypeParticipantsThreshold}, evs)
	for _, ev := range evs {
		if ev.Data.Direction != diff.DirectionDown {
			t.Errorf("falling to 7 crossed threshold %v %q, want down", *ev.Data.Threshold, ev.Data.Direction)
		}
	}
	wantDelivered(t, evs, f.hook.take())

	f.api.EndSession(testApp, "meeting-1")
	evs = f.once()
	wantTypes(t, []string{diff.TypeSessionEnded}, evs)
	ended := evs[0]
	wantMeeting(t, ended, "meeting-1", 7)
	if ended.Data.SessionID != sid || ended.Data.Previous == nil || ended.Data.Previous.ID != sid || ended.Data.Current != nil {
		t.Errorf("session.ended: session_id %q, previous %+v, current %+v; want %s, the last live session, null",
			ended.Data.SessionID, ended.Data.Previous, ended.Data.Current, sid)
	}
	if ended.Data.DurationSeconds == nil || *ended.Data.DurationSeconds < 0 {
		t.Errorf("session.ended: duration_seconds %v, want >= 0", ended.Data.DurationSeconds)
	}
	if fin := ended.Data.Final; fin == nil || fin.ID != sid || fin.Status != diff.StatusEnded {
		t.Errorf("session.ended: final %+v, want the ENDED session %s from the sessions list", fin, sid)
	}
	wantDelivered(t, evs, f.hook.take())

	// Nothing changed: nothing to say, nothing sent.
	wantTypes(t, nil, f.once())
	wantTypes(t, nil, f.once())
	if reqs := f.hook.take(); len(reqs) != 0 {
		t.Errorf("quiet runs delivered %d requests", len(reqs))
	}
	if r := f.run("deliveries"); !strings.Contains(r.stdout, "the outbox is empty") {
		t.Errorf("deliveries after a clean run:\n%s%s", r.stdout, r.stderr)
	}
}

// TestOnceNewSessionID checks that a session replaced between two polls is
// an end of the old one and a start of the new one.
func TestOnceNewSessionID(t *testing.T) {
	f := newFixture(t)
	old := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 2})
	wantTypes(t, nil, f.once())
	cur := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 1})
	evs := f.once()
	wantTypes(t, []string{diff.TypeSessionEnded, diff.TypeSessionStarted}, evs)
	if got, want := []string{evs[0].Data.SessionID, evs[1].Data.SessionID}, []string{old, cur}; !cmp.Equal(want, got) {
		t.Errorf("session ids (-want +got):\n%s", cmp.Diff(want, got))
	}
	wantDelivered(t, evs, f.hook.take())
}

func TestOnceDryRun(t *testing.T) {
	f := newFixture(t)

	// Without a store file, a dry run needs none and creates none.
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 4})
	wantTypes(t, nil, f.once("--dry-run"))
	if _, err := os.Stat(f.params.StorePath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a dry run touched the store: stat: %v", err)
	}

	f.api.EndSession(testApp, "meeting-1")
	wantTypes(t, nil, f.once()) // the baseline: no session
	sid := f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 4})
	for range 2 {
		evs := f.once("--dry-run")
		wantTypes(t, []string{diff.TypeSessionStarted}, evs)
		wantMeeting(t, evs[0], "meeting-1", 1)
		if evs[0].Data.SessionID != sid {
			t.Errorf("dry run: session_id %q, want %q", evs[0].Data.SessionID, sid)
		}
	}
	if reqs := f.hook.take(); len(reqs) != 0 {
		t.Fatalf("a dry run sent %d requests", len(reqs))
	}

	// The real run sees the same start: the dry runs wrote nothing.
	evs := f.once()
	wantTypes(t, []string{diff.TypeSessionStarted}, evs)
	wantMeeting(t, evs[0], "meeting-1", 1)
	wantDelivered(t, evs, f.hook.take())

	// A dry run does not deliver what waits in the outbox either.
	f.hook.status.Store(http.StatusServiceUnavailable)
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 12 })
	wantTypes(t, []string{diff.TypeParticipantsThreshold}, f.once())
	f.hook.take()
	f.hook.status.Store(http.StatusOK)
	wantTypes(t, nil, f.once("--dry-run"))
	if reqs := f.hook.take(); len(reqs) != 0 {
		t.Errorf("a dry run delivered %d requests from the outbox", len(reqs))
	}
	rows := deliveryRows(t, f.run("deliveries"))
	if len(rows) != 1 || rows[0]["EVENT"] == "" || rows[0]["ATTEMPTS"] != "1" {
		t.Errorf("outbox after the dry run = %v, want the one failed delivery", rows)
	}
}

// TestOnceReceiverFails: a receiver answering 500 does not fail `once`; the
// delivery stays in the outbox with its attempt and error.
func TestOnceReceiverFails(t *testing.T) {
	f := newFixture(t)
	wantTypes(t, nil, f.once())
	f.hook.status.Store(http.StatusInternalServerError)
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 1})

	evs := f.once()
	wantTypes(t, []string{diff.TypeSessionStarted}, evs)
	wantDelivered(t, evs, f.hook.take()) // attempted once, signed all the same

	r := f.run("deliveries")
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	rows := deliveryRows(t, r)
	if len(rows) != 1 {
		t.Fatalf("outbox has %d deliveries, want 1:\n%s", len(rows), r.stdout)
	}
	row := rows[0]
	for k, want := range map[string]string{
		"NOTIFIER": "ops", "EVENT": evs[0].Data.ID, "TYPE": diff.TypeSessionStarted, "ATTEMPTS": "1",
	} {
		if row[k] != want {
			t.Errorf("outbox %s = %q, want %q", k, row[k], want)
		}
	}
	if !strings.Contains(row["LAST ERROR"], "500") {
		t.Errorf("outbox LAST ERROR = %q, want it to name the 500", row["LAST ERROR"])
	}
	if row["NEXT ATTEMPT"] == "now" || row["NEXT ATTEMPT"] == "-" {
		t.Errorf("outbox NEXT ATTEMPT = %q, want a time after the backoff", row["NEXT ATTEMPT"])
	}
	if r := f.run("deliveries", "--failed"); !strings.Contains(r.stdout, "no dead letters") {
		t.Errorf("deliveries --failed = %q, want no dead letters", r.stdout)
	}
}

// TestOnceUnauthorized: a 401 makes the watch fail at once, and a good
// token again recovers it.
func TestOnceUnauthorized(t *testing.T) {
	f := newFixture(t)
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 5})
	wantTypes(t, nil, f.once())

	const wrongToken = "cf-wrong-token-SECRET-9xY2"
	f.env["CLOUDFLARE_API_TOKEN"] = wrongToken
	r := f.run("once")
	r.wantCode(t, exitFailure) // a failed poll: said by the exit code, after the events
	r.noSecrets(t, wrongToken)
	if !strings.Contains(r.stderr, "1 of 1 polls failed") {
		t.Errorf("stderr does not count the failed polls:\n%s", r.stderr)
	}
	evs := decodeEvents(t, r.stdout)
	wantTypes(t, []string{diff.TypeWatchFailing}, evs)
	failing := evs[0]
	wantMeeting(t, failing, "meeting-1", 1)
	if d := failing.Data; d.StatusCode == nil || *d.StatusCode != http.StatusUnauthorized ||
		d.ConsecutiveFailures == nil || *d.ConsecutiveFailures != 1 || d.Error == "" {
		t.Errorf("watch.failing: status_code %v, consecutive_failures %v, error %q; want 401, 1 and a message",
			d.StatusCode, d.ConsecutiveFailures, d.Error)
	}
	wantDelivered(t, evs, f.hook.take())

	// Still failing: said once, not again.
	wantTypes(t, nil, f.onceExit(exitFailure))

	f.env["CLOUDFLARE_API_TOKEN"] = testToken
	evs = f.once()
	wantTypes(t, []string{diff.TypeWatchRecovered}, evs)
	if evs[0].Data.FailedForSeconds == nil {
		t.Errorf("watch.recovered without failed_for_seconds")
	}
	wantDelivered(t, evs, f.hook.take())
}

// TestOnceUnreachableAPI: an API that refuses connections yields no session
// event, and watch.failing after failing_after runs.
func TestOnceUnreachableAPI(t *testing.T) {
	f := newFixture(t)
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 5})
	wantTypes(t, nil, f.once())
	f.api.Close() // the port now refuses connections

	wantTypes(t, nil, f.onceExit(exitFailure)) // failing_after is 2
	evs := f.onceExit(exitFailure)
	wantTypes(t, []string{diff.TypeWatchFailing}, evs)
	if d := evs[0].Data; d.ConsecutiveFailures == nil || *d.ConsecutiveFailures != 2 || d.Error == "" {
		t.Errorf("watch.failing: consecutive_failures %v, error %q; want 2 and a message", d.ConsecutiveFailures, d.Error)
	}
	if sc := evs[0].Data.StatusCode; sc != nil && *sc != 0 {
		t.Errorf("watch.failing: status_code %d without an HTTP response", *sc)
	}
	wantDelivered(t, evs, f.hook.take())
	wantTypes(t, nil, f.onceExit(exitFailure))

	// The session is still what the last good poll saw.
	snaps := stateJSON(t, f.run("state", "--json"))
	if len(snaps) != 1 || snaps[0].Session == nil || snaps[0].Session.LiveParticipants != 5 || !snaps[0].Failing {
		t.Errorf("state after failures = %+v, want the live session of 5, failing", snaps)
	}
}

// TestOnceStoreLocked: another process holding the store stops `once`
// with a runtime error that says so.
func TestOnceStoreLocked(t *testing.T) {
	t.Parallel() // waits out the lock timeout
	f := newFixture(t)
	st, err := store.Open(f.params.StorePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	r := f.run("once")
	r.wantCode(t, exitFailure)
	r.noSecrets(t)
	if !strings.Contains(r.stderr, "locked by another process") {
		t.Errorf("stderr does not say the store is locked:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if f.api.Requests() != 0 {
		t.Errorf("once polled the API %d times without a store", f.api.Requests())
	}
}
