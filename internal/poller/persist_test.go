package poller

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// writeLog is a Store that records which snapshots each commit writes.
type writeLog struct {
	*store.Store
	mu     sync.Mutex
	writes []string // "meeting" or "-meeting" for a delete, every commit since the last take
}

func (s *writeLog) Commit(updates []store.Update) error {
	s.mu.Lock()
	for _, u := range updates {
		if u.Delete {
			s.writes = append(s.writes, "-"+u.Key.MeetingID)
		} else {
			s.writes = append(s.writes, u.Key.MeetingID)
		}
	}
	s.mu.Unlock()
	return s.Store.Commit(updates)
}

// take returns the snapshots written since the last take, sorted.
func (s *writeLog) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.writes
	s.writes = nil
	slices.Sort(w)
	return w
}

// loggedPoller is a poller of h whose commits are recorded.
func loggedPoller(h *harness) (*Poller, *writeLog) {
	wl := &writeLog{Store: h.store}
	return h.poller(func(o *Options) { o.Store = wl }), wl
}

// TestPollWritesOnlyChanges: a cycle that only confirms what is stored
// writes nothing, but a snapshot whose stored last good poll is
// pollTimeEvery old is written; by meeting and through the list alike.
func TestPollWritesOnlyChanges(t *testing.T) {
	for _, tt := range []struct {
		name     string
		meetings int
	}{{"by meeting", 2}, {"through the list", ListMinMeetings}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var ids []string
			for i := range tt.meetings {
				ids = append(ids, fmt.Sprintf("m%02d", i+1))
			}
			h.fake.StartSession(testApp, "m01", rtkfake.Session{LiveParticipants: 3, MinutesConsumed: 1})
			w := testWatch(ids...)
			p, wl := loggedPoller(h)
			start := h.clock.Now()
			steps := []struct {
				name   string
				at     time.Duration // since the first cycle
				before func()
				want   []string
			}{
				{name: "baseline", want: ids},
				{name: "nothing changed", at: time.Second},
				{name: "m01 has one more participant", at: 2 * time.Second,
					before: func() { h.fake.UpdateSession(testApp, "m01", participants(4)) }, want: []string{"m01"}},
				{name: "the others' stored poll time is a nanosecond short of pollTimeEvery", at: pollTimeEvery - 1},
				{name: "the others' stored poll time is pollTimeEvery old", at: pollTimeEvery, want: ids[1:]},
				{name: "m01's is too", at: pollTimeEvery + 2*time.Second, want: []string{"m01"}},
			}
			for _, st := range steps {
				h.clock.Advance(start.Add(st.at).Sub(h.clock.Now()))
				if st.before != nil {
					st.before()
				}
				before := h.rawSnapshots(w.Name)
				c := h.poll(p, w)
				if len(c.Events) != 0 || c.Polls != len(ids) {
					t.Fatalf("%s: %d polls, events %v; want %d polls, no event", st.name, c.Polls, summary(c.Events), len(ids))
				}
				if diff := cmp.Diff(st.want, wl.take()); diff != "" {
					t.Errorf("%s: snapshots written (-want +got):\n%s", st.name, diff)
				}
				after := h.rawSnapshots(w.Name)
				for id, b := range before {
					if !slices.Contains(st.want, id) && string(after[id]) != string(b) {
						t.Errorf("%s: %s changed in the store without a write", st.name, id)
					}
				}
			}
			m2, _ := h.snapshot(w.Name, "m02")
			if want := start.Add(pollTimeEvery); !m2.LastGoodPoll.Equal(want) {
				t.Errorf("stored last good poll of m2 = %s; want %s", m2.LastGoodPoll, want)
			}
		})
	}
}

