package poller

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

func TestPollExplicitLifecycle(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 7})
	w := testWatch("m1", "m2")
	p := h.poller(nil)

	var startedAt time.Time
	steps := []struct {
		name   string
		before func()
		want   []string
	}{
		{"baseline is silent", nil, nil},
		{"start", func() {
			startedAt = h.clock.Now()
			h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 1})
		}, []string{"session.started m1"}},
		{"first threshold up", func() {
			h.fake.UpdateSession(testApp, "m1", participants(6))
		}, []string{"participants.threshold_crossed m1 up 5"}},
		{"second threshold and minutes", func() {
			h.fake.UpdateSession(testApp, "m1", func(s *rtkfake.Session) { s.LiveParticipants, s.MinutesConsumed = 12, 150 })
		}, []string{"participants.threshold_crossed m1 up 10", "minutes.threshold_crossed m1 100"}},
		{"within hysteresis", func() {
			h.fake.UpdateSession(testApp, "m1", participants(8))
		}, nil},
		{"down below hysteresis", func() {
			h.fake.UpdateSession(testApp, "m1", participants(7))
		}, []string{"participants.threshold_crossed m1 down 10"}},
		{"end", func() { h.fake.EndSession(testApp, "m1") }, []string{"session.ended m1"}},
		{"quiet", nil, nil},
	}
	var seq uint64
	for _, st := range steps {
		h.clock.Advance(30 * time.Second)
		if st.before != nil {
			st.before()
		}
		c := h.poll(p, w)
		if diff := cmp.Diff(st.want, summary(c.Events)); diff != "" {
			t.Fatalf("%s: events (-want +got):\n%s", st.name, diff)
		}
		if c.Polls != 2 || c.Failures != 0 {
			t.Errorf("%s: %d polls, %d failures; want 2, 0", st.name, c.Polls, c.Failures)
		}
		for _, ev := range c.Events {
			seq++
			if ev.Data.Sequence != seq || !ev.Timestamp.Equal(h.clock.Now()) || ev.Data.Watch != w.Name ||
				ev.Data.AccountID != testAccount || ev.Data.AppID != testApp {
				t.Errorf("%s: %s has sequence %d, time %s, watch %q, account %q, app %q; want %d, %s",
					st.name, ev.Type, ev.Data.Sequence, ev.Timestamp, ev.Data.Watch, ev.Data.AccountID, ev.Data.AppID, seq, h.clock.Now())
			}
		}
		if st.name == "baseline is silent" {
			m2, _ := h.snapshot(w.Name, "m2")
			if !m2.Baselined || m2.Session == nil || m2.Session.LiveParticipants != 7 || !slices.Equal(m2.ParticipantsUp, []int{5}) {
				t.Errorf("baseline of m2 = %+v; want its live session with threshold 5 already up", m2)
			}
			m1, _ := h.snapshot(w.Name, "m1")
			if !m1.Baselined || m1.Session != nil {
				t.Errorf("baseline of m1 = %+v; want baselined without session", m1)
			}
		}
		if st.name == "end" {
			d := c.Events[0].Data
			ended := h.fake.EndedSessions(testApp, "m1")
			if len(ended) != 1 || d.Final == nil {
				t.Fatalf("session.ended final = %+v; fake has %d ended sessions", d.Final, len(ended))
			}
			if d.Final.Status != diff.StatusEnded || d.Final.EndedAt != ended[0].EndedAt || d.Final.MinutesConsumed != 150 {
				t.Errorf("final = %+v; want the ended session %+v", d.Final, ended[0])
			}
			if d.Previous == nil || d.Previous.LiveParticipants != 7 || d.Current != nil {
				t.Errorf("previous = %+v, current = %+v; want the last live state and null", d.Previous, d.Current)
			}
			want := int64(h.clock.Now().Sub(startedAt) / time.Second)
			if d.DurationSeconds == nil || *d.DurationSeconds != want {
				t.Errorf("duration_seconds = %v; want %d", d.DurationSeconds, want)
			}
		}
	}
	m1, _ := h.snapshot(w.Name, "m1")
	if m1.Session != nil || m1.Sequence != seq || m1.ParticipantsUp != nil || m1.MinutesReached != nil {
		t.Errorf("final snapshot of m1 = %+v; want no session, sequence %d, no thresholds", m1, seq)
	}
	if got := len(h.outbox()); got != int(seq) {
		t.Errorf("outbox holds %d deliveries; want %d (one per event to ops)", got, seq)
	}
}

func TestPollFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault rtkfake.Fault
		// want lists the events of the cycles after the baseline; the
		// session ends just before the last failing poll, unseen until
		// the API answers again.
		want   [][]string
		status int
	}{
		{
			name:  "server errors",
			fault: rtkfake.Fault{Kind: rtkfake.ServerError, Times: 3},
			want: [][]string{
				nil, nil, {"watch.failing m1"},
				{"watch.recovered m1", "session.ended m1"},
			},
			status: 500,
		},
		{
			name:  "bad gateway",
			fault: rtkfake.Fault{Kind: rtkfake.BadGatewayHTML, Times: 4},
			want: [][]string{
				nil, nil, {"watch.failing m1"}, nil,
				{"watch.recovered m1", "session.ended m1"},
			},
			status: 502,
		},
		{
			name:  "unauthorized at once",
			fault: rtkfake.Fault{Kind: rtkfake.Unauthorized, Times: 1},
			want: [][]string{
				{"watch.failing m1"},
				{"watch.recovered m1", "session.ended m1"},
			},
			status: 401,
		},
		{
			name:  "garbage never fails the watch below failing_after",
			fault: rtkfake.Fault{Kind: rtkfake.Garbage, Times: 2},
			want:  [][]string{nil, nil, {"session.ended m1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 4})
			w := testWatch("m1")
			p := h.poller(nil)
			h.poll(p, w)
			base, _ := h.snapshot(w.Name, "m1")

			h.fake.SetFault(testApp, "m1", tt.fault)
			failing := len(tt.want) - 1
			for i, want := range tt.want {
				h.clock.Advance(30 * time.Second)
				if i == failing-1 {
					h.fake.EndSession(testApp, "m1") // unseen until the API answers
				}
				c := h.poll(p, w)
				if diff := cmp.Diff(want, summary(c.Events)); diff != "" {
					t.Fatalf("cycle %d: events (-want +got):\n%s", i+1, diff)
				}
				snap, _ := h.snapshot(w.Name, "m1")
				if i == failing {
					if c.Failures != 0 || snap.ConsecutiveFailures != 0 || snap.Failing || snap.Session != nil {
						t.Errorf("after recovery: %d failures, snapshot %+v", c.Failures, snap)
					}
					continue
				}
				if c.Failures != 1 || snap.ConsecutiveFailures != i+1 || snap.LastError == "" {
					t.Errorf("cycle %d: %d failures, snapshot failures %d, last error %q", i+1, c.Failures, snap.ConsecutiveFailures, snap.LastError)
				}
				if diff := cmp.Diff(base.Session, snap.Session); diff != "" {
					t.Errorf("cycle %d: a failed poll changed the session (-want +got):\n%s", i+1, diff)
				}
				for _, ev := range c.Events {
					if ev.Type != diff.TypeWatchFailing {
						continue
					}
					if ev.Data.StatusCode == nil || *ev.Data.StatusCode != tt.status ||
						ev.Data.ConsecutiveFailures == nil || *ev.Data.ConsecutiveFailures != i+1 || ev.Data.Error == "" {
						t.Errorf("watch.failing data = %+v; want status %d after %d failures", ev.Data, tt.status, i+1)
					}
					if strings.Contains(ev.Data.Error, testToken) {
						t.Errorf("watch.failing error quotes the token: %q", ev.Data.Error)
					}
				}
			}
		})
	}
}

