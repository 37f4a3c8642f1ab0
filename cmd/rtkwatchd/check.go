package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
	"github.com/rtkwatchd/rtkwatchd/internal/redact"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
)

func cmdCheck(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("check", env.stderr)
	path := configFlag(fs, env.getenv)
	online := fs.Bool("online", false, "also ask the API whether each meeting exists (one request per meeting, within api.requests_per_5m), and with ha connect to etcd")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Errorf("check takes no arguments, got %q", pos))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	// Build the notifiers as the daemon would, without sending anything:
	// this renders every template against a sample of every event type.
	_, clients, err := loadNotifiers(*path, cfg)
	if err != nil {
		return err
	}
	closeIdle(clients)
	plan, err := poller.MakePlan(cfg)
	if err != nil {
		return usageError(err)
	}
	if plan.Over() > 0 {
		fmt.Fprintf(env.stdout, "config %s is well-formed, but its plan is over the API budget\n\n", *path)
	} else {
		fmt.Fprintf(env.stdout, "config %s is valid\n\n", *path)
	}
	printPlan(env.stdout, cfg, plan)
	windows, err := silence.Windows(cfg)
	if err != nil {
		return usageError(err)
	}
	printWindows(env.stdout, windows, time.Now())
	if over := plan.Over(); over > 0 {
		return usageError(fmt.Errorf("the plan needs %d API requests per 5 minutes, %d more than api.requests_per_5m (%d): poll less often, watch fewer meetings, or use all_live",
			plan.RequestsPer5m, over, plan.Budget))
	}
	if n := plan.Check.Meetings; n > 0 && !*online {
		fmt.Fprintf(env.stdout, "\nmeetings (%d) not asked of the API: `rtkwatchd check --online` asks whether each exists (%s); `run` asks at start\n", n, plural(plan.Check.Requests, "request"))
	}
	if *online && cfg.HA != nil {
		if err := checkEtcd(ctx, env.stdout, cfg.HA.Etcd); err != nil {
			return err
		}
	}
	if *online && plan.Check.Meetings > 0 {
		return checkOnline(ctx, env.stdout, cfg, plan.Check.Meetings)
	}
	return nil
}

