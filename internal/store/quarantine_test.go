package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestUndecodableRecord: a record of the outbox that does not decode is
// listed with why, cannot be attempted, and is quarantined by DeadLetter;
// Requeue never moves it back.
func TestUndecodableRecord(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 3, "ops") // 1 2 3
	putRaw(t, s, "ops", false, 2, []byte("\x05{not json"))

	p, err := s.Pending("ops", 0)
	if err != nil {
		t.Fatalf("Pending with an undecodable record: %v", err)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3}, ids(p)); diff != "" {
		t.Errorf("Pending IDs (-want +got):\n%s", diff)
	}
	bad := p[1]
	if bad.Notifier != "ops" || bad.EventID != "" || !strings.HasPrefix(bad.Undecodable, "decode delivery 2: ") {
		t.Errorf("undecodable delivery = %+v; want its ID, notifier and why", bad)
	}
	if p[0].Undecodable != "" || p[2].Undecodable != "" {
		t.Errorf("good deliveries marked undecodable: %+v", p)
	}
	if err := s.RecordAttempt("ops", 2, 1, t0, "503"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("RecordAttempt on an undecodable record: %v; want an error other than ErrNotFound", err)
	}
	if err := s.DeadLetter("ops", 2, t0, "quarantined: it does not decode"); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Delivery{{ID: 2, Notifier: "ops", Body: []byte("\x05{not json"), LastError: "quarantined: it does not decode", DeadAt: t0, Quarantined: true}}
	if diff := cmp.Diff(want, dead); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if n, err := s.Requeue(t0); n != 0 || err != nil {
		t.Errorf("Requeue() = %d, %v; want 0: a quarantined record cannot be delivered", n, err)
	}
	if _, err := s.Requeue(t0, 2); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "2 (quarantined: its record did not decode)") {
		t.Errorf("Requeue(2) = %v; want ErrNotFound saying it is quarantined", err)
	}
	// An undecodable record among the dead letters is listed, and stays.
	putRaw(t, s, "", true, 9, []byte("junk"))
	dead, err = s.DeadLettersAfter(2, 0)
	if err != nil || len(dead) != 1 || dead[0].ID != 9 || dead[0].Undecodable == "" {
		t.Errorf("DeadLettersAfter(2) = %+v, %v; want delivery 9, undecodable", dead, err)
	}
	if _, err := s.Requeue(t0, 9); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "9 (its record does not decode)") {
		t.Errorf("Requeue(9) = %v; want ErrNotFound saying it does not decode", err)
	}
	// MarkDelivered removes an undecodable record like any other.
	putRaw(t, s, "ops", false, 3, []byte("junk"))
	if err := s.MarkDelivered("ops", 3); err != nil {
		t.Errorf("MarkDelivered on an undecodable record: %v", err)
	}
}

func TestDeadLetterAll(t *testing.T) {
	s := mustOpen(t)
	const n = retireChunk + 3
	queueMany(t, s, "gone", n) // 1…n
	queueEvents(t, s, 2, "ops")
	putRaw(t, s, "gone", false, 5, []byte("junk"))
	moved, err := s.DeadLetterAll("gone", t0, "notifier gone is no longer configured")
	if err != nil || moved != n {
		t.Fatalf("DeadLetterAll = %d, %v; want %d, nil", moved, err, n)
	}
	dead, err := s.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != n {
		t.Fatalf("%d dead letters, want %d", len(dead), n)
	}
	for _, d := range dead {
		if d.Notifier != "gone" || d.LastError != "notifier gone is no longer configured" || !d.DeadAt.Equal(t0) || d.Quarantined != (d.ID == 5) {
			t.Errorf("dead letter %+v", d)
			break
		}
	}
	if depth, _ := s.OutboxDepth(); depth["gone"] != 0 || depth["ops"] != 2 {
		t.Errorf("OutboxDepth = %v; want gone: 0, ops: 2", depth)
	}
	if moved, err := s.DeadLetterAll("gone", t0, "again"); moved != 0 || err != nil {
		t.Errorf("DeadLetterAll of an empty outbox = %d, %v; want 0, nil", moved, err)
	}
	if moved, err := s.DeadLetterAll("never", t0, "x"); moved != 0 || err != nil {
		t.Errorf("DeadLetterAll of an unknown notifier = %d, %v; want 0, nil", moved, err)
	}
	if _, err := s.DeadLetterAll("", t0, "x"); err == nil {
		t.Error("DeadLetterAll(\"\") succeeded, want an error")
	}
	if _, err := s.DeadLetterAll("ops", time.Time{}, "x"); err == nil {
		t.Error("DeadLetterAll with a zero time succeeded, want an error")
	}
}
