package poller

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// txLog is a Store that records each transaction as the meetings it
// writes, with its time, and refuses any transaction that writes "bad".
type txLog struct {
	mu  sync.Mutex
	txs []string // "at ms: m1 m2"
}

func (l *txLog) Snapshots(string) (map[string][]byte, error) { return nil, nil }

func (l *txLog) Commit(updates []store.Update) error {
	var ids []string
	for _, u := range updates {
		ids = append(ids, u.Key.MeetingID)
	}
	slices.Sort(ids)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txs = append(l.txs, time.Now().Format("05.000000000")+": "+strings.Join(ids, " "))
	if slices.Contains(ids, "bad") {
		return errors.New("refused")
	}
	return nil
}

func (l *txLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.txs)
}

func upd(meeting string) []store.Update {
	return []store.Update{{Key: store.SnapshotKey{Watch: "w-" + meeting, MeetingID: meeting}, Snapshot: []byte("{}")}}
}

// TestSharedCommits: commits that arrive within the linger of the first
// share its transaction and return when it is written; one a nanosecond
// later starts the next; without a linger every commit is alone.
func TestSharedCommits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const linger = 50 * time.Millisecond
		st := &txLog{}
		g := &sharedCommits{st: st, linger: linger}
		start := time.Now()
		var wg sync.WaitGroup
		returned := make(map[string]time.Duration)
		var mu sync.Mutex
		at := func(d time.Duration, meeting string) {
			wg.Go(func() {
				time.Sleep(d)
				if err := g.commit(upd(meeting)); err != nil {
					t.Errorf("commit %s: %v", meeting, err)
				}
				mu.Lock()
				returned[meeting] = time.Since(start)
				mu.Unlock()
			})
		}
		at(0, "m1")
		at(10*time.Millisecond, "m2")
		at(linger-time.Nanosecond, "m3")
		at(linger+time.Nanosecond, "m4")
		wg.Wait()
		want := []string{"00.050000000: m1 m2 m3", "00.100000001: m4"}
		if diff := cmp.Diff(want, st.get()); diff != "" {
			t.Errorf("transactions (-want +got):\n%s", diff)
		}
		wantBack := map[string]time.Duration{"m1": linger, "m2": linger, "m3": linger, "m4": 2*linger + time.Nanosecond}
		if diff := cmp.Diff(wantBack, returned); diff != "" {
			t.Errorf("commits returned at (-want +got):\n%s", diff)
		}

		alone := &txLog{}
		g = &sharedCommits{st: alone}
		for _, m := range []string{"m5", "m6"} {
			if err := g.commit(upd(m)); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]string{"00.100000001: m5", "00.100000001: m6"}, alone.get()); diff != "" {
			t.Errorf("transactions without a linger (-want +got):\n%s", diff)
		}
	})
}

// TestSharedCommitsFailure: when a shared transaction fails, each commit
// is tried alone, and only the one that fails alone reports a failure.
func TestSharedCommitsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &txLog{}
		g := &sharedCommits{st: st, linger: time.Second}
		errs := make(map[string]error)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, m := range []string{"m1", "bad", "m2"} {
			wg.Go(func() {
				err := g.commit(upd(m))
				mu.Lock()
				errs[m] = err
				mu.Unlock()
			})
			synctest.Wait()
		}
		wg.Wait()
		if errs["m1"] != nil || errs["m2"] != nil || errs["bad"] == nil {
			t.Errorf("outcomes %v; want only bad to fail", errs)
		}
		got := st.get()
		if len(got) != 4 || got[0] != "01.000000000: bad m1 m2" {
			t.Errorf("transactions %v; want the shared one, then each alone", got)
		}
	})
}
