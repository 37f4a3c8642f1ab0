package notify

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// *store.Store is the Store the daemon uses.
var _ Store = (*store.Store)(nil)

// openStore opens a real store in a temporary directory and checks its
// consistency when the test ends.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "state.db"))
}

// openStoreAt opens the store at path like openStore.
func openStoreAt(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// commitEvents queues one session.started event per id for the notifiers.
func commitEvents(t testing.TB, st *store.Store, created time.Time, notifiers []string, ids ...string) {
	t.Helper()
	ev := testEvents()[diff.TypeSessionStarted]
	var updates []store.Update
	for _, id := range ids {
		// Each event is about a meeting of its own, so that nothing orders
		// them; TestWorkerOrdersEventsOfOneMeeting covers the order.
		ev.Data.ID, ev.Data.MeetingID = id, "meeting-"+id
		updates = append(updates, store.Update{
			Key:      store.SnapshotKey{Watch: ev.Data.Watch, MeetingID: ev.Data.MeetingID},
			Snapshot: []byte(`{}`),
			Events: []store.NewEvent{{
				ID: id, Type: ev.Type, CreatedAt: created, Body: eventBody(t, ev), Notifiers: notifiers,
			}},
		})
	}
	err := st.Commit(updates)
	if err != nil {
		t.Fatal(err)
	}
}

func pending(t testing.TB, st *store.Store, notifier string) []store.Delivery {
	t.Helper()
	ds, err := st.Pending(notifier, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func deadLetters(t testing.TB, st *store.Store) []store.Delivery {
	t.Helper()
	ds, err := st.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// syncBuffer is a log destination that lanes may write to concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWorkerRetiresUnconfiguredNotifiers: the deliveries of a notifier
// that is no longer configured become dead letters that say so, when the
// worker starts; the other notifiers deliver as usual.
func TestWorkerRetiresUnconfiguredNotifiers(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"gone", "ops"}, "evt_1", "evt_2")
		start := time.Now()
		var logs syncBuffer
		w := NewWorker(st, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())},
			WorkerOptions{Logger: zerolog.New(&logs)})
		startWorker(t, w)
		time.Sleep(time.Hour)

		if got := len(pending(t, st, "gone")); got != 0 {
			t.Errorf("outbox of the removed notifier holds %d deliveries, want 0", got)
		}
		if got := len(pending(t, st, "ops")); got != 0 {
			t.Errorf("outbox of ops holds %d deliveries, want 0", got)
		}
		type dead struct {
			Notifier, EventID, LastError string
			DeadAt                       time.Time
		}
		var got []dead
		for _, d := range deadLetters(t, st) {
			got = append(got, dead{d.Notifier, d.EventID, d.LastError, d.DeadAt})
		}
		want := []dead{
			{"gone", "evt_1", "notifier gone is no longer configured", start},
			{"gone", "evt_2", "notifier gone is no longer configured", start},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dead letters (-want +got):\n%s", diff)
		}
		if n := strings.Count(logs.String(), "no longer configured are now dead letters"); n != 1 {
			t.Errorf("logged the retired deliveries %d times, want once:\n%s", n, logs.String())
		}
		if !strings.Contains(logs.String(), `"notifier":"gone","dead_letters":2`) {
			t.Errorf("log does not name the notifier and count:\n%s", logs.String())
		}
	})
}

// flakyOutbox fails the first calls of some methods, as a full disk would.
type flakyOutbox struct {
	*store.Store
	mu                   sync.Mutex
	pendingFails, marked int
	markFails            int
	reads                int // PendingAfter calls
}

var errDiskFull = errors.New("write state.db: no space left on device")

func (f *flakyOutbox) PendingAfter(notifier string, afterID uint64, limit int) ([]store.Delivery, error) {
	f.mu.Lock()
	fail := f.pendingFails > 0
	f.pendingFails--
	f.reads++
	f.mu.Unlock()
	if fail {
		return nil, errDiskFull
	}
	return f.Store.PendingAfter(notifier, afterID, limit)
}

// pageReads returns how many times the outbox has been read.
func (f *flakyOutbox) pageReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *flakyOutbox) MarkDelivered(notifier string, id uint64) error {
	f.mu.Lock()
	f.marked++
	fail := f.marked <= f.markFails
	f.mu.Unlock()
	if fail {
		return errDiskFull
	}
	return f.Store.MarkDelivered(notifier, id)
}

func TestWorkerSurvivesStoreErrors(t *testing.T) {
	rc := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		commitEvents(t, st, time.Now(), []string{"ops"}, "evt_1")
		outbox := &flakyOutbox{Store: st, pendingFails: 2, markFails: 3}
		startWorker(t, NewWorker(outbox, []Notifier{newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}, WorkerOptions{}))
		time.Sleep(time.Hour)

		if rc.count() != 1 {
			t.Errorf("receiver got %d requests, want 1: a failed MarkDelivered is retried, not the delivery", rc.count())
		}
		if ds := pending(t, st, "ops"); len(ds) != 0 {
			t.Errorf("outbox still holds %+v", ds)
		}
		if outbox.marked != 4 {
			t.Errorf("MarkDelivered called %d times, want 4 (3 failures, then success)", outbox.marked)
		}
	})
}
