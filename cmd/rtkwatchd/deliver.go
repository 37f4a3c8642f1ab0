package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// deliverOnce gives every due delivery in the outbox one attempt, as `once`
// promises; what fails stays in the outbox for the daemon to retry.
func deliverOnce(ctx context.Context, cfg *config.Config, notifiers []notify.Notifier, st *store.Store, log zerolog.Logger) error {
	w := notify.NewWorker(st, notifiers, notify.WorkerOptions{
		Timeout:     cfg.Delivery.Timeout,
		MaxAttempts: cfg.Delivery.MaxAttempts,
		MaxAge:      cfg.Delivery.MaxAge,
		Logger:      log,
	})
	return w.RunOnce(ctx)
}
