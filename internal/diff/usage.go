package diff

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Usage periods, as usage.threshold_crossed names them in "period".
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// UsageDay is one day of an app's session minutes, from
// GET …/{app_id}/analytics/daywise (data.session_stats.day_stats[]).
type UsageDay struct {
	// Day is "day": a date, 2006-01-02, or an RFC 3339 time whose UTC date
	// is the day.
	Day string
	// Minutes is total_session_minutes.
	Minutes float64
}

// UsageObservation is one read of an app's daywise analytics.
type UsageObservation struct {
	// At is when the read completed: the rule's only "now". The current day
	// and month are At's, in UTC.
	At time.Time
	// Days are the days read, with Failure nil. They should cover the
	// current UTC month up to today (start_date its first day, end_date
	// today): the month's minutes are the sum of the days listed in it.
	Days []UsageDay
	// Failure, when not nil, says the analytics could not be read.
	Failure *Failure
}

// UsageRules are a usage block, as configured.
type UsageRules struct {
	DailyMinutes   []float64 // daily_minutes: ascending, each > 0
	MonthlyMinutes []float64 // monthly_minutes: ascending, each > 0
	// PricePerParticipantMinute, when > 0, adds estimated_cost.
	PricePerParticipantMinute float64
	// FailingAfter, FailingRatio, RecoverAfter and RemindEvery are the
	// failure policy of reads of the analytics, as in Rules.
	FailingAfter int
	FailingRatio float64
	RecoverAfter int
	RemindEvery  time.Duration
}

// health returns the failure policy of r.
func (r UsageRules) health() healthRules {
	return healthRules{failingAfter: r.FailingAfter, failingRatio: r.FailingRatio, recoverAfter: r.RecoverAfter, remindEvery: r.RemindEvery}
}

// UsageState is what rtkwatchd remembers between two reads of an app's
// usage; the caller stores it, one per usage block, and hands it back to the
// next call. The zero value means never read.
type UsageState struct {
	// Baselined is true once one good read has been recorded.
	Baselined bool `json:"baselined"`
	// Sequence is the sequence number of the last event of this usage
	// block; the next gets Sequence+1.
	Sequence uint64 `json:"sequence"`
	// Health is the failure bookkeeping of reads of the analytics.
	Health
	// Day and Month are the current UTC day and month, as of the last good
	// read.
	Day   UsagePeriod `json:"day"`
	Month UsagePeriod `json:"month"`
}

// UsagePeriod is what a UsageState remembers of one day or month.
type UsagePeriod struct {
	// Start is the period's first day, 2006-01-02 (UTC).
	Start string `json:"start,omitempty"`
	// Reached lists, ascending, the thresholds reached in the period,
	// reported or (at a baseline, or added by a reload) armed silently.
	Reached []float64 `json:"reached,omitempty"`
	// Known lists, ascending, the thresholds of the rules at the last good
	// read of the period, never nil after one, as Snapshot.KnownMinutes.
	Known []float64 `json:"known,omitzero"`
}

// dayLayout is the layout of a UsagePeriod's Start and of the API's days.
const dayLayout = "2006-01-02"

