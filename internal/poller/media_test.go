package poller

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// signalSummary describes events of the app-wide signals in one line each.
func signalSummary(evs []diff.Event) []string {
	var out []string
	for _, ev := range evs {
		d := ev.Data
		s := fmt.Sprintf("%s %s/%s #%d", ev.Type, d.Watch, d.MeetingID, d.Sequence)
		switch {
		case d.Signal != "":
			s += " signal=" + d.Signal
		case d.RecordingID != "" || d.LivestreamID != "":
			prev := "<nil>"
			if d.PreviousStatus != nil {
				prev = *d.PreviousStatus
			}
			s += fmt.Sprintf(" %s%s %q→%s", d.RecordingID, d.LivestreamID, prev, d.Status)
		}
		out = append(out, s)
	}
	return out
}

// mediaWatch is testWatch("m1") reading both lists.
func mediaWatch() Watch {
	w := testWatch("m1")
	w.Recordings, w.Livestreams = true, true
	return w
}

// TestMediaScenario plays recordings and livestreams against the fake as a
// new user would meet them: a silent baseline, each event once with its
// data, the meetings of no interest to the watch followed silently, and a
// restart (a new poller over the same store) in the middle that repeats
// nothing.
func TestMediaScenario(t *testing.T) {
	h := newHarness(t)
	w := mediaWatch()
	p := h.poller(nil)
	type step struct {
		name   string
		before func(f *rtkfake.Server)
		want   []string
	}
	steps := []step{
		{name: "baseline: an old upload, a live stream, another meeting's recording", before: func(f *rtkfake.Server) {
			f.AddRecording(testApp, rtkfake.Recording{ID: "old", MeetingID: "m1", Status: rtkfake.RecordingUploaded})
			f.AddLivestream(testApp, rtkfake.Livestream{ID: "l1", MeetingID: "m1", Name: "Town Hall", Status: rtkfake.LivestreamLive})
			f.AddRecording(testApp, rtkfake.Recording{ID: "other", MeetingID: "m9", Status: rtkfake.RecordingRecording})
		}},
		{name: "a recording is invoked: nothing yet", before: func(f *rtkfake.Server) {
			f.AddRecording(testApp, rtkfake.Recording{ID: "r1", MeetingID: "m1", MeetingTitle: "Town Hall", SessionID: "s-1"})
		}},
		{name: "it records", before: func(f *rtkfake.Server) { f.SetRecordingStatus(testApp, "r1", rtkfake.RecordingRecording) },
			want: []string{`recording.started town-hall/m1 #1 r1 "INVOKED"→RECORDING`}},
		{name: "nothing changes"},
		{name: "restart", before: func(*rtkfake.Server) { p = h.poller(nil) }},
		{name: "it is uploaded, the stream stops, another meeting's upload", before: func(f *rtkfake.Server) {
			f.SetRecordingStatus(testApp, "r1", rtkfake.RecordingUploaded)
			f.SetLivestreamStatus(testApp, "l1", rtkfake.LivestreamIdle)
			f.SetRecordingStatus(testApp, "other", rtkfake.RecordingUploaded)
		}, want: []string{
			`recording.uploaded town-hall/m1 #2 r1 "RECORDING"→UPLOADED`,
			`livestream.stopped town-hall/m1 #1 l1 "LIVE"→IDLE`,
		}},
		{name: "a recording that fails at once, a stream that goes live again", before: func(f *rtkfake.Server) {
			f.AddRecording(testApp, rtkfake.Recording{ID: "r2", MeetingID: "m1", Status: rtkfake.RecordingErrored})
			f.SetLivestreamStatus(testApp, "l1", rtkfake.LivestreamLive)
		}, want: []string{
			`recording.errored town-hall/m1 #3 r2 ""→ERRORED`,
			`livestream.started town-hall/m1 #2 l1 "IDLE"→LIVE`,
		}},
		{name: "the stream errors", before: func(f *rtkfake.Server) { f.SetLivestreamStatus(testApp, "l1", rtkfake.LivestreamErrored) },
			want: []string{`livestream.errored town-hall/m1 #3 l1 "LIVE"→ERRORED`}},
		{name: "restart again", before: func(*rtkfake.Server) { p = h.poller(nil) }},
	}
	var all []diff.Event
	for _, st := range steps {
		h.clock.Advance(30 * time.Second)
		if st.before != nil {
			st.before(h.fake)
		}
		c := h.poll(p, w)
		all = append(all, c.Events...)
		if d := cmp.Diff(st.want, signalSummary(c.Events)); d != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, d)
		}
		if c.Failures != 0 {
			t.Errorf("%s: %d failures", st.name, c.Failures)
		}
	}
	// The documented data of one event, whole.
	up := all[1]
	want := diff.EventData{
		ID: up.Data.ID, Sequence: 2, Watch: "town-hall", AccountID: testAccount, AppID: testApp, MeetingID: "m1",
		MeetingDisplayName: "Town Hall", SessionID: "s-1", RecordingID: "r1", Status: "UPLOADED", PreviousStatus: ptrTo("RECORDING"),
	}
	if d := cmp.Diff(want, up.Data); d != "" {
		t.Errorf("recording.uploaded data (-want +got):\n%s", d)
	}
	if got := h.outbox(); len(got) != len(all) {
		t.Errorf("outbox holds %d deliveries, want one per event (%d): %q", len(got), len(all), got)
	}
	// Each list is read once per cycle, whatever the restarts.
	if got := h.fake.RouteRequests(rtkfake.RouteRecordings, testApp); got != len(steps) {
		t.Errorf("recordings requests = %d, want %d", got, len(steps))
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestMediaAllLive checks that an all_live watch reports the recordings of
// every meeting of the app, and that its list states are not taken for
// meetings.
func TestMediaAllLive(t *testing.T) {
	h := newHarness(t)
	w := allLiveWatch()
	w.Recordings = true
	p := h.poller(nil)
	h.poll(p, w)
	h.clock.Advance(30 * time.Second)
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "r1", MeetingID: "any", Status: rtkfake.RecordingRecording})
	c := h.poll(p, w)
	if d := cmp.Diff([]string{`recording.started everything/any #1 r1 ""→RECORDING`}, signalSummary(c.Events)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	h.clock.Advance(30 * time.Second)
	c = h.poll(p, w)
	if len(c.Events) != 0 || h.fake.Counts().ActiveSession != 0 {
		t.Errorf("events %q, %d active-session requests: the list state was taken for a meeting",
			signalSummary(c.Events), h.fake.Counts().ActiveSession)
	}
}

