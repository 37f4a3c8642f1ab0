package diff

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

var (
	fuzzUsageRules = UsageRules{DailyMinutes: []float64{5000, 20000}, MonthlyMinutes: []float64{50000, 200000}, FailingAfter: 2, PricePerParticipantMinute: 0.001}
	fuzzUsageFewer = UsageRules{DailyMinutes: []float64{20000}, MonthlyMinutes: []float64{200000}, FailingAfter: 2}
)

// usageFuzzStep is one read of FuzzApplyUsage.
type usageFuzzStep struct {
	obs       UsageObservation
	rules     UsageRules
	roundTrip bool
}

// decodeUsageSteps turns fuzz bytes into reads, four bytes each:
//
//	b0: bit 7 a failed read, bit 6 store the state as JSON and read it back
//	    first, bit 5 the rules with fewer thresholds
//	b1, b2: a day each: bits 0-2 which (today, yesterday, two days ago, the
//	    1st of the month, tomorrow, the last day of the previous month, not
//	    a date, none), bits 3-7 thousands of minutes (30: -1, 31: NaN)
//	b3: hours since the previous read
func decodeUsageSteps(data []byte) []usageFuzzStep {
	when := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	var steps []usageFuzzStep
	for len(data) >= 4 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		when = when.Add(time.Duration(b3) * time.Hour)
		st := usageFuzzStep{obs: UsageObservation{At: when}, rules: fuzzUsageRules, roundTrip: b0&64 != 0}
		if b0&32 != 0 {
			st.rules = fuzzUsageFewer
		}
		if b0&128 != 0 {
			f := fuzzFailures[int(b1)%len(fuzzFailures)]
			st.obs.Failure = &f
		}
		today := time.Date(when.Year(), when.Month(), when.Day(), 0, 0, 0, 0, time.UTC)
		for _, b := range []byte{b1, b2} {
			var d string
			switch b & 7 {
			case 0, 1, 2:
				d = today.AddDate(0, 0, -int(b&7)).Format(dayLayout)
			case 3:
				d = today.AddDate(0, 0, 1-today.Day()).Format(dayLayout)
			case 4:
				d = today.AddDate(0, 0, 1).Format(dayLayout)
			case 5:
				d = today.AddDate(0, 0, -today.Day()).Format(time.RFC3339)
			case 6:
				d = "someday"
			case 7:
				continue
			}
			m := float64(b>>3) * 1000
			switch b >> 3 {
			case 30:
				m = -1
			case 31:
				m = math.NaN()
			}
			st.obs.Days = append(st.obs.Days, UsageDay{Day: d, Minutes: m})
		}
		steps = append(steps, st)
	}
	return steps
}

func FuzzApplyUsage(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0x08, 0x07, 1, 0, 0x28, 0x0b, 1, 0x80, 0, 0, 1, 0, 0xa8, 0x07, 2, 0x20, 0xa8, 0xfb, 1, 0x40, 0xf0, 0x0c, 30, 0, 0xe0, 0x0c, 24})
	f.Fuzz(func(t *testing.T, data []byte) {
		var prev UsageState
		ids := map[string]bool{}
		type key struct {
			period, start string
			th            float64
		}
		reported := map[key]bool{}
		var known UsageRules // the rules at the last good read
		for i, st := range decodeUsageSteps(data) {
			if st.roundTrip {
				prev = roundTripJSON(t, prev)
			}
			before := deepUsage(prev)
			next, evs, skipped := ApplyUsage(testApp, prev, st.obs, st.rules)
			if !reflect.DeepEqual(before, deepUsage(prev)) {
				t.Fatalf("step %d: prev modified", i)
			}
			checkSignalSequence(t, i, prev.Sequence, next.Sequence, evs, ids)
			if st.obs.Failure != nil {
				if len(skipped) != 0 || !reflect.DeepEqual(prev.Day, next.Day) || !reflect.DeepEqual(prev.Month, next.Month) || prev.Baselined != next.Baselined {
					t.Fatalf("step %d: a failed read changed the periods", i)
				}
				for _, e := range evs {
					if e.Type != TypeWatchFailing || e.Data.Signal != SignalUsage {
						t.Fatalf("step %d: a failed read emitted %s", i, e.Type)
					}
				}
				prev = next
				continue
			}

			// The model's minutes.
			now := st.obs.At
			today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
			var dayMinutes, monthMinutes float64
			seen := map[time.Time]bool{}
			bad := 0
			for _, d := range st.obs.Days {
				day, ok := parseDay(d.Day)
				if !ok || day.After(today) || seen[day] || !(d.Minutes >= 0) {
					bad++
					continue
				}
				seen[day] = true
				if day.Equal(today) {
					dayMinutes = d.Minutes
				}
				if !day.Before(month) {
					monthMinutes += d.Minutes
				}
			}
			if len(skipped) != bad {
				t.Fatalf("step %d: %d skipped, the model has %d bad days", i, len(skipped), bad)
			}
			periods := map[string]struct {
				start   time.Time
				minutes float64
				th      []float64
				was     UsagePeriod
				now     UsagePeriod
				knew    []float64
			}{
				PeriodDay:   {today, dayMinutes, st.rules.DailyMinutes, prev.Day, next.Day, known.DailyMinutes},
				PeriodMonth: {month, monthMinutes, st.rules.MonthlyMinutes, prev.Month, next.Month, known.MonthlyMinutes},
			}
			for k := range reported {
				if p := periods[k.period]; !slices.Contains(p.th, k.th) {
					delete(reported, k) // forgotten: it may fire again
				}
			}
			for _, e := range evs {
				if e.Type == TypeWatchRecovered {
					continue
				}
				p, ok := periods[e.Data.Period]
				th, got := *e.Data.ThresholdMinutes, *e.Data.Minutes
				if !ok || e.Type != TypeUsageThreshold || !prev.Baselined {
					t.Fatalf("step %d: %s for period %q (baselined %v)", i, e.Type, e.Data.Period, prev.Baselined)
				}
				if e.Data.PeriodStart != p.start.Format(dayLayout) || got != p.minutes || got < th || !slices.Contains(p.th, th) {
					t.Fatalf("step %d: %s %v at %v minutes from %s; the model has %v from %v under %v", i, e.Data.Period, th, got, e.Data.PeriodStart, p.minutes, p.start, p.th)
				}
				k := key{e.Data.Period, e.Data.PeriodStart, th}
				if reported[k] {
					t.Fatalf("step %d: %v reported twice", i, k)
				}
				reported[k] = true
				// In the same period, a threshold fires only if the rules had
				// it at the last read, and it was not reached then.
				if p.was.Start == p.start.Format(dayLayout) && (!slices.Contains(p.knew, th) || slices.Contains(p.was.Reached, th)) {
					t.Fatalf("step %d: %s %v fired, though new or reached at the last read (%+v)", i, e.Data.Period, th, p.was)
				}
			}
			for name, p := range periods {
				if p.now.Start != p.start.Format(dayLayout) || !slices.Equal(p.now.Known, p.th) || !slices.IsSorted(p.now.Reached) {
					t.Fatalf("step %d: %s state %+v, want start %v knowing %v", i, name, p.now, p.start, p.th)
				}
				for _, th := range p.th {
					if p.minutes >= th != slices.Contains(p.now.Reached, th) && !(p.minutes < th && p.was.Start == p.now.Start) {
						t.Fatalf("step %d: %s at %v minutes but %v reached=%v", i, name, p.minutes, th, slices.Contains(p.now.Reached, th))
					}
				}
			}
			known = st.rules
			prev = next
		}
	})
}
