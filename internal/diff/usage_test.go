package diff

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testApp = Meeting{Watch: "usage", AccountID: "acc-1", AppID: "app-1", MeetingID: "*"}

// utc returns the UTC instant of a "2006-01-02T15:04:05" string.
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func usageObs(when string, days ...UsageDay) UsageObservation {
	return UsageObservation{At: utc(when), Days: days}
}

func day(d string, minutes float64) UsageDay { return UsageDay{Day: d, Minutes: minutes} }

// usageBrief is the part of a usage event that scenario tables compare.
type usageBrief struct {
	Type, Period, Start string
	Threshold, Minutes  float64
	Seq                 uint64
}

func usageBriefs(evs []Event) []usageBrief {
	var out []usageBrief
	for _, e := range evs {
		b := usageBrief{Type: e.Type, Period: e.Data.Period, Start: e.Data.PeriodStart, Seq: e.Data.Sequence}
		if e.Data.ThresholdMinutes != nil {
			b.Threshold, b.Minutes = *e.Data.ThresholdMinutes, *e.Data.Minutes
		}
		if e.Data.Signal != "" {
			b.Period = e.Data.Signal
		}
		out = append(out, b)
	}
	return out
}

type usageStepCase struct {
	rules       UsageRules
	obs         UsageObservation
	want        []usageBrief
	wantSkipped []Skipped
	roundTrip   bool
}

