package main

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// These tests build rtkwatchd and run it as a process, against the fake API
// and webhook receivers in the test process, the way systemd would run it:
// crashes, signals, reloads and a second process on the same store.

// procRig is a fake API, a webhook receiver, and the config and store of
// the daemon children that use them.
type procRig struct {
	t      *testing.T
	bin    string
	fake   *rtkfake.Server
	hook   *hookRecorder
	dir    string
	path   string // the config file
	cfg    procConfig
	admin  string // host:port of the admin server
	extEnv []string
}

// newProcRig prepares a rig whose receiver answers hookStatus, with the
// given watches; it writes the config file.
func newProcRig(t *testing.T, hookStatus int, watches ...procWatch) *procRig {
	t.Helper()
	bin := daemonBinary(t)
	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	r := &procRig{
		t: t, bin: bin, fake: fake, hook: newHookRecorder(t, hookStatus), dir: dir,
		path:  filepath.Join(dir, "config.yaml"),
		admin: freeLoopbackAddr(t),
	}
	r.cfg = procConfig{
		APIURL: fake.URL(), StorePath: filepath.Join(dir, "state.db"), Admin: r.admin,
		HookURL: r.hook.URL(), Watches: watches,
	}
	r.cfg.write(t, r.path)
	return r
}

// start runs `rtkwatchd run` on the rig's config.
func (r *procRig) start() *daemonProc {
	r.t.Helper()
	return startDaemon(r.t, r.bin, childEnv(r.extEnv...), "run", "--config", r.path)
}

// cli runs a short command with --config pointing at the rig's config.
func (r *procRig) cli(args ...string) (stdout, stderr string, code int) {
	r.t.Helper()
	return runBinary(r.t, r.bin, childEnv(), 20*time.Second, append(args, "--config", r.path)...)
}

// polls returns how many active-session requests reached meeting.
func (r *procRig) polls(meeting string) int {
	return r.fake.ActiveSessionRequests(procApp, meeting)
}

// waitPolls waits until each meeting has been polled n more times than
// now: with cycles that never overlap, the second poll from now starts
// after a cycle that began after this call has committed.
func (r *procRig) waitPolls(n int, meetings ...string) {
	r.t.Helper()
	from := make([]int, len(meetings))
	for i, m := range meetings {
		from[i] = r.polls(m)
	}
	pollUntil(r.t, 15*time.Second, fmt.Sprintf("%d polls of %v", n, meetings), func() bool {
		for i, m := range meetings {
			if r.polls(m) < from[i]+n {
				return false
			}
		}
		return true
	})
}

// step changes the fake and waits for the receiver to get an attempt of
// the event the change implies.
func (r *procRig) step(meeting, typ string, change func()) {
	r.t.Helper()
	change()
	pollUntil(r.t, 15*time.Second, typ+" of "+meeting+" at the receiver", func() bool { return r.hook.hasType(meeting, typ) })
}

// stepCommitted changes the fake and waits for the outbox to hold the event
// the change implies.
func (r *procRig) stepCommitted(meeting, typ string, change func()) {
	r.t.Helper()
	change()
	pollUntil(r.t, 15*time.Second, typ+" of "+meeting+" in the outbox", func() bool {
		for _, ev := range pendingEvents(r.t, r.admin) {
			if ev.Data.MeetingID == meeting && ev.Type == typ {
				return true
			}
		}
		return false
	})
}

func (r *procRig) startSession(meeting string, live int) func() {
	return func() {
		r.fake.StartSession(procApp, meeting, rtkfake.Session{LiveParticipants: live, MinutesConsumed: 1})
	}
}

func (r *procRig) setLive(meeting string, live int) func() {
	return func() {
		if !r.fake.UpdateSession(procApp, meeting, func(s *rtkfake.Session) { s.LiveParticipants = live }) {
			r.t.Errorf("meeting %s has no live session to update", meeting)
		}
	}
}

func (r *procRig) endSession(meeting string) func() {
	return func() { r.fake.EndSession(procApp, meeting) }
}