// TestMediaFailing checks that a list that fails is a failed poll of that
// signal only: its own watch.failing and watch.recovered, with "signal" and
// meeting "*", while the sessions go on as before.
func TestMediaFailing(t *testing.T) {
	h := newHarness(t)
	w := mediaWatch()
	w.Livestreams = false
	p := h.poller(nil)
	h.poll(p, w)
	h.fake.SetRouteFault(rtkfake.RouteRecordings, testApp, rtkfake.Fault{Kind: rtkfake.ServerError, Times: 3})
	var got []string
	for i := range 4 {
		h.clock.Advance(30 * time.Second)
		if i == 1 {
			h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 1})
		}
		c := h.poll(p, w)
		wantFailures := 1 // the recordings list's
		if i == 3 {
			wantFailures = 0
		}
		if c.Failures != wantFailures {
			t.Errorf("cycle %d: %d failures, want %d", i, c.Failures, wantFailures)
		}
		got = append(got, signalSummary(c.Events)...)
	}
	want := []string{
		"session.started town-hall/m1 #1",
		"watch.failing town-hall/* #1 signal=recordings",
		"watch.recovered town-hall/* #2 signal=recordings",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if logs := h.logs.find(t, "warn", map[string]string{"signal": "recordings", "kind": "server"}); len(logs) != 3 {
		t.Errorf("%d warnings of a failed read, want 3", len(logs))
	}
}

// TestMediaShared checks that the watches of one app that poll at about
// the same time share one read of a list, each judging it against its own
// state, and that a read older than three quarters of a watch's interval
// is not shared.
func TestMediaShared(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	p := h.poller(func(o *Options) { o.Signals = m })
	a := mediaWatch()
	b := mediaWatch()
	b.Name, b.Meetings = "stand-up", []string{"m2"}
	cycle := func(advance time.Duration, ws ...Watch) []string {
		t.Helper()
		h.clock.Advance(advance)
		var out []string
		for _, w := range ws {
			out = append(out, signalSummary(h.poll(p, w).Events)...)
		}
		return out
	}
	cycle(0, a, b)
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "r1", MeetingID: "m1", Status: rtkfake.RecordingRecording})
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "r2", MeetingID: "m2", Status: rtkfake.RecordingRecording})
	got := cycle(30*time.Second, a, b)
	want := []string{`recording.started town-hall/m1 #1 r1 ""→RECORDING`, `recording.started stand-up/m2 #1 r2 ""→RECORDING`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if n := h.fake.RouteRequests(rtkfake.RouteRecordings, testApp); n != 2 {
		t.Errorf("%d recordings requests for two cycles of two watches, want 2", n)
	}
	// Watch b comes 22.4 s after a's read (under 3/4 of 30 s): it shares it;
	// 22.5 s after: it reads.
	cycle(30*time.Second, a)
	cycle(22400*time.Millisecond, b)
	if n := h.fake.RouteRequests(rtkfake.RouteRecordings, testApp); n != 3 {
		t.Errorf("%d recordings requests, want 3: b shares a's read from 22.4 s before", n)
	}
	cycle(30*time.Second-22400*time.Millisecond, a)
	cycle(22500*time.Millisecond, b)
	if n := h.fake.RouteRequests(rtkfake.RouteRecordings, testApp); n != 5 {
		t.Errorf("%d recordings requests, want 5: a read from 22.5 s before is not shared", n)
	}
	wantSamples(t, reg, map[string]float64{
		`rtkwatchd_signal_reads_total{outcome="read",signal="recordings",watch="town-hall"}`:  4,
		`rtkwatchd_signal_reads_total{outcome="shared",signal="recordings",watch="stand-up"}`: 3,
		`rtkwatchd_signal_reads_total{outcome="read",signal="recordings",watch="stand-up"}`:   1,
	})
}

