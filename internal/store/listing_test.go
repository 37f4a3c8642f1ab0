package store

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutboxAfterPages(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 3, "ops", "slack") // ops: 1 3 5; slack: 2 4 6
	queueEvents(t, s, 2, "mail")         // 7 8
	if err := s.MarkDelivered("slack", 4); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 0, []uint64{1, 2, 3, 5, 6, 7, 8}},
		{0, -1, []uint64{1, 2, 3, 5, 6, 7, 8}},
		{0, 1, []uint64{1}},
		{1, 3, []uint64{2, 3, 5}},
		{3, 3, []uint64{5, 6, 7}},
		{4, 3, []uint64{5, 6, 7}},
		{7, 3, []uint64{8}},
		{8, 3, []uint64{}},
		{math.MaxUint64, 0, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("after=%d/limit=%d", tt.after, tt.limit), func(t *testing.T) {
			got, err := s.OutboxAfter(tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("OutboxAfter IDs (-want +got):\n%s", diff)
			}
		})
	}
	// Paging through it one delivery at a time visits each once, and
	// each with its notifier.
	var seen []string
	for after := uint64(0); ; {
		page, err := s.OutboxAfter(after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		seen = append(seen, fmt.Sprintf("%d:%s", page[0].ID, page[0].Notifier))
		after = page[0].ID
	}
	want := []string{"1:ops", "2:slack", "3:ops", "5:ops", "6:slack", "7:mail", "8:mail"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestDeadLettersAfterPages(t *testing.T) {
	s := mustOpen(t)
	queueEvents(t, s, 5, "ops") // 1…5
	for _, id := range []uint64{2, 3, 5} {
		if err := s.DeadLetter("ops", id, t0, "410 Gone"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 0, []uint64{2, 3, 5}},
		{0, 2, []uint64{2, 3}},
		{2, 1, []uint64{3}},
		{3, 0, []uint64{5}},
		{5, 10, []uint64{}},
		{math.MaxUint64, 0, []uint64{}},
	}
	for _, tt := range tests {
		got, err := s.DeadLettersAfter(tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
			t.Errorf("DeadLettersAfter(%d, %d) IDs (-want +got):\n%s", tt.after, tt.limit, diff)
		}
	}
}
