package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// noticeTypes returns the types of the notifier events a receiver got.
func noticeTypes(t *testing.T, rc *receiver) []string {
	t.Helper()
	out := []string{}
	for _, r := range rc.requests() {
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ev.Type, "notifier.") {
			out = append(out, ev.Type)
		}
	}
	return out
}

// keptNotices returns the notifier events of the history, oldest first,
// each as describe says.
func keptNotices(t *testing.T, st *store.Store, describe func(store.HistoryEvent) string) []string {
	t.Helper()
	hist, err := st.History(store.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range hist {
		if strings.HasPrefix(e.Type, "notifier.") {
			kept = append(kept, describe(e))
		}
	}
	return kept
}

// TestWorkerNoticesFilteredAndSilenced: notifier.failing and
// notifier.recovered go to the notifiers whose events filter takes them,
// and not to those that a config window naming no watches holds them
// from; a window naming a watch, and an ad hoc silence of a watch, do not
// hold them. The history keeps each with the notifiers it was held from.
func TestWorkerNoticesFilteredAndSilenced(t *testing.T) {
	rcs := map[string]*receiver{}
	for _, n := range []string{"ops", "chat", "mail", "pager"} {
		rcs[n] = newReceiver(t, nil)
	}
	sw := &switchDialer{closed: closedPort(t), rcv: strings.TrimPrefix(newReceiver(t, nil).srv.URL, "http://")}
	cfg := &config.Config{
		Notifiers: []config.Notifier{
			{Name: "down"}, {Name: "ops"},
			{Name: "chat", Events: []string{"watch.failing"}},
			{Name: "mail"},
			{Name: "pager", Events: []string{"notifier.failing"}},
		},
		Silences: []config.Silence{
			{Name: "mail-always", Notifiers: []string{"mail"}, Schedule: "0 0 * * *", Duration: 24 * time.Hour},
			{Name: "ops-of-a-watch", Watches: []string{"town-hall"}, Notifiers: []string{"ops"}, Schedule: "0 0 * * *", Duration: 24 * time.Hour},
		},
	}
	wants := func(notifier, typ string) bool {
		n, ok := cfg.Notifier(notifier)
		return ok && n.Wants(typ)
	}
	windows, err := silence.Windows(cfg)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		if _, err := st.AddSilence(store.Silence{Watch: "town-hall", Start: start, End: start.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		commitEvents(t, st, start, []string{"down"}, "evt_1")
		notifiers := []Notifier{newTestWebhook(t, "down", "http://down.invalid", sw.client())}
		for _, n := range []string{"ops", "chat", "mail", "pager"} {
			notifiers = append(notifiers, newTestWebhook(t, n, rcs[n].srv.URL, bubbleClient()))
		}
		w := NewWorker(st, notifiers, WorkerOptions{Rand: half, Wants: wants,
			Silences: silence.NewLive(windows, st, zerolog.Nop())})
		startWorker(t, w)

		time.Sleep(10*time.Minute + 30*time.Second) // the circuit opens at 10m
		sw.up.Store(true)
		time.Sleep(time.Minute) // the probe at 11m succeeds
		got := map[string][]string{}
		for n, rc := range rcs {
			got[n] = noticeTypes(t, rc)
		}
		want := map[string][]string{
			"ops":   {typeNotifierFailing, typeNotifierRecovered},
			"chat":  {},
			"mail":  {},
			"pager": {typeNotifierFailing},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("notifier events received (-want +got):\n%s", diff)
		}
		kept := keptNotices(t, st, func(e store.HistoryEvent) string {
			return e.Type + " to " + strings.Join(e.Notifiers, ",") + " held from " + strings.Join(e.Silenced, ",")
		})
		wantKept := []string{
			typeNotifierFailing + " to ops,pager held from mail",
			typeNotifierRecovered + " to ops held from mail",
		}
		if diff := cmp.Diff(wantKept, kept); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}