// playUsage applies steps in turn from the zero state and returns the last.
func playUsage(t *testing.T, steps []usageStepCase) UsageState {
	t.Helper()
	var prev UsageState
	for i, st := range steps {
		if st.roundTrip {
			prev = roundTripJSON(t, prev)
		}
		before := deepUsage(prev)
		next, evs, skipped := ApplyUsage(testApp, prev, st.obs, st.rules)
		if !reflect.DeepEqual(before, deepUsage(prev)) {
			t.Fatalf("step %d: ApplyUsage modified prev", i)
		}
		if diff := cmp.Diff(st.want, usageBriefs(evs)); diff != "" {
			t.Fatalf("step %d events (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(st.wantSkipped, skipped); diff != "" {
			t.Fatalf("step %d skipped (-want +got):\n%s", i, diff)
		}
		prev = next
	}
	return prev
}

// deepUsage copies s with its slices' spare capacity, so that a comparison
// notices writes through prev's backing arrays.
func deepUsage(s UsageState) [5]any {
	c := func(f []float64) []float64 { return append([]float64(nil), f[:cap(f)]...) }
	return [5]any{s, c(s.Day.Reached), c(s.Day.Known), c(s.Month.Reached), c(s.Month.Known)}
}

func dayAt(seq uint64, start string, th, minutes float64) usageBrief {
	return usageBrief{Type: TypeUsageThreshold, Period: PeriodDay, Start: start, Threshold: th, Minutes: minutes, Seq: seq}
}

func monthAt(seq uint64, start string, th, minutes float64) usageBrief {
	return usageBrief{Type: TypeUsageThreshold, Period: PeriodMonth, Start: start, Threshold: th, Minutes: minutes, Seq: seq}
}

func TestUsage(t *testing.T) {
	r := UsageRules{DailyMinutes: []float64{10000}, MonthlyMinutes: []float64{200000}, FailingAfter: 2}
	monthly := UsageRules{MonthlyMinutes: []float64{200000}}
	two := UsageRules{DailyMinutes: []float64{5000, 10000}, MonthlyMinutes: []float64{200000}, FailingAfter: 2}
	tests := []struct {
		name  string
		steps []usageStepCase
	}{
		{
			name: "at the threshold fires, just below does not, once per day",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-25T08:00:00", day("2026-11-25", 100))},
				{rules: r, obs: usageObs("2026-11-25T09:00:00", day("2026-11-25", 9999.99))},
				{rules: r, obs: usageObs("2026-11-25T10:00:00", day("2026-11-25", 10000)), want: []usageBrief{dayAt(1, "2026-11-25", 10000, 10000)}},
				{rules: r, obs: usageObs("2026-11-25T11:00:00", day("2026-11-25", 12000)), roundTrip: true},
				{rules: r, obs: usageObs("2026-11-26T00:10:00", day("2026-11-25", 12500), day("2026-11-26", 10001)),
					want: []usageBrief{dayAt(2, "2026-11-26", 10000, 10001)}},
			},
		},
		{
			name: "the baseline arms what is reached, for its periods only",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-25T08:00:00", day("2026-11-01", 180000), day("2026-11-25", 12000))},
				{rules: r, obs: usageObs("2026-11-25T09:00:00", day("2026-11-01", 180000), day("2026-11-25", 21000)),
					want: []usageBrief{monthAt(1, "2026-11-01", 200000, 201000)}},
				{rules: r, obs: usageObs("2026-11-26T09:00:00", day("2026-11-26", 10000)), want: []usageBrief{dayAt(2, "2026-11-26", 10000, 10000)}},
			},
		},
		{
			name: "the month is the sum of its days so far, in UTC",
			steps: []usageStepCase{
				{rules: monthly, obs: usageObs("2026-11-30T00:00:00")},
				{rules: monthly, obs: usageObs("2026-11-30T23:59:59", day("2026-10-31", 150000), day("2026-11-01", 100000), day("2026-11-30", 99999))},
				{rules: monthly, obs: usageObs("2026-11-30T23:59:59", day("2026-11-01", 100000), day("2026-11-30", 100000)),
					want: []usageBrief{monthAt(1, "2026-11-01", 200000, 200000)}},
				{rules: monthly, obs: usageObs("2026-12-01T00:00:00", day("2026-11-30", 300000), day("2026-12-01", 0))},
				{rules: monthly, obs: UsageObservation{At: utc("2026-12-31T23:30:00").In(time.FixedZone("CET", 3600)), // 2027-01-01 00:30 in CET
					Days: []UsageDay{day("2026-11-30", 300000), day("2026-12-01", 199999), day("2026-12-31", 0), day("2027-01-01", 5)}},
					wantSkipped: []Skipped{{Reason: SkipFutureDay, ID: "2027-01-01", Value: "5"}}},
				{rules: monthly, obs: usageObs("2027-01-01T00:00:00", day("2026-12-31", 300000), day("2027-01-01", 200000)),
					want: []usageBrief{monthAt(2, "2027-01-01", 200000, 200000)}},
			},
		},
		{
			name: "bad entries count for nothing",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-30T12:00:00")},
				{rules: r, obs: usageObs("2026-11-30T23:59:59",
					day("2026-12-01", 50000), day("2026-11-30", -1), day("2026-11-29", math.NaN()), day("2026-11-28", math.Inf(1)),
					day("yesterday", 20000), day("2026-11-30", 9000), day("2026-11-30", 50000), day("2026-11-27T00:00:00Z", 1000)),
					wantSkipped: []Skipped{
						{Reason: SkipFutureDay, ID: "2026-12-01", Value: "50000"},
						{Reason: SkipBadMinutes, ID: "2026-11-30", Value: "-1"},
						{Reason: SkipBadMinutes, ID: "2026-11-29", Value: "NaN"},
						{Reason: SkipBadMinutes, ID: "2026-11-28", Value: "+Inf"},
						{Reason: SkipBadDay, ID: "yesterday", Value: "20000"},
						{Reason: SkipDuplicateDay, ID: "2026-11-30", Value: "50000"},
					}},
				{rules: r, obs: usageObs("2026-12-01T00:00:00", day("2026-12-01", 50000)),
					want: []usageBrief{dayAt(1, "2026-12-01", 10000, 50000)}},
			},
		},
		{
			name: "a failed read changes nothing and fails the signal",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-25T08:00:00", day("2026-11-25", 100))},
				{rules: r, obs: UsageObservation{At: utc("2026-11-25T09:00:00"), Failure: &Failure{Kind: FailureServer, StatusCode: 500}}},
				{rules: r, obs: UsageObservation{At: utc("2026-11-25T10:00:00"), Failure: &Failure{Kind: FailureServer, StatusCode: 500}},
					want: []usageBrief{{Type: TypeWatchFailing, Period: SignalUsage, Seq: 1}}},
				{rules: r, obs: usageObs("2026-11-25T11:00:00", day("2026-11-25", 10000)), want: []usageBrief{
					{Type: TypeWatchRecovered, Period: SignalUsage, Seq: 2}, dayAt(3, "2026-11-25", 10000, 10000),
				}},
			},
		},
		{
			name: "a threshold added below today's minutes arms silently; above, it fires",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-25T08:00:00", day("2026-11-25", 100))},
				{rules: r, obs: usageObs("2026-11-25T09:00:00", day("2026-11-25", 6000))},
				{rules: two, obs: usageObs("2026-11-25T10:00:00", day("2026-11-25", 6000)), roundTrip: true},
				{rules: two, obs: usageObs("2026-11-25T11:00:00", day("2026-11-25", 10000)), want: []usageBrief{dayAt(1, "2026-11-25", 10000, 10000)}},
				{rules: r, obs: usageObs("2026-11-25T12:00:00", day("2026-11-25", 10000))},
				{rules: two, obs: usageObs("2026-11-26T01:00:00", day("2026-11-26", 5000)), want: []usageBrief{dayAt(2, "2026-11-26", 5000, 5000)}},
			},
		},
		{
			name: "added while the day is below it: fires when reached",
			steps: []usageStepCase{
				{rules: r, obs: usageObs("2026-11-25T08:00:00", day("2026-11-25", 100))},
				{rules: two, obs: usageObs("2026-11-25T09:00:00", day("2026-11-25", 4999))},
				{rules: two, obs: usageObs("2026-11-25T10:00:00", day("2026-11-25", 5000)), want: []usageBrief{dayAt(1, "2026-11-25", 5000, 5000)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			playUsage(t, tc.steps)
		})
	}
}

func TestUsageData(t *testing.T) {
	r := UsageRules{MonthlyMinutes: []float64{1000}, PricePerParticipantMinute: 0.002}
	prev, _, _ := ApplyUsage(testApp, UsageState{}, usageObs("2026-11-25T08:00:00"), r)
	when := utc("2026-11-25T09:00:00").In(time.FixedZone("CET", 3600))
	_, evs, _ := ApplyUsage(testApp, prev, UsageObservation{At: when, Days: []UsageDay{day("2026-11-02", 600), day("2026-11-25", 650.5)}}, r)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	want := Event{Type: TypeUsageThreshold, Timestamp: when.UTC(), Data: EventData{
		ID: evs[0].Data.ID, Sequence: 1, Watch: testApp.Watch, AccountID: testApp.AccountID, AppID: testApp.AppID, MeetingID: testApp.MeetingID,
		Period: PeriodMonth, PeriodStart: "2026-11-01", ThresholdMinutes: ptr(1000.0), Minutes: ptr(1250.5), EstimatedCost: ptr(2.501),
	}}
	if diff := cmp.Diff(want, evs[0]); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}
