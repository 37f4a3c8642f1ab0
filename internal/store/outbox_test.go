package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// queueEvents commits one update per event, each event for the given
// notifiers, and returns nothing: IDs are 1, 2, 3… in notifier order.
func queueEvents(t *testing.T, s *Store, n int, notifiers ...string) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("evt_%d", i)
		err := s.Commit([]Update{{Key: SnapshotKey{"w", "m"}, Snapshot: []byte(id), Events: []NewEvent{testEvent(id, notifiers...)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestPendingOrderAndLimit(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 6, "ops", "slack") // ops: 1 3 5 7 9 11; slack: 2 4 6 8 10 12
	// Enough IDs to need more than one byte, to show keys sort numerically.
	queueEvents(t, s, 250, "bulk")
	tests := []struct {
		notifier string
		limit    int
		want     []uint64
	}{
		{"ops", 0, []uint64{1, 3, 5, 7, 9, 11}},
		{"ops", -1, []uint64{1, 3, 5, 7, 9, 11}},
		{"ops", 2, []uint64{1, 3}},
		{"slack", 100, []uint64{2, 4, 6, 8, 10, 12}},
		{"bulk", 3, []uint64{13, 14, 15}},
		{"unknown", 0, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.notifier, tt.limit), func(t *testing.T) {
			got, err := s.Pending(tt.notifier, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("Pending IDs (-want +got):\n%s", diff)
			}
			for _, d := range got {
				if d.Notifier != tt.notifier {
					t.Errorf("delivery %d has notifier %q, want %q", d.ID, d.Notifier, tt.notifier)
				}
			}
		})
	}
	bulk, err := s.Pending("bulk", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(bulk); i++ {
		if bulk[i-1].ID >= bulk[i].ID {
			t.Fatalf("Pending(bulk) not ascending at %d: %d then %d", i, bulk[i-1].ID, bulk[i].ID)
		}
	}
	if _, err := s.Pending("", 0); err == nil {
		t.Error("Pending(\"\") succeeded, want an error")
	}
	all, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 262 || all[0].ID != 1 || all[261].ID != 262 {
		t.Errorf("Outbox has %d deliveries from %d to %d, want 262 from 1 to 262", len(all), all[0].ID, all[len(all)-1].ID)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Fatalf("Outbox not ascending at %d: %d then %d", i, all[i-1].ID, all[i].ID)
		}
	}
}

func TestRecordAttempt(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 1, "ops")
	// A time in another zone comes back as the same instant, in UTC.
	next := t0.Add(90 * time.Second).In(time.FixedZone("CET", 3600))
	if err := s.RecordAttempt("ops", 1, 2, next, "503 Service Unavailable"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatal(err)
	}
	e := testEvent("evt_0", "ops")
	want := []Delivery{{
		ID: 1, Notifier: "ops", Meeting: SnapshotKey{"w", "m"}, EventID: "evt_0", EventType: e.Type, CreatedAt: t0, Body: e.Body,
		Attempts: 2, NextAttempt: next, LastError: "503 Service Unavailable",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pending after RecordAttempt (-want +got):\n%s", diff)
	}
	if loc := got[0].NextAttempt.Location(); loc != time.UTC {
		t.Errorf("NextAttempt location = %s, want UTC", loc)
	}
	if err := s.RecordAttempt("ops", 1, -1, next, ""); err == nil {
		t.Error("RecordAttempt with negative attempts succeeded, want an error")
	}
}

func TestMarkDeliveredAndDepth(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 3, "ops", "slack") // ops: 1 3 5; slack: 2 4 6
	depth := func() map[string]int {
		t.Helper()
		d, err := s.OutboxDepth()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if diff := cmp.Diff(map[string]int{"ops": 3, "slack": 3}, depth()); diff != "" {
		t.Errorf("OutboxDepth (-want +got):\n%s", diff)
	}
	for _, d := range []struct {
		notifier string
		id       uint64
	}{{"ops", 1}, {"ops", 3}, {"ops", 5}, {"slack", 4}} {
		if err := s.MarkDelivered(d.notifier, d.id); err != nil {
			t.Fatalf("MarkDelivered(%s, %d): %v", d.notifier, d.id, err)
		}
	}
	if diff := cmp.Diff(map[string]int{"ops": 0, "slack": 2}, depth()); diff != "" {
		t.Errorf("OutboxDepth after deliveries (-want +got):\n%s", diff)
	}
	got, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{2, 6}, ids(got)); diff != "" {
		t.Errorf("Outbox IDs after deliveries (-want +got):\n%s", diff)
	}
	// Delivered twice: the second time it is gone.
	if err := s.MarkDelivered("ops", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("second MarkDelivered(1): %v; want ErrNotFound", err)
	}
	if d := depth(); len(d) != 2 {
		t.Errorf("OutboxDepth = %v; want both notifiers listed", d)
	}
	fresh := mustOpen(t)
	if d, err := fresh.OutboxDepth(); err != nil || len(d) != 0 {
		t.Errorf("OutboxDepth of a fresh store = %v, %v; want empty, nil", d, err)
	}
}

func TestUnknownDeliveryID(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 2, "ops")
	if err := s.DeadLetter("ops", 2, t0, "gone"); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func(id uint64) error
	}{
		{"MarkDelivered", func(id uint64) error { return s.MarkDelivered("ops", id) }},
		{"RecordAttempt", func(id uint64) error { return s.RecordAttempt("ops", id, 1, t0, "x") }},
		{"DeadLetter", func(id uint64) error { return s.DeadLetter("ops", id, t0, "x") }},
	}
	for _, c := range calls {
		for _, id := range []uint64{0, 2, 99} { // never used, dead-lettered, not yet used
			t.Run(fmt.Sprintf("%s/%d", c.name, id), func(t *testing.T) {
				err := c.call(id)
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("%s(%d): %v; want ErrNotFound", c.name, id, err)
				}
			})
		}
	}
	// The outbox and the dead letters are as they were.
	out, _ := s.OutboxAfter(0, 0)
	dead, _ := s.DeadLettersAfter(0, 0)
	if diff := cmp.Diff([][]uint64{{1}, {2}}, [][]uint64{ids(out), ids(dead)}); diff != "" {
		t.Errorf("outbox and dead letter IDs (-want +got):\n%s", diff)
	}
	if err := s.MarkDelivered("ops", 99); err == nil || err.Error() != "mark delivery 99 of ops delivered: no such delivery" {
		t.Errorf("MarkDelivered(99) = %v", err)
	}
}

