package main

import (
	"net/http"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// newHeartbeatClient returns the heartbeat's HTTP client: its own
// connections, closed with its generation, and no redirect followed
// (a dead man's switch answers its ping URL directly).
func newHeartbeatClient() *http.Client {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		c.Transport = t.Clone()
	}
	return c
}

// notifierWants says whether the configured notifier of a name takes
// events of a type: the worker sends notifier.failing and
// notifier.recovered only to those.
func notifierWants(cfg *config.Config) func(notifier, eventType string) bool {
	return func(notifier, eventType string) bool {
		n, ok := cfg.Notifier(notifier)
		return ok && n.Wants(eventType)
	}
}
