package poller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// TestPollSilenced commits an event held from one notifier by an ad hoc
// silence of the store: the other gets a delivery, and the history has
// the event with the silenced one.
func TestPollSilenced(t *testing.T) {
	h := newHarness(t)
	w := testWatch("m1")
	for _, typ := range diff.WatchEventTypes {
		w.Routes[typ] = []string{"ops", "chat"}
	}
	now := h.clock.Now()
	if _, err := h.store.AddSilence(store.Silence{Watch: w.Name, Notifier: "chat", Start: now, End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p := h.poller(func(o *Options) { o.Silences = silence.NewLive(nil, h.store, o.Logger) })
	h.poll(p, w) // baseline
	h.clock.Advance(30 * time.Second)
	h.fake.StartSession(testApp, "m1", rtkfake.Session{LiveParticipants: 1})
	if c := h.poll(p, w); len(c.Events) != 1 {
		t.Fatalf("cycle events = %v, want session.started", c.Events)
	}
	if diff := cmp.Diff([]string{"ops session.started m1"}, h.outbox()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	hist, err := h.store.History(store.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || cmp.Diff([]string{"ops"}, hist[0].Notifiers) != "" || cmp.Diff([]string{"chat"}, hist[0].Silenced) != "" {
		t.Errorf("history = %+v, want session.started queued for ops, silenced for chat", hist)
	}
}
