package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
	"github.com/rtkwatchd/rtkwatchd/internal/redact"
)

// scheduleShown is how many attempts of the retry schedule check prints
// before it sums up the rest.
const scheduleShown = 8

// describeRetries says when a delivery that keeps failing is attempted,
// counted from its event: the first attempts, the spacing the retries
// settle at, and the last attempt.
func describeRetries(d config.Delivery) string {
	at := notify.RetrySchedule(0, d.MaxAttempts, d.MaxAge)
	show := func(d time.Duration) string { return shortDuration(d.Round(time.Second)) }
	var parts []string
	for _, a := range at[:min(len(at), scheduleShown)] {
		parts = append(parts, show(a))
	}
	s := "attempts at " + strings.Join(parts, ", ")
	if n := len(at); n > scheduleShown {
		if n > scheduleShown+1 {
			s += ", then every " + show(at[n-2]-at[n-3])
		}
		s += fmt.Sprintf(", the %s and last at %s", ordinal(n), show(at[n-1]))
	}
	return s + " after the event (each retry up to a fifth earlier; the last at max_age)"
}

// ordinal spells n as "1st", "2nd", "15th".
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// describeCircuit says when a failing notifier is paused.
func describeCircuit(d config.Delivery) string {
	return fmt.Sprintf("a notifier whose deliveries all fail for %s is paused and probed every minute; the others get notifier.failing",
		shortDuration(d.CircuitAfter))
}

// describeHeartbeat says what the heartbeat requests, without the URL's
// path or query.
func describeHeartbeat(h config.Heartbeat) string {
	if !h.Enabled() {
		return "disabled"
	}
	u := redact.URL(h.URL.Value())
	if u == "" {
		u = "[redacted]"
	} else {
		u += "/…"
	}
	return fmt.Sprintf("%s %s every %s while every watch makes progress (timeout %s)",
		h.Method, u, shortDuration(h.Every), shortDuration(h.Timeout))
}
