package notify

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Housekeeping is the part of the store that keeps the dead letters
// bounded.
type Housekeeping interface {
	// OutboxDepth counts the pending deliveries of every notifier.
	OutboxDepth() (map[string]int, error)
	// DeadLetterAll moves every outbox delivery of a notifier to the dead
	// letters, with reason as their last error.
	DeadLetterAll(notifier string, at time.Time, reason string) (int, error)
	// RemoveDeadLetters deletes the dead letters that died before cutoff.
	RemoveDeadLetters(cutoff time.Time) (int, error)
}

// retireOrphans turns the pending deliveries of every notifier name that
// has no lane into dead letters, saying why: the notifier was removed from
// the config, so nothing would ever deliver them. `rtkwatchd deliveries
// retry` queues them again, for a notifier that comes back. A failure is
// logged; the next start tries again.
func (w *Worker) retireOrphans() {
	depth, err := w.store.OutboxDepth()
	if err != nil {
		w.opts.Logger.Warn().Err(err).Msg("read outbox depth")
		return
	}
	names := make([]string, 0, len(depth))
	for name, n := range depth {
		if n > 0 && !slices.ContainsFunc(w.lanes, func(l *lane) bool { return l.name == name }) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		reason := fmt.Sprintf("notifier %s is no longer configured", name)
		n, err := w.store.DeadLetterAll(name, w.opts.Now(), reason)
		log := w.opts.Logger.Warn().Str(logNotifier, name).Int(logDeadLetters, n)
		if err != nil {
			log.Err(err).Msg("turn the deliveries of a notifier that is no longer configured into dead letters")
			continue
		}
		log.Msg("deliveries of a notifier that is no longer configured are now dead letters")
	}
}

// retain removes the dead letters older than DeadLetterRetention now and
// every RetentionInterval until ctx ends. A failure is logged and tried
// again at the next interval.
func (w *Worker) retain(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cutoff := w.opts.Now().Add(-w.opts.DeadLetterRetention)
		n, err := w.store.RemoveDeadLetters(cutoff)
		switch {
		case err != nil:
			w.opts.Logger.Error().Err(err).Int(logDeadLetters, n).Msg("remove old dead letters")
		case n > 0:
			w.opts.Logger.Info().Int(logDeadLetters, n).Dur(logRetention, w.opts.DeadLetterRetention).
				Msg("removed dead letters older than delivery.dead_letter_retention")
		}
		t.Reset(w.opts.RetentionInterval)
	}
}