// TestMediaLeftOut checks bad entries: an unknown status and a recording
// without a meeting are logged and counted once while they stay, and never
// an event.
func TestMediaLeftOut(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	p := h.poller(func(o *Options) { o.Signals = m })
	w := mediaWatch()
	h.poll(p, w)
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "odd", MeetingID: "m1", Status: "TRANSCODING"})
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "orphan", Status: rtkfake.RecordingRecording})
	h.fake.AddLivestream(testApp, rtkfake.Livestream{ID: "l-odd", MeetingID: "m1", Status: "BUFFERING"})
	for range 3 {
		h.clock.Advance(30 * time.Second)
		if c := h.poll(p, w); len(c.Events) != 0 {
			t.Errorf("events %q from entries that cannot be judged", signalSummary(c.Events))
		}
	}
	wantSamples(t, reg, map[string]float64{
		`rtkwatchd_entries_left_out_total{reason="unknown_status",signal="recordings"}`:  1,
		`rtkwatchd_entries_left_out_total{reason="no_meeting",signal="recordings"}`:      1,
		`rtkwatchd_entries_left_out_total{reason="unknown_status",signal="livestreams"}`: 1,
	})
	logs := h.logs.find(t, "warn", map[string]string{"reason": "unknown_status", "id": "odd", "value": "TRANSCODING", "meeting": "m1"})
	if len(logs) != 1 {
		t.Errorf("%d warnings of the unknown status, want 1", len(logs))
	}
}

// TestMediaReload checks that a meeting added to a watch by a reload does
// not report what its recordings did before: they were followed silently.
func TestMediaReload(t *testing.T) {
	h := newHarness(t)
	w := mediaWatch()
	h.poll(h.poller(nil), w)
	h.clock.Advance(30 * time.Second)
	h.fake.AddRecording(testApp, rtkfake.Recording{ID: "r2", MeetingID: "m2", Status: rtkfake.RecordingRecording})
	if c := h.poll(h.poller(nil), w); len(c.Events) != 0 {
		t.Fatalf("events %q about a meeting the watch does not have", signalSummary(c.Events))
	}
	w.Meetings = []string{"m1", "m2"} // the reload: a new poller, the same store
	p := h.poller(nil)
	h.clock.Advance(30 * time.Second)
	if c := h.poll(p, w); len(c.Events) != 0 {
		t.Errorf("events %q after the reload, want none: r2 started before m2 was watched", signalSummary(c.Events))
	}
	h.clock.Advance(30 * time.Second)
	h.fake.SetRecordingStatus(testApp, "r2", rtkfake.RecordingUploaded)
	c := h.poll(p, w)
	if d := cmp.Diff([]string{`recording.uploaded town-hall/m2 #1 r2 "RECORDING"→UPLOADED`}, signalSummary(c.Events)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// wantSamples fails the test unless each sample of want has its value in
// reg; other samples may exist.
func wantSamples(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	g := gather(t, reg)
	for k, v := range want {
		if g[k] != v {
			t.Errorf("%s = %g, want %g", k, g[k], v)
		}
	}
}

// TestMediaChargesPages checks that every page of a list waits for the
// request budget, as the sessions list's do (see TestPollAllLivePages for the
// frozen clock).
func TestMediaChargesPages(t *testing.T) {
	h := newHarness(t)
	for i := range 250 {
		h.fake.AddRecording(testApp, rtkfake.Recording{ID: fmt.Sprintf("r%03d", i), MeetingID: "m1"})
	}
	budget := NewBudget(40, func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) })
	p := h.poller(func(o *Options) { o.Budget = budget })
	w := testWatch() // no meetings: the list is all the watch reads
	w.Recordings = true
	h.poll(p, w)
	if n := h.fake.RouteRequests(rtkfake.RouteRecordings, testApp); n != 3 {
		t.Errorf("%d recordings requests, want 3 pages of 100", n)
	}
	if got := budget.Available(); got < 1 || got > 1.5 {
		t.Errorf("budget has %.2f requests left; want 1 (4, less 3 pages)", got)
	}
	var st diff.MediaState
	if err := json.Unmarshal(h.rawSnapshots(w.Name)[RecordingsMeetingID], &st); err != nil || len(st.Items) != 250 || !st.Baselined {
		t.Errorf("state: %d items, baselined %v, %v; want all 250", len(st.Items), st.Baselined, err)
	}
}
