package poller

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// WatchPlan is what one watch costs the API budget.
type WatchPlan struct {
	Watch string
	// PollsPer5m is the most schedule activations in any five-minute window
	// of a simulated day (or week, for schedules that skip days, or four
	// years, for schedules that skip weeks).
	PollsPer5m int
	// RequestsPerPoll is the requests one cycle makes: one per explicit
	// meeting, or one per page of the sessions list (at least one; more when
	// more sessions are live than fit a page). A session that ends costs one
	// more, for its final numbers.
	RequestsPerPoll int
	// ViaList is true when explicit meetings are polled through the
	// sessions list; RequestsPerPoll then assumes that only they are live.
	ViaList bool
	// RequestsPer5m is PollsPer5m × RequestsPerPoll.
	RequestsPer5m int
}

// SignalPlan is what one app-wide read costs the budget: an app's
// recordings or livestreams list, which the watches of the app that ask
// for it share, or a usage block's analytics.
type SignalPlan struct {
	AppID string
	// Signal is diff.SignalRecordings, diff.SignalLivestreams or
	// diff.SignalUsage.
	Signal string
	// Watches are the watches that read it; for usage, the block's
	// schedule stands in, as Schedule.
	Watches  []string
	Schedule string
	// PollsPer5m is the busiest schedule's: watches share a read made
	// within three quarters of their interval, so the reads follow the
	// busiest of them.
	PollsPer5m int
	// RequestsPer5m is PollsPer5m requests: one per read (a list of more
	// than 100 items of the last 72 hours takes one more per 100).
	RequestsPer5m int
}

// Plan is the request budget of a whole configuration.
type Plan struct {
	Watches       []WatchPlan
	Signals       []SignalPlan
	RequestsPer5m int // the sum over watches and signals
	Budget        int // api.requests_per_5m
	// Check is the one-off cost of checking that the explicit meetings
	// exist, at start and on each reload; not part of RequestsPer5m.
	Check CheckPlan
}

// CheckPlan is what [Poller.CheckMeetings] costs for a configuration, once.
type CheckPlan struct {
	// Meetings counts the distinct app and meeting pairs to check.
	Meetings int
	// Requests is the requests it takes when each app's meetings list
	// holds little besides the meetings watched: one per 100 meetings of
	// an app with ListMinMeetings or more, else one per meeting.
	Requests int
	// MaxRequests is the most it takes, when apps have many other
	// meetings or the list lacks the meetings watched (wrong ids): pages
	// of the list, as long as they cost less than the meetings not found
	// yet, then one request per meeting not found: at most two per meeting.
	MaxRequests int
}

// makeCheckPlan computes the CheckPlan of cfg.
func makeCheckPlan(cfg *config.Config) CheckPlan {
	perApp := make(map[string]map[string]bool)
	for _, w := range cfg.Watches {
		for _, m := range w.Meetings {
			if perApp[w.AppID] == nil {
				perApp[w.AppID] = make(map[string]bool)
			}
			perApp[w.AppID][m] = true
		}
	}
	var c CheckPlan
	for _, ids := range perApp {
		n := len(ids)
		c.Meetings += n
		if n < ListMinMeetings {
			c.Requests += n
			c.MaxRequests += n
			continue
		}
		c.Requests += (n + rtkapi.MeetingsPerPage - 1) / rtkapi.MeetingsPerPage
		c.MaxRequests += 2 * n
	}
	return c
}

// Over reports by how many requests per five minutes the plan exceeds its
// budget; zero or less means it fits.
func (p Plan) Over() int { return p.RequestsPer5m - p.Budget }