func TestPollRateLimitPausesBudget(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1")
	budget := NewBudget(1000, nil)
	p := h.poller(func(o *Options) { o.Budget = budget })
	h.poll(p, w)

	h.fake.SetFault(testApp, "m1", rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 30, Times: 1})
	before := time.Now()
	c := h.poll(p, w)
	after := time.Now()
	if c.Failures != 1 || len(c.Events) != 0 {
		t.Fatalf("429 cycle: %d failures, events %v; want 1 failure and no event", c.Failures, summary(c.Events))
	}
	until := budget.PausedUntil()
	if until.Before(before.Add(30*time.Second)) || until.After(after.Add(30*time.Second)) {
		t.Fatalf("budget paused until %s; want 30s after the 429 (%s…%s)", until, before, after)
	}

	// Every later request waits for the pause: a cycle that may only wait
	// briefly makes none, writes nothing and counts no failure.
	w = testWatch("m1", "m2")
	requests := h.fake.Counts().Total
	snaps := h.rawSnapshots(w.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c, err := p.Poll(ctx, w)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Poll during the pause = %v; want the context's deadline", err)
	}
	if c.Polls != 0 || c.Failures != 0 {
		t.Errorf("cycle during the pause: %d polls, %d failures; want none", c.Polls, c.Failures)
	}
	if got := h.fake.Counts().Total; got != requests {
		t.Errorf("%d requests made during the pause", got-requests)
	}
	if diff := cmp.Diff(snaps, h.rawSnapshots(w.Name)); diff != "" {
		t.Errorf("snapshots changed during the pause (-want +got):\n%s", diff)
	}
}

func TestPollCancelledMidCycle(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1", "m2")
	polled := make(chan struct{}, 2)
	p := h.poller(func(o *Options) {
		o.Concurrency = 2
		o.Observer = observerFunc(func(string, diff.Observation) { polled <- struct{}{} })
	})
	h.poll(p, w)
	<-polled
	<-polled
	before := h.rawSnapshots(w.Name)

	h.clock.Advance(30 * time.Second)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 2})
	h.fake.StartSession(testApp, "m2", rtkfake.Session{LiveParticipants: 2})
	h.fake.SetFault(testApp, "m2", rtkfake.Fault{Kind: rtkfake.Hang})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		c   Cycle
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := p.Poll(ctx, w)
		done <- result{c, err}
	}()
	// Cancel once m1 is observed and m2's request hangs at the fake.
	<-polled
	waitFor(t, "m2's request to reach the fake", func() bool {
		return h.fake.ActiveSessionRequests(testApp, "m2") == 2
	})
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("Poll: %v; want the observed meeting committed", r.err)
	}
	if diff := cmp.Diff([]string{"session.started m1"}, summary(r.c.Events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if r.c.Polls != 1 || r.c.Failures != 0 {
		t.Errorf("%d polls, %d failures; want 1, 0", r.c.Polls, r.c.Failures)
	}
	if got := h.rawSnapshots(w.Name)["m2"]; !bytes.Equal(got, before["m2"]) {
		t.Errorf("interrupted m2 was written:\n got %s\nwant %s", got, before["m2"])
	}
	if m1, _ := h.snapshot(w.Name, "m1"); m1.Session == nil {
		t.Errorf("m1 was not committed: %+v", m1)
	}
}

func TestPollCancelledFetchingFinalNumbers(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1")
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 2})
	h.poll(h.poller(nil), w)
	before := h.rawSnapshots(w.Name)

	h.clock.Advance(30 * time.Second)
	h.fake.EndSession(testApp, "m1")
	hold := holdTransport{
		match:   func(r *http.Request) bool { return r.URL.Query().Get("status") == "ENDED" },
		arrived: make(chan struct{}, 1),
	}
	p := New(h.newClient(hold), Options{AccountID: testAccount, Store: h.store, Now: h.clock.Now, Logger: zerolog.New(h.logs)})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-hold.arrived
		cancel()
	}()
	c, err := p.Poll(ctx, w)
	if !errors.Is(err, context.Canceled) || c.Polls != 0 || len(c.Events) != 0 {
		t.Fatalf("Poll = %+v, %v; want nothing observed and the cancellation", c, err)
	}
	if diff := cmp.Diff(before, h.rawSnapshots(w.Name)); diff != "" {
		t.Errorf("an interrupted end was written (-want +got):\n%s", diff)
	}
	if warns := h.logs.find(t, "warn", nil); len(warns) != 0 {
		t.Errorf("an interruption was logged as a problem: %v", warns)
	}

	c = h.poll(h.poller(nil), w)
	if len(c.Events) != 1 || c.Events[0].Type != diff.TypeSessionEnded || c.Events[0].Data.Final == nil {
		t.Errorf("next cycle: %v; want session.ended with its final numbers", summary(c.Events))
	}
}

