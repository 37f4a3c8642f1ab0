package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

// prefixes numbers the prefixes of the tests that share a server.
var prefixes atomic.Int64

// freshPrefix returns a prefix no other test uses.
func freshPrefix() string { return fmt.Sprintf("/rtkwatchd/test%d/", prefixes.Add(1)) }

// connect starts an etcd server for the test and returns a client on it.
func connect(t *testing.T) *clientv3.Client {
	t.Helper()
	srv := etcdtest.Start(t)
	cli, err := ha.Connect(t.Context(), ha.Options{Endpoints: []string{srv.Endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// term makes this test the leader under prefix, as ha.Elector would: an
// election key on a fresh lease. It returns the term's fence and a
// function that ends the term (revokes the lease).
func term(t *testing.T, cli *clientv3.Client, prefix string) (ha.Fence, func()) {
	t.Helper()
	ctx := t.Context()
	l, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("%s%s/%x", prefix, ha.ElectionKey, l.ID)
	resp, err := cli.Put(ctx, key, "test", clientv3.WithLease(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	end := func() {
		if _, err := cli.Revoke(context.Background(), l.ID); err != nil {
			t.Error(err)
		}
	}
	return ha.Fence{Key: key, Rev: resp.Header.Revision}, end
}

// open returns a store of the leader of a fresh term under prefix.
func open(t *testing.T, cli *clientv3.Client, prefix string) (*Store, func()) {
	t.Helper()
	f, end := term(t, cli, prefix)
	s, err := New(t.Context(), cli, Options{Prefix: prefix, Fence: f})
	if err != nil {
		t.Fatal(err)
	}
	return s, end
}

// TestContract runs the store contract against a real etcd, each subtest
// under a fresh prefix.
func TestContract(t *testing.T) {
	cli := connect(t)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, _ := open(t, cli, freshPrefix())
		return s
	})
}

// event is a valid event for notifier ops with a body of n bytes.
func event(id string, n int) store.NewEvent {
	return store.NewEvent{ID: id, Type: "session.started", CreatedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		Body: []byte(`"` + strings.Repeat("x", n) + `"`), Notifiers: []string{"ops"}}
}

// update is an update of meeting m with events.
func update(m string, events ...store.NewEvent) store.Update {
	return store.Update{Key: store.SnapshotKey{Watch: "w", MeetingID: m}, Snapshot: []byte(m), Events: events}
}

func TestDeposedLeaderWritesNothing(t *testing.T) {
	cli := connect(t)
	prefix := freshPrefix()
	old, end := open(t, cli, prefix)
	if err := old.Commit([]store.Update{update("m", event("evt_1", 10))}); err != nil {
		t.Fatal(err)
	}
	end()
	next, _ := open(t, cli, prefix)

	writes := map[string]error{
		"Commit":        old.Commit([]store.Update{update("m2", event("evt_2", 10))}),
		"MarkDelivered": old.MarkDelivered("ops", 1),
		"RecordAttempt": old.RecordAttempt("ops", 1, 1, time.Now(), "x"),
		"DeadLetter":    old.DeadLetter("ops", 1, time.Now(), "x"),
	}
	_, writes["DeadLetterAll"] = old.DeadLetterAll("ops", time.Now(), "gone")
	_, writes["Enqueue"] = old.Enqueue(event("evt_notice", 10))
	for name, err := range writes {
		if !errors.Is(err, ha.ErrFenced) {
			t.Errorf("%s by the deposed leader: %v, want ErrFenced", name, err)
		}
	}
	// The deposed leader's reads still work, and show that it wrote nothing.
	out, err := old.OutboxAfter(0, 0)
	if err != nil || len(out) != 1 || out[0].ID != 1 || out[0].Attempts != 0 {
		t.Errorf("outbox after the deposed writes: %+v, %v; want delivery 1 untouched", out, err)
	}
	// The next leader continues the sequence.
	if err := next.Commit([]store.Update{update("m2", event("evt_2", 10))}); err != nil {
		t.Fatal(err)
	}
	out, _ = next.OutboxAfter(0, 0)
	if got := fmt.Sprint(idsOf(out)); got != "[1 2]" {
		t.Errorf("IDs across two leaders = %s, want [1 2]", got)
	}
}

// idsOf returns the IDs of ds.
func idsOf(ds []store.Delivery) []uint64 {
	var out []uint64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestReadOnlyStoreRefusesWrites(t *testing.T) {
	cli := connect(t)
	s, err := New(t.Context(), cli, Options{Prefix: freshPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]store.Update{update("m", event("evt_1", 10))}); !errors.Is(err, ha.ErrFenced) {
		t.Errorf("Commit without a fence: %v, want ErrFenced", err)
	}
	if _, err := s.Enqueue(event("evt_2", 10)); !errors.Is(err, ha.ErrFenced) {
		t.Errorf("Enqueue without a fence: %v, want ErrFenced", err)
	}
	if _, err := New(t.Context(), cli, Options{}); err == nil {
		t.Error("New without a prefix succeeded, want an error")
	}
}

// TestLimits: a batch too large for one transaction is split at meeting
// boundaries, every meeting whole; a meeting too large for one is refused
// before anything is written, naming the meeting.
func TestLimits(t *testing.T) {
	cli := connect(t)
	s, _ := open(t, cli, freshPrefix())

	// 200 meetings of one event: 400 ops + 200 snapshots, over MaxTxnOps.
	var batch []store.Update
	for i := range 200 {
		batch = append(batch, update(fmt.Sprint("m", i), event(fmt.Sprint("evt_", i), 10)))
	}
	// Three meetings of ~600 KiB: over MaxRequestBytes together.
	for i := range 3 {
		batch = append(batch, update(fmt.Sprint("big", i), event(fmt.Sprint("evt_big", i), 600<<10)))
	}
	if err := s.Commit(batch); err != nil {
		t.Fatalf("Commit of a batch over one transaction's limits: %v", err)
	}
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 203 || out[0].ID != 1 || out[202].ID != 203 {
		t.Errorf("outbox holds %d deliveries, want 203 with IDs 1…203", len(out))
	}

	tooBig := []store.Update{update("ok", event("evt_ok", 10)), update("huge", event("evt_huge", ha.MaxRequestBytes))}
	err = s.Commit(tooBig)
	if !errors.Is(err, ha.ErrTooLarge) || !strings.Contains(err.Error(), "meeting w/huge") {
		t.Errorf("Commit of an event larger than a transaction: %v, want ErrTooLarge naming w/huge", err)
	}
	snap, _ := s.Snapshot(store.SnapshotKey{Watch: "w", MeetingID: "ok"})
	if snap != nil {
		t.Errorf("snapshot of the batch refused as too large was written: %q", snap)
	}
	// Enqueue writes its events in one transaction or refuses them all.
	if n, err := s.Enqueue(event("evt_small", 10), event("evt_huge", ha.MaxRequestBytes)); !errors.Is(err, ha.ErrTooLarge) || n != 0 {
		t.Errorf("Enqueue of an event larger than a transaction = %d, %v; want ErrTooLarge", n, err)
	}
	if _, _, err := s.historyEvent("evt_small"); !errors.Is(err, store.ErrNotInHistory) {
		t.Errorf("history of evt_small after a refused Enqueue: %v, want ErrNotInHistory", err)
	}
	// A meeting's operations: its snapshot, the counters, and per event
	// (one notifier) the delivery, its index, the history record and its
	// index. As many events as fit in MaxTxnOps commit; one more does not.
	var many []store.NewEvent
	for i := range (ha.MaxTxnOps - 2) / 4 {
		many = append(many, event(fmt.Sprint("evt_many", i), 10))
	}
	if err := s.Commit([]store.Update{update("many", many...)}); err != nil {
		t.Errorf("Commit of a meeting with %d events (%d ops): %v", len(many), 4*len(many)+2, err)
	}
	many = append(many, event("evt_one_more", 10))
	if err := s.Commit([]store.Update{update("many2", many...)}); !errors.Is(err, ha.ErrTooLarge) {
		t.Errorf("Commit of a meeting with %d events (%d ops): %v, want ErrTooLarge", len(many), 4*len(many)+2, err)
	}
}

// TestRepeatedKeyInBatch: later updates of a key win, as in bbolt, though
// etcd refuses a transaction that writes one key twice.
func TestRepeatedKeyInBatch(t *testing.T) {
	cli := connect(t)
	s, _ := open(t, cli, freshPrefix())
	a, b := update("m", event("evt_1", 10)), update("m", event("evt_2", 10))
	b.Snapshot = []byte("second")
	if err := s.Commit([]store.Update{a, b}); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot(store.SnapshotKey{Watch: "w", MeetingID: "m"})
	out, _ := s.OutboxAfter(0, 0)
	if string(snap) != "second" || len(out) != 2 || out[0].EventID != "evt_1" || out[1].EventID != "evt_2" {
		t.Errorf("snapshot %q, outbox %+v; want the second snapshot and both events in order", snap, out)
	}
}

// TestPagedReads: listings longer than one range request (pageSize) read
// every key once, in order.
func TestPagedReads(t *testing.T) {
	cli := connect(t)
	s, _ := open(t, cli, freshPrefix())
	n := 2*pageSize + 7
	var batch []store.Update
	for i := range n {
		batch = append(batch, update(fmt.Sprintf("m%04d", i), event(fmt.Sprint("evt_", i), 10)))
	}
	if err := s.Commit(batch); err != nil {
		t.Fatal(err)
	}
	snaps, err := s.Snapshots("w")
	if err != nil || len(snaps) != n {
		t.Fatalf("Snapshots: %d, %v; want %d", len(snaps), err, n)
	}
	var keys []string
	err = s.ForEachSnapshot(func(k store.SnapshotKey, _ []byte) error {
		keys = append(keys, k.MeetingID)
		return nil
	})
	if err != nil || len(keys) != n || keys[0] != "m0000" || keys[n-1] != fmt.Sprintf("m%04d", n-1) {
		t.Errorf("ForEachSnapshot: %d keys, %v; want %d in order", len(keys), err, n)
	}
	out, err := s.PendingAfter("ops", 0, 0)
	if err != nil || len(out) != n || out[n-1].ID != uint64(n) {
		t.Errorf("PendingAfter: %d deliveries, %v; want %d, the last with ID %d", len(out), err, n, n)
	}
	depth, _ := s.OutboxDepth()
	if depth["ops"] != n {
		t.Errorf("OutboxDepth = %v, want ops: %d", depth, n)
	}
}

// TestConcurrentCommitsTakeDistinctIDs: commits made at once (the cycles
// of several watches) take distinct IDs, with no gap.
func TestConcurrentCommitsTakeDistinctIDs(t *testing.T) {
	cli := connect(t)
	s, _ := open(t, cli, freshPrefix())
	const writers, each = 8, 5
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			for i := range each {
				m := fmt.Sprintf("w%d-%d", w, i)
				if err == nil {
					err = s.Commit([]store.Update{update(m, event("evt_"+m, 10))})
				}
			}
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range out {
		if d.ID != uint64(i+1) {
			t.Fatalf("delivery %d has ID %d, want %d: IDs %v", i, d.ID, i+1, idsOf(out))
		}
	}
	if len(out) != writers*each {
		t.Errorf("%d deliveries, want %d", len(out), writers*each)
	}
}
