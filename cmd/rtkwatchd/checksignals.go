package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
)

// printSignals writes the app-wide reads of the plan, the recordings and
// livestreams lists that watches share and the analytics of usage blocks,
// and the usage blocks that only set a price.
func printSignals(w io.Writer, cfg *config.Config, plan poller.Plan) {
	priceOnly := 0
	for _, u := range cfg.Usage {
		if !u.Polled() {
			priceOnly++
		}
	}
	if len(plan.Signals)+priceOnly == 0 {
		return
	}
	fmt.Fprintf(w, "\napp-wide reads (%d)\n", len(plan.Signals))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  APP\tREADS\tFOR\tSCHEDULE\tREQUESTS/5m\tRULES\tNOTIFY\n")
	for _, sp := range plan.Signals {
		by, reqs, rules, notify := strings.Join(sp.Watches, ", "), "≥"+strconv.Itoa(sp.RequestsPer5m), "-", "(the watches')"
		if sp.Signal == diff.SignalUsage {
			u, _ := cfg.UsageOf(sp.AppID)
			by, reqs, rules, notify = "usage block", strconv.Itoa(sp.RequestsPer5m), describeUsage(u), usageNotify(cfg, u)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", sp.AppID, sp.Signal, by, sp.Schedule, reqs, rules, notify)
	}
	for _, u := range cfg.Usage {
		if !u.Polled() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", u.AppID, "nothing", "usage block", "-", 0, describeUsage(u), "-")
		}
	}
	tw.Flush()
}

// describeHealth summarises a watch's duration and idle rules and the
// lists it reads.
func describeHealth(w config.Watch) []string {
	var parts []string
	if t := w.Thresholds.Duration; len(t) > 0 {
		ds := make([]string, len(t))
		for i, d := range t {
			ds[i] = shortDuration(d)
		}
		parts = append(parts, "duration "+strings.Join(ds, ","))
	}
	if w.Idle.Enabled() {
		parts = append(parts, fmt.Sprintf("idle ≤%d for %s", w.Idle.Participants, shortDuration(w.Idle.For)))
	}
	if w.Recordings {
		parts = append(parts, "recordings")
	}
	if w.Livestreams {
		parts = append(parts, "livestreams")
	}
	return parts
}

// describeUsage summarises a usage block's thresholds and price.
func describeUsage(u config.Usage) string {
	var parts []string
	for _, l := range []struct {
		name string
		th   []float64
	}{{"daily", u.DailyMinutes}, {"monthly", u.MonthlyMinutes}} {
		if len(l.th) > 0 {
			ms := make([]string, len(l.th))
			for i, m := range l.th {
				ms[i] = strconv.FormatFloat(m, 'f', -1, 64)
			}
			parts = append(parts, l.name+" "+strings.Join(ms, ",")+" min")
		}
	}
	if u.PricePerParticipantMinute > 0 {
		parts = append(parts, "price "+strconv.FormatFloat(u.PricePerParticipantMinute, 'f', -1, 64)+" per participant minute")
	}
	return strings.Join(parts, "; ")
}

// usageNotify names the notifiers of a usage block.
func usageNotify(cfg *config.Config, u config.Usage) string {
	if names := u.NotifierNames(cfg.Notifiers); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "(none)"
}