// planEpoch starts the simulated window on a Monday at midnight UTC so that
// weekday schedules are counted at their busiest.
var planEpoch = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// MakePlan computes the request plan of cfg. The config must be valid.
func MakePlan(cfg *config.Config) (Plan, error) {
	p := Plan{Budget: cfg.API.RequestsPer5m, Check: makeCheckPlan(cfg)}
	for _, w := range cfg.Watches {
		sched, err := config.ParseSchedule(w.Schedule)
		if err != nil {
			return Plan{}, fmt.Errorf("watch %s: %w", w.Name, err)
		}
		wp := WatchPlan{Watch: w.Name, PollsPer5m: peakPer5m(sched), RequestsPerPoll: len(w.Meetings)}
		switch {
		case w.AllLive:
			wp.RequestsPerPoll = 1
		case len(w.Meetings) >= ListMinMeetings:
			wp.RequestsPerPoll = (len(w.Meetings) + rtkapi.DefaultPerPage - 1) / rtkapi.DefaultPerPage
			wp.ViaList = true
		}
		wp.RequestsPer5m = wp.PollsPer5m * wp.RequestsPerPoll
		p.Watches = append(p.Watches, wp)
		p.RequestsPer5m += wp.RequestsPer5m
		for _, sig := range []struct {
			name string
			on   bool
		}{{diff.SignalRecordings, w.Recordings}, {diff.SignalLivestreams, w.Livestreams}} {
			if sig.on {
				p.addSignal(w.AppID, sig.name, w.Name, w.Schedule, wp.PollsPer5m)
			}
		}
	}
	for _, u := range cfg.Usage {
		if !u.Polled() {
			continue
		}
		sched, err := config.ParseSchedule(u.Schedule)
		if err != nil {
			return Plan{}, fmt.Errorf("usage of app %s: %w", u.AppID, err)
		}
		p.addSignal(u.AppID, diff.SignalUsage, "", u.Schedule, peakPer5m(sched))
	}
	for _, sp := range p.Signals {
		p.RequestsPer5m += sp.RequestsPer5m
	}
	return p, nil
}

// addSignal counts one reader of an app-wide signal: watch (none for
// usage) on schedule, with polls activations at its busiest.
func (p *Plan) addSignal(appID, signal, watch, schedule string, polls int) {
	i := slices.IndexFunc(p.Signals, func(sp SignalPlan) bool { return sp.AppID == appID && sp.Signal == signal })
	if i < 0 {
		p.Signals = append(p.Signals, SignalPlan{AppID: appID, Signal: signal, Schedule: schedule})
		i = len(p.Signals) - 1
	}
	sp := &p.Signals[i]
	if watch != "" {
		sp.Watches = append(sp.Watches, watch)
	}
	if polls > sp.PollsPer5m {
		sp.PollsPer5m, sp.Schedule = polls, schedule
	}
	sp.RequestsPer5m = sp.PollsPer5m
}

// peakPer5m counts a schedule's activations per five-minute bucket over one
// simulated day, or a week when the day had none, or four years (and a day,
// for February 29) when the week had none, and returns the largest. A longer
// span is only tried for a schedule that fired not once in the shorter one,
// so it stays cheap. An `@every` schedule fires at a constant pace, so its
// peak is counted, not simulated (`@every 1s` would take 86,400 steps for
// each watch): the most activations that any five minutes can hold,
// whatever the schedule's phase, ⌈5m/Delay⌉.
func peakPer5m(s cron.Schedule) int {
	const bucket = 5 * time.Minute
	const day = 24 * time.Hour
	if c, ok := s.(cron.ConstantDelaySchedule); ok && c.Delay >= time.Second && c.Delay%time.Second == 0 {
		return int((bucket + c.Delay - 1) / c.Delay)
	}
	return simulatedPeakPer5m(s)
}

// simulatedPeakPer5m is peakPer5m found by stepping through the schedule's
// activations.
func simulatedPeakPer5m(s cron.Schedule) int {
	const bucket = 5 * time.Minute
	const day = 24 * time.Hour
	for _, span := range []time.Duration{day, 7 * day, (4*365 + 2) * day} {
		end := planEpoch.Add(span)
		peak, cur, n := 0, int64(-1), 0
		for t := s.Next(planEpoch.Add(-time.Nanosecond)); !t.IsZero() && t.Before(end); t = s.Next(t) {
			// Activations come in order, so a bucket's are consecutive.
			if k := int64(t.Sub(planEpoch) / bucket); k != cur {
				cur, n = k, 0
			}
			n++
			peak = max(peak, n)
			if peak >= math.MaxInt32 {
				break
			}
		}
		if peak > 0 {
			return peak
		}
	}
	return 0
}
