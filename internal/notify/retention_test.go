package notify

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

// TestWorkerQuarantinesUndecodable: a record of the outbox that does not
// decode becomes a dead letter that says why, and is counted; it stops
// neither the deliveries before it nor those after.
func TestWorkerQuarantinesUndecodable(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1", "evt_2", "evt_3") // IDs 1, 2, 3
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		storetest.OverwriteDelivery(t, path, "ops", 2, []byte("\x05{not json"))
		st = openStoreAt(t, path)

		reg := prometheus.NewRegistry()
		startWorker(t, NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())},
			WorkerOptions{Metrics: NewMetrics(reg)}))
		time.Sleep(time.Hour)

		var got []string
		for _, r := range rc.requests() {
			got = append(got, r.Header.Get("Webhook-Id"))
		}
		slices.Sort(got) // events of different meetings: in flight at once
		if diff := cmp.Diff([]string{"evt_1", "evt_3"}, got); diff != "" {
			t.Errorf("deliveries received (-want +got):\n%s", diff)
		}
		if p := pending(t, st, "ops"); len(p) != 0 {
			t.Errorf("outbox holds %d deliveries, want none", len(p))
		}
		dead := deadLetters(t, st)
		if len(dead) != 1 {
			t.Fatalf("dead letters %+v, want the undecodable one", dead)
		}
		d := dead[0]
		if d.ID != 2 || !d.Quarantined || string(d.Body) != "\x05{not json" ||
			!strings.HasPrefix(d.LastError, "quarantined: the stored record does not decode: decode delivery 2: ") {
			t.Errorf("quarantined dead letter %+v; want ID 2, quarantined, its bytes and why", d)
		}
		if v := gather(t, reg)[`rtkwatchd_deliveries_quarantined_total{notifier="ops"}`]; v != 1 {
			t.Errorf("rtkwatchd_deliveries_quarantined_total = %v, want 1", v)
		}
	})
}

// TestWorkerRemovesOldDeadLetters: with a retention of 720h, the Worker
// removes at its start the dead letters that died more than 720h ago, and
// each hour those that have grown older since; one exactly 720h old stays.
func TestWorkerRemovesOldDeadLetters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		// The worker starts at start; the store's writes before it take
		// (fake) time.
		start := time.Now().Add(time.Second)
		const retention = 720 * time.Hour
		died := map[string]time.Time{
			"evt_older":   start.Add(-retention - time.Nanosecond), // removed at start
			"evt_exactly": start.Add(-retention),                   // stays at start, removed an hour later
			"evt_younger": start.Add(-retention + time.Hour),       // stays an hour, removed two hours later
		}
		commitEvents(t, st, start.Add(-2*retention), []string{"ops"}, "evt_older", "evt_exactly", "evt_younger")
		for _, d := range pending(t, st, "ops") {
			if err := st.DeadLetter("ops", d.ID, died[d.EventID], "410 Gone"); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Until(start))
		startWorker(t, NewWorker(st, nil, WorkerOptions{DeadLetterRetention: retention, RetentionInterval: time.Hour}))
		left := func() []string {
			var out []string
			for _, d := range deadLetters(t, st) {
				out = append(out, d.EventID)
			}
			return out
		}
		time.Sleep(time.Minute)
		if diff := cmp.Diff([]string{"evt_exactly", "evt_younger"}, left()); diff != "" {
			t.Errorf("dead letters after the start (-want +got):\n%s", diff)
		}
		time.Sleep(time.Hour)
		if diff := cmp.Diff([]string{"evt_younger"}, left()); diff != "" {
			t.Errorf("dead letters an hour later (-want +got):\n%s", diff)
		}
		time.Sleep(time.Hour)
		if got := left(); len(got) != 0 {
			t.Errorf("dead letters two hours later: %v, want none", got)
		}
	})
}