// TestPollFailingAfterAcrossSkippedWrites: with failing_after 3, polls that
// write nothing, then two failures, a restart and a third failure make one
// watch.failing; the recovery is reported after another restart.
func TestPollFailingAfterAcrossSkippedWrites(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := testWatch("m1")
	p, wl := loggedPoller(h)
	fail := func() { h.fake.SetFault(testApp, "m1", rtkfake.Fault{Kind: rtkfake.ServerError, Times: 1}) }
	steps := []struct {
		name    string
		restart bool
		before  func()
		want    []string
		written []string
	}{
		{name: "baseline", written: []string{"m1"}},
		{name: "confirmed", written: nil},
		{name: "confirmed again", written: nil},
		{name: "first failure", before: fail, written: []string{"m1"}},
		{name: "second failure", before: fail, written: []string{"m1"}},
		{name: "third failure, after a restart", restart: true, before: fail,
			want: []string{"watch.failing m1"}, written: []string{"m1"}},
		{name: "fourth failure", before: fail, written: []string{"m1"}},
		{name: "recovery, after a restart", restart: true,
			want: []string{"watch.recovered m1"}, written: []string{"m1"}},
		{name: "confirmed after the recovery", written: nil},
	}
	for _, st := range steps {
		h.clock.Advance(time.Second)
		if st.restart {
			p, wl = loggedPoller(h)
		}
		if st.before != nil {
			st.before()
		}
		c := h.poll(p, w)
		if diff := cmp.Diff(st.want, summary(c.Events)); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.written, wl.take()); diff != "" {
			t.Errorf("%s: snapshots written (-want +got):\n%s", st.name, diff)
		}
	}
}

// TestPollForgetsIdleAcrossSkippedWrites: an all_live meeting live through
// cycles that write nothing, then ended, is forgotten once idle for longer
// than ForgetIdleAfter from its end, exactly, across a restart.
func TestPollForgetsIdleAcrossSkippedWrites(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := allLiveWatch()
	p, wl := loggedPoller(h)
	h.poll(p, w)
	if got := wl.take(); !slices.Equal(got, []string{WatchMeetingID, "m1"}) {
		t.Fatalf("baseline wrote %v", got)
	}
	for range 5 {
		h.clock.Advance(time.Second)
		h.poll(p, w)
	}
	if got := wl.take(); len(got) != 0 {
		t.Fatalf("live cycles that changed nothing wrote %v", got)
	}
	h.clock.Advance(time.Second)
	h.fake.EndSession(testApp, "m1")
	ended := h.clock.Now()
	if c := h.poll(p, w); !slices.Equal(summary(c.Events), []string{"session.ended m1"}) {
		t.Fatalf("events %v; want the end of m1", summary(c.Events))
	}
	if got := wl.take(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("the end wrote %v", got)
	}

	p, wl = loggedPoller(h) // a restart
	h.clock.Advance(ForgetIdleAfter)
	h.poll(p, w)
	if _, ok := h.rawSnapshots(w.Name)["m1"]; !ok {
		t.Fatalf("m1 forgotten after exactly ForgetIdleAfter idle (since %s)", ended)
	}
	if got := wl.take(); slices.Contains(got, "m1") || slices.Contains(got, "-m1") {
		t.Errorf("an idle cycle wrote %v", got)
	}
	h.clock.Advance(time.Nanosecond)
	h.poll(p, w)
	if _, ok := h.rawSnapshots(w.Name)["m1"]; ok {
		t.Error("m1 still stored after ForgetIdleAfter idle and a nanosecond")
	}
	if got := wl.take(); !slices.Contains(got, "-m1") {
		t.Errorf("the forgetting cycle wrote %v; want m1 deleted", got)
	}
}

