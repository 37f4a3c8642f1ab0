package diff

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEndedEstimatedCost(t *testing.T) {
	priced := testRules
	priced.PricePerParticipantMinute = 0.002
	final := endedSession("s1", 600)
	final.MinutesConsumed = 640
	tests := []struct {
		name  string
		rules Rules
		obs   Observation
		want  *float64
	}{
		{"from the final numbers", priced, Observation{Kind: ObservedNoSession, At: at(700), Final: final}, ptr(1.28)},
		{"from the last observation without them", priced, noSessionObs(700), ptr(0.06)},
		{"no price, no cost", testRules, Observation{Kind: ObservedNoSession, At: at(700), Final: final}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, _ := applyChecked(t, Snapshot{}, sessionObs(0, liveSession("s1", 3, 30)), tc.rules)
			_, evs := applyChecked(t, prev, tc.obs, tc.rules)
			if len(evs) != 1 || evs[0].Type != TypeSessionEnded {
				t.Fatalf("events %v, want session.ended", briefs(evs))
			}
			if diff := cmp.Diff(tc.want, evs[0].Data.EstimatedCost); diff != "" {
				t.Errorf("estimated_cost (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEstimatedCost(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		minutes, price float64
		want           *float64
	}{
		{1000, 0.002, ptr(2.0)},
		{0.1, 0.2, ptr(0.02)}, // not 0.020000000000000004
		{0, 0.002, ptr(0.0)},
		{1000, 0, nil},
		{1000, -1, nil},
		{1000, nan, nil},
		{1000, inf, nil},
		{-1, 0.002, nil},
		{nan, 0.002, nil},
		{inf, 0.002, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, estimatedCost(tc.minutes, tc.price)); diff != "" {
			t.Errorf("estimatedCost(%v, %v) (-want +got):\n%s", tc.minutes, tc.price, diff)
		}
	}
}