// transitionsByMeeting lists the event types of events per meeting, in
// order of sequence, and checks that sequences run 1, 2, 3… per meeting.
func transitionsByMeeting(t *testing.T, events map[string]diff.Event) map[string][]string {
	t.Helper()
	byMeeting := map[string][]diff.Event{}
	for _, ev := range events {
		byMeeting[ev.Data.MeetingID] = append(byMeeting[ev.Data.MeetingID], ev)
	}
	out := map[string][]string{}
	for m, evs := range byMeeting {
		sort.Slice(evs, func(i, j int) bool { return evs[i].Data.Sequence < evs[j].Data.Sequence })
		for i, ev := range evs {
			if ev.Data.Sequence != uint64(i+1) {
				t.Errorf("meeting %s: event %d (%s) has sequence %d", m, i, ev.Type, ev.Data.Sequence)
			}
			out[m] = append(out[m], ev.Type)
		}
	}
	return out
}

// idTypes maps each attempt's webhook-id to its event type.
func idTypes(attempts []hookAttempt) map[string]string {
	m := map[string]string{}
	for _, a := range attempts {
		m[a.WebhookID] = a.Event.Type
	}
	return m
}

// TestProcessCrashSafety kills the daemon while its events wait in the
// outbox behind a failing receiver, and restarts it on the same store with
// a healthy one (SPEC §6): every event arrives, signed, under the id it
// first had, and nothing is emitted twice.
func TestProcessCrashSafety(t *testing.T) {
	t.Parallel()
	r := newProcRig(t, http.StatusInternalServerError,
		procWatch{Name: "crash", Meetings: []string{"m1", "m2"}, Participants: []int{10}})
	d := r.start()
	waitReady(t, r.admin)
	r.waitPolls(2, "m1", "m2") // baselines: no session
	// The receiver fails, so the daemon holds a meeting's later events
	// until its first is delivered: wait for each change to be committed
	// to the outbox. Few steps keep the first events' retry backoff short.
	r.startSession("m1", 5)()
	r.stepCommitted("m2", diff.TypeSessionStarted, r.startSession("m2", 3))
	r.setLive("m1", 15)()
	r.stepCommitted("m2", diff.TypeParticipantsThreshold, r.setLive("m2", 12))
	r.stepCommitted("m1", diff.TypeSessionEnded, r.endSession("m1"))
	pollUntil(t, 10*time.Second, "attempts at both meetings' first events", func() bool {
		return r.hook.hasType("m1", diff.TypeSessionStarted) && r.hook.hasType("m2", diff.TypeSessionStarted)
	})
	var pendingIDs []string
	for _, ev := range pendingEvents(t, r.admin) {
		pendingIDs = append(pendingIDs, ev.Data.ID)
	}
	if len(pendingIDs) != 5 {
		t.Fatalf("%d pending deliveries before the kill, want 5", len(pendingIDs))
	}
	d.signal(syscall.SIGKILL)
	d.waitExit(5 * time.Second)
	firstRun := r.hook.all()
	for _, a := range firstRun {
		if a.Status != http.StatusInternalServerError {
			t.Fatalf("first run: attempt %s answered %d, want 500", a.WebhookID, a.Status)
		}
	}
	firstIDs := idTypes(firstRun)
	for id := range firstIDs {
		if !slices.Contains(pendingIDs, id) {
			t.Fatalf("event %s was attempted in the first run but is not pending", id)
		}
	}

	// Restart on the same store; the receiver is healthy now.
	r.hook.status.Store(http.StatusNoContent)
	d = r.start()
	pollUntil(t, 45*time.Second, "every pending event delivered after the restart", func() bool {
		got := r.hook.delivered()
		for _, id := range pendingIDs {
			if _, ok := got[id]; !ok {
				return false
			}
		}
		return true
	})
	pollUntil(t, 10*time.Second, "an empty outbox", func() bool { return len(pendingDeliveries(t, r.admin)) == 0 })
	// The restarted daemon polls both meetings again (m2 is still live,
	// above its threshold) and must not emit anything it emitted before.
	r.waitPolls(3, "m1", "m2")
	if diff := cmp.Diff(pendingIDs, slices.Sorted(maps.Keys(idTypes(r.hook.all())))); diff != "" {
		t.Fatalf("event ids at the receiver after the restart (-pending at the kill +received):\n%s", diff)
	}

	// It still works: m2 ends, one new event, sequence 3.
	r.step("m2", diff.TypeSessionEnded, r.endSession("m2"))
	pollUntil(t, 10*time.Second, "delivery of m2's end", func() bool { return len(r.hook.delivered()) == 6 })
	all := r.hook.all()
	checkAttempts(t, all)
	want := map[string][]string{
		"m1": {diff.TypeSessionStarted, diff.TypeParticipantsThreshold, diff.TypeSessionEnded},
		"m2": {diff.TypeSessionStarted, diff.TypeParticipantsThreshold, diff.TypeSessionEnded},
	}
	if diff := cmp.Diff(want, transitionsByMeeting(t, r.hook.delivered())); diff != "" {
		t.Errorf("delivered transitions (-want +got):\n%s", diff)
	}
	if n := len(idTypes(all)); n != 6 {
		t.Errorf("%d distinct event ids at the receiver, want 6", n)
	}
	d.signal(syscall.SIGTERM)
	if code := d.waitExit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestProcessReload sends SIGHUP twice: with a broken config, which the
// daemon rejects and keeps running on the old one, and with a config that
// adds a watch, whose meeting gets a silent baseline and then events, while
// nothing sent before is sent again.
func TestProcessReload(t *testing.T) {
	t.Parallel()
	w1 := procWatch{Name: "first", Meetings: []string{"m1"}, Participants: []int{10}}
	r := newProcRig(t, http.StatusNoContent, w1)
	d := r.start()
	waitReady(t, r.admin)
	r.waitPolls(2, "m1")
	r.step("m1", diff.TypeSessionStarted, r.startSession("m1", 4))

	// A broken config is rejected; the daemon goes on with the old one.
	good := r.cfg
	if err := os.WriteFile(r.path, []byte("api: [this is not\n  a config: {"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	pollUntil(t, 10*time.Second, "the reload to be rejected", func() bool {
		return len(d.logged("reload rejected")) == 1
	})
	r.waitPolls(2, "m1")
	if code, body, err := adminGet(r.admin, "/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz after a rejected reload: %d %v %s", code, err, body)
	}
	r.step("m1", diff.TypeParticipantsThreshold, r.setLive("m1", 11))

	// A second watch over a meeting that is already live: a silent
	// baseline, then an event for a change.
	r.startSession("m2", 7)()
	good.Watches = []procWatch{w1, {Name: "second", Meetings: []string{"m2"}, Participants: []int{10}}}
	good.write(t, r.path)
	d.signal(syscall.SIGHUP)
	pollUntil(t, 10*time.Second, "the reload to be applied", func() bool { return len(d.logged("config reloaded")) == 1 })
	r.waitPolls(2, "m2", "m1")
	if r.hook.hasType("m2", diff.TypeSessionStarted) {
		t.Fatal("the new watch's first poll sent session.started; want a silent baseline")
	}
	r.step("m2", diff.TypeParticipantsThreshold, r.setLive("m2", 12))
	r.waitPolls(2, "m1", "m2")

	all := r.hook.all()
	checkAttempts(t, all)
	if len(all) != len(idTypes(all)) {
		t.Errorf("%d attempts for %d events: something was sent twice", len(all), len(idTypes(all)))
	}
	want := map[string][]string{
		"m1": {diff.TypeSessionStarted, diff.TypeParticipantsThreshold},
		"m2": {diff.TypeParticipantsThreshold},
	}
	got := transitionsByMeeting(t, r.hook.delivered())
	// m2's first event is its first transition after the baseline.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered transitions (-want +got):\n%s", diff)
	}
	d.signal(syscall.SIGTERM)
	if code := d.waitExit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestProcessDrainCutShort stops a daemon whose delivery hangs: the first
// SIGTERM waits for the attempt in flight, the second ends it at once, long
// before delivery.timeout, and the event stays in the outbox.
func TestProcessDrainCutShort(t *testing.T) {
	t.Parallel()
	r := newProcRig(t, hookHang, procWatch{Name: "drain", Meetings: []string{"m1"}})
	r.cfg.DeliveryTimeout = "30s"
	r.cfg.write(t, r.path)
	d := r.start()
	waitReady(t, r.admin)
	r.waitPolls(2, "m1")
	r.step("m1", diff.TypeSessionStarted, r.startSession("m1", 2))
	id := r.hook.all()[0].WebhookID

	d.signal(syscall.SIGTERM)
	pollUntil(t, 10*time.Second, "the daemon to start draining", func() bool {
		return len(d.logged("stopping: finishing running cycles")) == 1
	})
	if d.exited() {
		t.Fatal("the daemon exited on the first SIGTERM although a delivery was in flight")
	}
	start := time.Now()
	d.signal(syscall.SIGTERM)
	code := d.waitExit(10 * time.Second)
	took := time.Since(start)
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if took > 5*time.Second {
		t.Errorf("exited %s after the second SIGTERM; want well under delivery.timeout (30s)", took)
	}
	if len(d.logged("second signal: abandoning deliveries")) != 1 {
		t.Error("no log line about abandoning the delivery in flight")
	}
	t.Logf("exited %s after the second SIGTERM", took.Round(time.Millisecond))

	stdout, stderr, code := r.cli("deliveries")
	if code != 0 {
		t.Fatalf("deliveries: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, id) || !strings.Contains(stdout, diff.TypeSessionStarted) {
		t.Errorf("the abandoned delivery %s is not in the outbox:\n%s", id, stdout)
	}
}

// TestProcessStoreLocked runs a second daemon on the store of a running one
// (it must refuse), and reads the state and the outbox while the daemon
// holds the store (through its admin API).
func TestProcessStoreLocked(t *testing.T) {
	t.Parallel()
	r := newProcRig(t, http.StatusNoContent, procWatch{Name: "locked", Meetings: []string{"m1"}})
	sessionID := r.fake.StartSession(procApp, "m1", rtkfake.Session{LiveParticipants: 3})
	d := r.start()
	waitReady(t, r.admin)
	r.waitPolls(2, "m1")

	// The three commands wait for the lock at the same time.
	type out struct {
		stdout, stderr string
		code           int
		err            error
	}
	cli := func(o *out, cmd string) {
		o.stdout, o.stderr, o.code, o.err = execBinary(r.bin, childEnv(), 20*time.Second, cmd, "--config", r.path)
	}
	var second, state, deliveries out
	var wg sync.WaitGroup
	wg.Go(func() { cli(&second, "run") })
	wg.Go(func() { cli(&state, "state") })
	wg.Go(func() { cli(&deliveries, "deliveries") })
	wg.Wait()
	for _, o := range []out{second, state, deliveries} {
		if o.err != nil {
			t.Fatal(o.err)
		}
	}

	if second.code != 1 || !strings.Contains(second.stderr, "locked by another process") {
		t.Errorf("second run: exit %d, stderr %q; want 1 and \"locked by another process\"", second.code, second.stderr)
	}
	if state.code != 0 || !strings.Contains(state.stdout, sessionID) || !strings.Contains(state.stdout, "LIVE") {
		t.Errorf("state while the daemon runs: exit %d\nstdout:\n%s\nstderr:\n%s", state.code, state.stdout, state.stderr)
	}
	if deliveries.code != 0 || !strings.Contains(deliveries.stdout, "the outbox is empty") {
		t.Errorf("deliveries while the daemon runs: exit %d\nstdout:\n%s\nstderr:\n%s", deliveries.code, deliveries.stdout, deliveries.stderr)
	}
	if d.exited() {
		t.Fatal("the running daemon exited")
	}
	waitReady(t, r.admin)
	d.signal(syscall.SIGTERM)
	if code := d.waitExit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}
