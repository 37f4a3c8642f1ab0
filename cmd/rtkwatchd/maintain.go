package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// maintainEvery is how often the daemon prunes the history and the ended
// ad hoc silences.
const maintainEvery = 10 * time.Minute

// maintain prunes the history to the current config's store.history and
// bounds, and removes the ad hoc silences that have ended, now and every
// maintainEvery until ctx ends. Failures are logged and tried again next
// time: a history a little too long only takes room.
func (d *daemon) maintain(ctx context.Context, st stateStore, log zerolog.Logger) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		cfg := d.cfg
		d.mu.Unlock()
		now := time.Now()
		n, err := st.PruneHistory(store.HistoryBounds{
			Cutoff:    now.Add(-cfg.Store.History),
			MaxEvents: int64(cfg.Store.HistoryMaxEvents),
			MaxBytes:  int64(cfg.Store.HistoryMaxMB) << 20,
		})
		if err != nil {
			log.Error().Err(err).Msg("prune history")
		} else if n > 0 {
			log.Info().Int("events", n).Msg("pruned the history")
		}
		if n, err := st.PruneSilences(now); err != nil {
			log.Error().Err(err).Msg("prune ended silences")
		} else if n > 0 {
			log.Info().Int("silences", n).Msg("removed ended silences")
		}
		t.Reset(maintainEvery)
	}
}

// startMaintain runs maintain on st until the returned function is
// called, which waits for it to return.
func (d *daemon) startMaintain(st stateStore) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func(log zerolog.Logger) {
		defer close(done)
		d.maintain(ctx, st, log)
	}(d.log)
	return func() {
		cancel()
		<-done
	}
}