// TestPollRestartAfterSkippedWrites: a restart after cycles that wrote
// nothing repeats no event, and the next event takes the next sequence.
func TestPollRestartAfterSkippedWrites(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := testWatch("m1")
	p := h.poller(nil)
	h.poll(p, w)
	h.clock.Advance(time.Second)
	h.fake.UpdateSession(testApp, "m1", participants(6))
	if c := h.poll(p, w); !slices.Equal(summary(c.Events), []string{"participants.threshold_crossed m1 up 5"}) {
		t.Fatalf("events %v", summary(c.Events))
	}
	for range 3 {
		h.clock.Advance(time.Second)
		if c := h.poll(p, w); len(c.Events) != 0 {
			t.Fatalf("events %v on a quiet cycle", summary(c.Events))
		}
	}
	p = h.poller(nil) // a restart
	h.clock.Advance(time.Second)
	if c := h.poll(p, w); len(c.Events) != 0 {
		t.Fatalf("events %v after a restart; want none", summary(c.Events))
	}
	h.clock.Advance(time.Second)
	h.fake.UpdateSession(testApp, "m1", participants(2))
	wantDownAt5(t, h.poll(p, w), 2)
}

// wantDownAt5 checks that c emitted one event: m1's down crossing of 5
// participants, with sequence seq.
func wantDownAt5(t *testing.T, c Cycle, seq uint64) {
	t.Helper()
	if !slices.Equal(summary(c.Events), []string{"participants.threshold_crossed m1 down 5"}) || c.Events[0].Data.Sequence != seq {
		t.Fatalf("events %+v; want m1's down crossing of 5 with sequence %d", c.Events, seq)
	}
}

// TestPollFollowsTheStore: a snapshot that changed in the store since the
// poller cached it is read again, not taken from the cache.
func TestPollFollowsTheStore(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := testWatch("m1")
	p := h.poller(nil)
	h.poll(p, w)
	s, _ := h.snapshot(w.Name, "m1")
	s.Sequence, s.ParticipantsUp = 41, []int{5} // as if another writer had seen 6 participants
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Commit([]store.Update{{Key: store.SnapshotKey{Watch: w.Name, MeetingID: "m1"}, Snapshot: b}}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Second)
	h.fake.UpdateSession(testApp, "m1", participants(2))
	wantDownAt5(t, h.poll(p, w), 42) // from the stored snapshot's sequence
}

// TestPollDryRunCachesNothingWritten: a dry run, which writes nothing,
// leaves the next real cycle to write what it finds.
func TestPollDryRunCachesNothingWritten(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := testWatch("m1")
	dry := h.poller(func(o *Options) { o.DryRun = true })
	h.poll(dry, w)
	if _, ok := h.snapshot(w.Name, "m1"); ok {
		t.Fatal("a dry run stored a snapshot")
	}
	p, wl := loggedPoller(h)
	h.poll(p, w)
	if got := wl.take(); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("first real cycle wrote %v; want m1", got)
	}
}

// gaugeLog is a MeetingObserver that records the live participants it is
// told of, by meeting.
type gaugeLog struct {
	mu   sync.Mutex
	live map[string]int
}

func (g *gaugeLog) Observed(_, meetingID string, s *diff.Session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.live[meetingID] = -1
	if s != nil {
		g.live[meetingID] = s.LiveParticipants
	}
}

func (g *gaugeLog) Forgot(_, meetingID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.live, meetingID)
}

// TestPollGaugesWithoutWrites: a cycle that writes nothing still tells the
// gauges what it observed, so that they are set after a restart too.
func TestPollGaugesWithoutWrites(t *testing.T) {
	h := newHarness(t)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 3})
	w := testWatch("m1", "m2")
	h.poll(h.poller(nil), w)
	gauges := &gaugeLog{live: make(map[string]int)}
	wl := &writeLog{Store: h.store}
	p := h.poller(func(o *Options) { o.Store, o.Gauges = wl, gauges }) // a restart
	h.clock.Advance(time.Second)
	h.poll(p, w)
	if got := wl.take(); len(got) != 0 {
		t.Fatalf("a cycle that changed nothing wrote %v", got)
	}
	if diff := cmp.Diff(map[string]int{"m1": 3, "m2": -1}, gauges.live); diff != "" {
		t.Errorf("gauges after a cycle that wrote nothing (-want +got):\n%s", diff)
	}
}