// failingStore is a Store whose commits fail.
type failingStore struct {
	Store
	err error
}

func (f failingStore) Commit([]store.Update) error { return f.err }

func TestPollCommitError(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1")
	errDisk := errors.New("disk full")
	p := h.poller(func(o *Options) { o.Store = failingStore{Store: h.store, err: errDisk} })
	_, err := p.Poll(context.Background(), w)
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "watch "+w.Name) {
		t.Fatalf("Poll = %v; want an error naming watch %s and wrapping %v", err, w.Name, errDisk)
	}
	if _, ok := h.snapshot(w.Name, "m1"); ok {
		t.Error("a snapshot was stored despite the failed commit")
	}
}

func TestPollDryRun(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1", "m2")
	h.poll(h.poller(nil), w)
	before := h.rawSnapshots(w.Name)

	h.clock.Advance(30 * time.Second)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 11})
	c := h.poll(h.poller(func(o *Options) { o.DryRun = true }), w)
	want := []string{"session.started m1", "participants.threshold_crossed m1 up 5", "participants.threshold_crossed m1 up 10"}
	if diff := cmp.Diff(want, summary(c.Events)); diff != "" {
		t.Errorf("dry-run events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, h.rawSnapshots(w.Name)); diff != "" {
		t.Errorf("dry run changed snapshots (-want +got):\n%s", diff)
	}
	if got := h.outbox(); len(got) != 0 {
		t.Errorf("dry run queued deliveries: %v", got)
	}

	// Without a store every meeting is new: a silent baseline.
	c = h.poll(h.poller(func(o *Options) { o.DryRun, o.Store = true, nil }), w)
	if c.Polls != 2 || len(c.Events) != 0 {
		t.Errorf("storeless dry run: %d polls, events %v; want 2 polls, none", c.Polls, summary(c.Events))
	}
}

func TestPollCorruptSnapshot(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1", "m2")
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 20})
	err := h.store.Commit([]store.Update{
		{Key: store.SnapshotKey{Watch: w.Name, MeetingID: "m1"}, Snapshot: []byte(`{"baselined":tru`)},
		{Key: store.SnapshotKey{Watch: w.Name, MeetingID: "m2"}, Snapshot: []byte(`[1,2]`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := h.poll(h.poller(nil), w)
	if len(c.Events) != 0 || c.Polls != 2 {
		t.Fatalf("%d polls, events %v; want 2 polls and a silent baseline", c.Polls, summary(c.Events))
	}
	m1, _ := h.snapshot(w.Name, "m1")
	if !m1.Baselined || m1.Session == nil || !slices.Equal(m1.ParticipantsUp, []int{5, 10}) {
		t.Errorf("m1 = %+v; want a fresh baseline of its live session", m1)
	}
	for _, m := range []string{"m1", "m2"} {
		if got := h.logs.find(t, "error", map[string]string{"meeting": m, "watch": w.Name}); len(got) != 1 {
			t.Errorf("%d errors logged for the corrupt snapshot of %s; want 1:\n%s", len(got), m, h.logs)
		}
	}
}

// panicAPI is an API whose active-session polls of one meeting panic.
type panicAPI struct {
	API
	meeting string
}

func (p panicAPI) ActiveSession(ctx context.Context, appID, meetingID string) (*rtkapi.Session, error) {
	if meetingID == p.meeting {
		panic("boom")
	}
	return p.API.ActiveSession(ctx, appID, meetingID)
}

func TestPollPanicReachesCaller(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1", "m2", "m3")
	p := New(panicAPI{API: h.client, meeting: "m2"},
		Options{AccountID: testAccount, Store: h.store, Now: h.clock.Now, Logger: zerolog.Nop()})
	var r any
	func() {
		defer func() { r = recover() }()
		_, _ = p.Poll(context.Background(), w)
	}()
	err, ok := r.(error)
	if !ok || !strings.Contains(err.Error(), "m2") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("recovered %v; want the panic of m2 raised in Poll's goroutine", r)
	}
	if snaps := h.rawSnapshots(w.Name); len(snaps) != 0 {
		t.Errorf("a panicking cycle committed %d snapshots", len(snaps))
	}
}