// BenchmarkDeliveryEncoding measures the JSON record a delivery is stored
// as, with a typical 900-byte event body.
func BenchmarkDeliveryEncoding(b *testing.B) {
	d := Delivery{ID: 42, Notifier: "ops", EventID: "evt_01JD", EventType: "session.ended", CreatedAt: t0,
		Body: bytes.Repeat([]byte(`{"k":"v"}`), 100), Attempts: 3, NextAttempt: t0.Add(time.Minute), LastError: "503"}
	v, err := encodeDelivery(d)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeDelivery(d); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(v)), "stored-bytes")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeDelivery(42, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestPendingAfter(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 6, "ops", "slack") // ops: 1 3 5 7 9 11; slack: 2 4 6 8 10 12
	tests := []struct {
		name    string
		afterID uint64
		limit   int
		want    []uint64
	}{
		{"from the start", 0, 0, []uint64{1, 3, 5, 7, 9, 11}},
		{"after an ID in the outbox", 3, 0, []uint64{5, 7, 9, 11}},
		{"after an ID of another notifier", 4, 2, []uint64{5, 7}},
		{"after the last", 11, 0, []uint64{}},
		{"after the largest ID", math.MaxUint64, 0, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.PendingAfter("ops", tt.afterID, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("PendingAfter IDs (-want +got):\n%s", diff)
			}
		})
	}

	// Paging by the last ID of each page reads the whole outbox once.
	var paged []uint64
	var after uint64
	for {
		page, err := s.PendingAfter("slack", after, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		after = page[len(page)-1].ID
	}
	if diff := cmp.Diff([]uint64{2, 4, 6, 8, 10, 12}, paged); diff != "" {
		t.Errorf("slack read in pages of 4 (-want +got):\n%s", diff)
	}
	if _, err := s.PendingAfter("", 0, 0); err == nil {
		t.Error("PendingAfter(\"\") succeeded, want an error")
	}
}
