package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
)

// cmdNotify runs `notify test NAME [--type T]`: one sample event through
// one notifier, as the daemon would send it, with the outcome printed. It
// never opens the store, so it works while the daemon runs.
func cmdNotify(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintf(env.stderr, "usage: %s\n", synopses["notify test"])
		return usageError(errors.New("notify takes one subcommand: test"))
	}
	fs := newFlags("notify test", env.stderr)
	path := configFlag(fs, env.getenv)
	typ := fs.String("type", "", "the event `type` of the sample; by default session.started (pagerduty: watch.failing)")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintf(env.stderr, "usage: %s\n", synopses["notify test"])
		return usageError(fmt.Errorf("notify test takes one notifier name, got %q", pos))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cfg.Notifiers, func(n config.Notifier) bool { return n.Name == pos[0] })
	if i < 0 {
		return usageError(fmt.Errorf("no notifier %q in %s; its notifiers: %s", pos[0], *path, notifierNames(cfg)))
	}
	n := cfg.Notifiers[i]
	eventType := *typ
	if eventType == "" {
		eventType = defaultTestType(n)
	}
	body, ok := notify.SampleEvent(eventType)
	if !ok {
		return usageError(fmt.Errorf("--type %q: no such event type; one of %s", eventType, strings.Join(notify.SampleEventTypes(), ", ")))
	}
	nt, hc, problems := configuredNotifier(cfg, i, map[string]*rate.Limiter{})
	if len(problems) > 0 {
		return invalidConfig(*path, problems)
	}
	if hc != nil {
		defer hc.CloseIdleConnections()
	}
	var actions []string
	if pd, ok := nt.(interface{ Actions([]byte) []string }); ok {
		if actions = pd.Actions(body); len(actions) == 0 {
			return usageError(fmt.Errorf("pagerduty sends nothing for %s events; try --type %s (opens a sample incident) and then --type %s (resolves it)",
				eventType, diff.TypeWatchFailing, diff.TypeWatchRecovered))
		}
	}

	w := env.stdout
	id := sampleID(body)
	fmt.Fprintf(w, "notify test: a sample %s event (id %s) to %s, %s %s\n", eventType, id, n.Name, n.Type, n.Target())
	if !n.Wants(eventType) {
		fmt.Fprintf(w, "note:    %s takes only %s events; the daemon would not send it this one\n", n.Name, strings.Join(n.Events, ", "))
	}
	if len(actions) > 0 {
		fmt.Fprintf(w, "actions: %s\n", strings.Join(actions, ", "))
	}
	actx, cancel := context.WithTimeout(ctx, cfg.Delivery.Timeout)
	defer cancel()
	start := time.Now()
	res := nt.Notify(actx, notify.Message{EventID: id, EventType: eventType, Body: body, Attempt: 1})
	took := time.Since(start)
	printOutcome(w, n, res, took)
	if res.Err != nil {
		return errSilent
	}
	if slices.Contains(actions, "trigger") {
		fmt.Fprintf(w, "PagerDuty has a sample incident open now")
		switch eventType {
		case diff.TypeWatchFailing:
			fmt.Fprintf(w, "; `rtkwatchd notify test %s --type %s` resolves it", n.Name, diff.TypeWatchRecovered)
		case diff.TypeParticipantsThreshold: // the sample session.ended ends above 50 and 100
			fmt.Fprintf(w, "; `rtkwatchd notify test %s --type %s` resolves it", n.Name, diff.TypeSessionEnded)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// printOutcome writes what one attempt came to: delivered, or why not and
// what the daemon would do next. Result errors never hold a secret.
func printOutcome(w io.Writer, n config.Notifier, res notify.Result, took time.Duration) {
	took = took.Round(time.Millisecond)
	if res.Err == nil {
		fmt.Fprintf(w, "result:  delivered in %s\n", took)
	} else {
		what := "failed, not retryable: the daemon would make it a dead letter at once"
		if res.Retry {
			what = "failed, retryable: the daemon would try again later"
			if res.RetryAfter > 0 {
				what += fmt.Sprintf(", after the %s the receiver asked for", res.RetryAfter)
			}
		}
		fmt.Fprintf(w, "result:  %s (after %s)\n", what, took)
	}
	switch {
	case res.StatusCode != 0:
		fmt.Fprintf(w, "status:  %d\n", res.StatusCode)
	case res.Err != nil && n.Type != config.TypeEmail: // an SMTP reply is in the error
		fmt.Fprintf(w, "status:  none, no answer\n")
	}
	if res.Err != nil {
		fmt.Fprintf(w, "error:   %v\n", res.Err)
	}
	if res.Broken {
		fmt.Fprintf(w, "broken:  the daemon stops sending to %s until its config is corrected and reloaded\n", n.Name)
	}
}

// defaultTestType is the sample that `notify test` sends without --type:
// session.started, or for PagerDuty, which opens no incident for a start,
// watch.failing; when the notifier takes only some events, the first of
// them.
func defaultTestType(n config.Notifier) string {
	typ := diff.TypeSessionStarted
	if n.Type == config.TypePagerDuty {
		typ = diff.TypeWatchFailing
	}
	if !n.Wants(typ) {
		typ = n.Events[0]
	}
	return typ
}

// sampleID reads data.id of a sample event.
func sampleID(body []byte) string {
	var ev struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev) // a sample always decodes
	return ev.Data.ID
}

// notifierNames lists the names of cfg's notifiers, or says there are none.
func notifierNames(cfg *config.Config) string {
	if len(cfg.Notifiers) == 0 {
		return "(none)"
	}
	names := make([]string, len(cfg.Notifiers))
	for i, n := range cfg.Notifiers {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}