// ApplyUsage returns the next usage state of an app and the events that one
// read of its daywise analytics implies, given the stored state prev (the
// zero UsageState when never read) and the usage block's rules. app names
// what the events are about: its AccountID and AppID, and the Watch and
// MeetingID that the caller gives usage events (a usage block belongs to no
// watch or meeting). Like Apply, it modifies neither prev nor obs.
//
// The rules:
//
//   - A failed read changes nothing but the failure bookkeeping, and emits
//     watch.failing and watch.recovered as a meeting's polls do, with
//     signal "usage".
//   - The day's minutes are those of the entry for At's UTC date (0 without
//     one); the month's, the sum of the entries from the first of At's UTC
//     month to that date.
//   - An entry whose day is not a date, lies after At's UTC date, or repeats
//     a day already listed, and one whose minutes are negative, NaN or
//     infinite, counts for nothing and comes back as Skipped.
//   - usage.threshold_crossed fires once per period for each of
//     rules.DailyMinutes the day's minutes reach (≥), and for each of
//     rules.MonthlyMinutes the month's reach, days first, each ascending. A
//     new UTC day (month) starts its thresholds from zero: its first read may
//     cross some. Events carry period (day or month), period_start (its
//     first day, 2006-01-02, UTC), threshold_minutes, minutes, and
//     estimated_cost (minutes times the price, rounded to a millionth) when
//     a price is set; previous and current are null.
//   - The first good read is a baseline: thresholds already reached are
//     recorded, silently, and fire neither now nor later in their period.
//   - A threshold that the rules gained since the last good read of the
//     same period is armed silently when the period is already past it; one
//     the rules lost is forgotten.
//   - Events are numbered by the state's own sequence.
func ApplyUsage(app Meeting, prev UsageState, obs UsageObservation, rules UsageRules) (UsageState, []Event, []Skipped) {
	next := prev
	s := signalStep{watch: app, signal: SignalUsage, at: obs.At, seq: &next.Sequence}
	if !s.health(&next.Health, obs.Failure, rules.health()) {
		return next, s.events, nil
	}
	now := obs.At.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)

	var skipped []Skipped
	var dayMinutes, monthMinutes float64
	seen := make(map[time.Time]bool, len(obs.Days))
	for _, d := range obs.Days {
		day, ok := parseDay(d.Day)
		var reason SkipReason
		switch {
		case !ok:
			reason = SkipBadDay
		case day.After(today):
			reason = SkipFutureDay
		case seen[day]:
			reason = SkipDuplicateDay
		case !(d.Minutes >= 0) || math.IsInf(d.Minutes, 0):
			reason = SkipBadMinutes
		}
		if reason != "" {
			skipped = append(skipped, Skipped{Reason: reason, ID: d.Day, Value: strconv.FormatFloat(d.Minutes, 'g', -1, 64)})
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
	u := usageStep{signalStep: &s, app: app, price: rules.PricePerParticipantMinute, baseline: !prev.Baselined}
	next.Day = u.period(prev.Day, PeriodDay, today, sorted(rules.DailyMinutes), dayMinutes)
	next.Month = u.period(prev.Month, PeriodMonth, month, sorted(rules.MonthlyMinutes), monthMinutes)
	next.Baselined = true
	return next, s.events, skipped
}

// usageStep is one ApplyUsage call's emitter.
type usageStep struct {
	*signalStep
	app      Meeting
	price    float64
	baseline bool
}

// period returns the next state of the period that starts at start, given
// what the state held (was, perhaps of an earlier period), the rules'
// thresholds th (ascending) and the period's minutes, emitting the
// thresholds reached for the first time.
func (u *usageStep) period(was UsagePeriod, name string, start time.Time, th []float64, minutes float64) UsagePeriod {
	key := start.Format(dayLayout)
	reached, knew := was.Reached, was.Known
	if was.Start != key {
		reached, knew = nil, nil // a new period: every threshold counts from zero
	} else if knew != nil && !slices.Equal(knew, th) {
		reached = armed(reached, knew, th, minutes)
	}
	next := reachOnce(th, reached, minutes)
	if !u.baseline && !sameSlice(next, reached) {
		for _, t := range next {
			if slices.Contains(reached, t) {
				continue
			}
			d := u.emit(u.app, TypeUsageThreshold, name+"\x00"+key+"\x00"+strconv.FormatFloat(t, 'g', -1, 64))
			d.Period = name
			d.PeriodStart = key
			d.ThresholdMinutes = ptr(t)
			d.Minutes = ptr(minutes)
			d.EstimatedCost = estimatedCost(minutes, u.price)
		}
	}
	return UsagePeriod{Start: key, Reached: next, Known: known(knew, th)}
}

// parseDay reads a usage day: a date, or an RFC 3339 time, whose UTC date
// it returns at midnight UTC.
func parseDay(s string) (time.Time, bool) {
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, false
		}
		t = t.UTC()
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}
