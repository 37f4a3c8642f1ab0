package main

import (
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
)

// newBudget returns the request budget of cfg's API token.
func newBudget(cfg *config.Config) *poller.Budget {
	b := poller.NewBudget(cfg.API.RequestsPer5m, nil)
	setLimits(b, cfg)
	return b
}

// setLimits sizes b for cfg: api.requests_per_5m, and, on Cloudflare's
// own API, RealtimeKit's 250 requests per 10 seconds beside it. A proxy or
// the fake API of load runs has limits of its own.
func setLimits(b *poller.Budget, cfg *config.Config) {
	b.SetRate(cfg.API.RequestsPer5m)
	if cfg.API.OnCloudflare() {
		b.LimitWindow(poller.WindowRequests, poller.WindowSpan)
	} else {
		b.LimitWindow(0, 0)
	}
}
