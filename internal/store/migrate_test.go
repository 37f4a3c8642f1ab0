package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolt "go.etcd.io/bbolt"
)

// copyFixture copies testdata/name into a temporary directory and returns
// the copy's path.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateV1 opens testdata/v1.db, a store that schema 1 (rtkwatchd
// before the meeting was stored beside the body) wrote: two events for
// meeting m-1, one of them for two notifiers and attempted twice; two for
// m-2, one dead after an attempt; one whose body is no rtkwatchd event,
// dead-lettered and requeued.
func TestMigrateV1(t *testing.T) {
	path := copyFixture(t, "v1.db")
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "the first read-write open (the daemon, or `once`) migrates") {
		t.Errorf("read-only Open of a schema 1 file: %v; want ErrSchema saying how to migrate", err)
	}
	s := mustOpenPath(t, path, Options{})
	m1, m2 := SnapshotKey{"town-hall", "m-1"}, SnapshotKey{"town-hall", "m-2"}
	wantOutbox := []Delivery{
		{ID: 1, Notifier: "ops", Meeting: m1, EventID: "evt_1", EventType: "session.started", CreatedAt: t0},
		{ID: 2, Notifier: "slack", Meeting: m1, EventID: "evt_1", EventType: "session.started", CreatedAt: t0},
		{ID: 3, Notifier: "ops", Meeting: m1, EventID: "evt_2", EventType: "participants.threshold_crossed", CreatedAt: t0.Add(time.Second),
			Attempts: 2, NextAttempt: t0.Add(time.Minute), LastError: "503 Service Unavailable"},
		{ID: 4, Notifier: "ops", Meeting: m2, EventID: "evt_3", EventType: "session.started", CreatedAt: t0.Add(2 * time.Second)},
		// The body names no meeting: it orders nothing, as in schema 1.
		{ID: 5, Notifier: "ops", EventID: "evt_4", EventType: "session.started", CreatedAt: t0.Add(3 * time.Second),
			RequeuedAt: t0.Add(4 * time.Minute)},
	}
	wantDead := []Delivery{
		{ID: 6, Notifier: "ops", Meeting: m2, EventID: "evt_5", EventType: "session.started", CreatedAt: t0.Add(4 * time.Second),
			Attempts: 1, NextAttempt: t0.Add(time.Minute), LastError: "410 Gone", DeadAt: t0.Add(2 * time.Minute)},
	}
	out, dead := listAll(t, s)
	noBody := cmpopts.IgnoreFields(Delivery{}, "Body")
	if diff := cmp.Diff(wantOutbox, out, noBody); diff != "" {
		t.Errorf("outbox after migration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantDead, dead, noBody); diff != "" {
		t.Errorf("dead letters after migration (-want +got):\n%s", diff)
	}
	for _, d := range append(out, dead...) {
		if !strings.Contains(string(d.Body), `"`+d.EventID+`"`) && d.EventID != "evt_4" {
			t.Errorf("delivery %d: body %s is not that of %s", d.ID, d.Body, d.EventID)
		}
	}
	snaps, err := s.Snapshots("town-hall")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"m-1": []byte(`{"session":"s-1"}`), "m-2": []byte(`{"session":"s-2"}`)}, snaps); diff != "" {
		t.Errorf("snapshots after migration (-want +got):\n%s", diff)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketIndexV1) != nil {
			t.Error("schema 1's index bucket is still there")
		}
		if got := string(tx.Bucket(bucketMeta).Get(keySchema)); got != SchemaVersion {
			t.Errorf("schema version %q after migration, want %q", got, SchemaVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The sequence of IDs goes on, and the migrated deliveries work.
	if err := s.Commit([]Update{{Key: m1, Snapshot: []byte("{}"), Events: []NewEvent{testEvent("evt_6", "ops")}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered("ops", 3); err != nil {
		t.Error(err)
	}
	if n, err := s.Requeue(t0, 6); n != 1 || err != nil {
		t.Errorf("Requeue(6) = %d, %v; want 1, nil", n, err)
	}
	p, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{1, 4, 5, 6, 7}, ids(p)); diff != "" {
		t.Errorf("ops outbox IDs (-want +got):\n%s", diff)
	}
}

// TestMigrateV1Undecodable checks that records of schema 1 that do not
// decode are quarantined by the migration, and the rest migrated.
func TestMigrateV1Undecodable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	good := `{"notifier":"ops","event_id":"evt_2","event_type":"session.started","created_at":"2026-11-25T21:00:00Z","body":"eyJkYXRhIjp7IndhdGNoIjoidyIsIm1lZXRpbmdfaWQiOiJtIn19"}`
	writeBolt(t, path, func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		if err := meta.Put(keySchema, []byte("1")); err != nil {
			return err
		}
		snaps, _ := tx.CreateBucket(bucketSnapshots)
		_ = snaps
		outbox, _ := tx.CreateBucket(bucketOutbox)
		ops, _ := outbox.CreateBucket([]byte("ops"))
		index, _ := tx.CreateBucket(bucketIndexV1)
		dead, _ := tx.CreateBucket(bucketDead)
		for _, kv := range []struct {
			b *bolt.Bucket
			k uint64
			v string
		}{
			{ops, 1, `{"notifier":"ops","event_id":`}, // cut short
			{ops, 2, good},
			{ops, 3, `{"notifier":"ops","event_id":"evt_3","created_at":"2026-11-25T21:00:00Z"}`}, // no body
			{index, 1, "ops"}, {index, 2, "ops"}, {index, 3, "ops"},
			{dead, 4, "\x00\x01garbage"},
		} {
			if err := kv.b.Put(idKey(kv.k), []byte(kv.v)); err != nil {
				return err
			}
		}
		return outbox.SetSequence(4)
	})
	before := time.Now().UTC()
	s := mustOpenPath(t, path, Options{})
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Delivery{{ID: 2, Notifier: "ops", Meeting: SnapshotKey{"w", "m"}, EventID: "evt_2", EventType: "session.started",
		CreatedAt: t0, Body: []byte(`{"data":{"watch":"w","meeting_id":"m"}}`)}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("outbox after migration (-want +got):\n%s", diff)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	type quarantined struct {
		ID          uint64
		Notifier    string
		Quarantined bool
		Body        string
		Reason      string
	}
	var got []quarantined
	for _, d := range dead {
		if d.DeadAt.Before(before) {
			t.Errorf("dead letter %d died at %s, before the migration (%s)", d.ID, d.DeadAt, before)
		}
		reason, _, _ := strings.Cut(d.LastError, ":")
		got = append(got, quarantined{d.ID, d.Notifier, d.Quarantined, string(d.Body), reason})
	}
	wantDead := []quarantined{
		{1, "ops", true, `{"notifier":"ops","event_id":`, "schema 1 record does not decode"},
		{3, "ops", true, `{"notifier":"ops","event_id":"evt_3","created_at":"2026-11-25T21:00:00Z"}`, "schema 1 record does not decode"},
		{4, "unknown", true, "\x00\x01garbage", "schema 1 record does not decode"},
	}
	if diff := cmp.Diff(wantDead, got); diff != "" {
		t.Errorf("dead letters after migration (-want +got):\n%s", diff)
	}
	if n, err := s.Requeue(t0); n != 0 || err != nil {
		t.Errorf("Requeue() = %d, %v; want 0 (quarantined ones stay), nil", n, err)
	}
}