// printPlan writes what the daemon would do with cfg. It prints no secret:
// notifier URLs are cut to scheme and host.
func printPlan(w io.Writer, cfg *config.Config, plan poller.Plan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := 0
	if plan.Budget > 0 {
		pct = plan.RequestsPer5m * 100 / plan.Budget
	}
	fmt.Fprintf(tw, "api\t%s\taccount %s\ttimeout %s\n", redactBaseURL(cfg.API.BaseURL), cfg.API.AccountID, shortDuration(cfg.API.Timeout))
	fmt.Fprintf(tw, "budget\t%d of %d requests per 5 minutes (%d%%)\n", plan.RequestsPer5m, plan.Budget, pct)
	if c := plan.Check; c.Meetings > 0 {
		most := ""
		if c.MaxRequests > c.Requests {
			most = fmt.Sprintf(" (up to %d if their apps have many other meetings, or ids are wrong)", c.MaxRequests)
		}
		fmt.Fprintf(tw, "check\t%s%s once at start (a reload asks only new meetings) to check that the %d meetings exist, from requests the polls leave spare\n",
			plural(c.Requests, "request"), most, c.Meetings)
	}
	if cfg.HA != nil {
		e := cfg.HA.Etcd
		fmt.Fprintf(tw, "store\tetcd %s\tprefix %s\tlease %s\n", strings.Join(e.Endpoints, ","), e.Prefix, shortDuration(e.LeaseTTL))
	} else {
		fmt.Fprintf(tw, "store\t%s\n", cfg.Store.Path)
	}
	fmt.Fprintf(tw, "history\t%s, at most %d events or %d MiB (the oldest go first)\n",
		shortDuration(cfg.Store.History), cfg.Store.HistoryMaxEvents, cfg.Store.HistoryMaxMB)
	admin := cfg.Admin.Listen
	if admin == "" {
		admin = "disabled"
	}
	fmt.Fprintf(tw, "admin\t%s\n", admin)
	fmt.Fprintf(tw, "delivery\ttimeout %s, at most %d attempts within %s\n",
		shortDuration(cfg.Delivery.Timeout), cfg.Delivery.MaxAttempts, shortDuration(cfg.Delivery.MaxAge))
	fmt.Fprintf(tw, "retries\t%s\n", describeRetries(cfg.Delivery))
	fmt.Fprintf(tw, "circuit\t%s\n", describeCircuit(cfg.Delivery))
	fmt.Fprintf(tw, "heartbeat\t%s\n", describeHeartbeat(cfg.Heartbeat))
	tw.Flush()

	fmt.Fprintf(w, "\nnotifiers (%d)\n", len(cfg.Notifiers))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range cfg.Notifiers {
		events := "all events"
		if len(n.Events) > 0 {
			events = strings.Join(n.Events, ", ")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", n.Name, n.Type, n.Target(), events, describeNotifier(n))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nwatches (%d)\n", len(cfg.Watches))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  WATCH\tAPP\tMEETINGS\tSCHEDULE\tPOLLS/5m\tREQUESTS/5m\tRULES\tNOTIFY\n")
	for i, wc := range cfg.Watches {
		wp := plan.Watches[i]
		meetings := strconv.Itoa(len(wc.Meetings))
		reqs := strconv.Itoa(wp.RequestsPer5m)
		switch {
		case wc.AllLive:
			meetings = "all live"
			reqs = "≥" + reqs
		case wp.ViaList:
			meetings += " (via sessions list)"
			reqs = "≥" + reqs
		}
		notify := strings.Join(wc.NotifierNames(cfg.Notifiers), ", ")
		if notify == "" {
			notify = "(none)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
			wc.Name, wc.AppID, meetings, wc.Schedule, wp.PollsPer5m, reqs, describeRules(wc), notify)
	}
	tw.Flush()
	printSignals(w, cfg, plan)
}

// describeNotifier summarises the settings of a notifier, without a
// secret: header names without their values, no routing key, password or
// URL path.
func describeNotifier(n config.Notifier) string {
	var parts []string
	switch n.Type {
	case config.TypeWebhook:
		s := fmt.Sprintf("%d signing secret", len(n.SigningSecrets()))
		if len(n.SigningSecrets()) != 1 {
			s += "s"
		}
		parts = append(parts, s)
		if len(n.Headers) > 0 { // their names only: values may be credentials
			parts = append(parts, "headers "+strings.Join(slices.Sorted(maps.Keys(n.Headers)), ", "))
		}
	case config.TypePagerDuty:
		parts = append(parts, "severity "+n.Severity)
	case config.TypeEmail:
		s := "tls " + n.SMTP.TLS
		if n.SMTP.Username != "" {
			s += ", with auth"
		}
		parts = append(parts, s, "from "+n.From, "to "+strings.Join(n.To, ", "))
	}
	if !n.Template.IsZero() {
		var which []string
		if n.Template.Title != "" {
			which = append(which, "title")
		}
		if n.Template.Text != "" {
			which = append(which, "text")
		}
		parts = append(parts, "template ("+strings.Join(which, ", ")+") renders every event type")
	}
	if !n.Group.IsZero() {
		parts = append(parts, fmt.Sprintf("group: up to %d events within %s", n.Group.Max, shortDuration(n.Group.Wait)))
	}
	return strings.Join(parts, "; ")
}

// describeRules summarises a watch's thresholds in a few words.
func describeRules(w config.Watch) string {
	var parts []string
	if t := w.Thresholds.Participants; len(t) > 0 {
		s := "participants " + joinInts(t)
		if w.Thresholds.Hysteresis > 0 {
			s += fmt.Sprintf(" (±%d)", w.Thresholds.Hysteresis)
		}
		parts = append(parts, s)
	}
	if t := w.Thresholds.MinutesConsumed; len(t) > 0 {
		ms := make([]string, len(t))
		for i, m := range t {
			ms[i] = strconv.FormatFloat(m, 'f', -1, 64)
		}
		parts = append(parts, "minutes "+strings.Join(ms, ","))
	}
	parts = append(parts, describeHealth(w)...)
	failing := fmt.Sprintf("failing after %d", w.FailingAfter)
	if w.FailingRatio > 0 {
		failing += fmt.Sprintf(" or %d of %d", diff.RatioFailures(w.FailingRatio), diff.WindowSize)
	}
	parts = append(parts, failing)
	if w.RecoverAfter > 1 {
		parts = append(parts, fmt.Sprintf("recovered after %d", w.RecoverAfter))
	}
	if w.RemindEvery > 0 {
		parts = append(parts, "reminders every "+shortDuration(w.RemindEvery))
	}
	return strings.Join(parts, "; ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// shortDuration prints d without trailing zero units: 24h, 1h30m, 10s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactBaseURL prints api.base_url as its scheme and host, as notifier
// URLs are printed: its user information, path or query may hold a
// proxy's credentials.
func redactBaseURL(raw string) string {
	if r := redact.URL(raw); r != "" {
		return r + "/…"
	}
	return "(unparsable)"
}

// plural returns "1 request", "2 requests": n and the noun, in the plural
// unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
