package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// storeLockTimeout is how long a command waits for another process to let
// go of the store before it says so.
const storeLockTimeout = 2 * time.Second

func cmdOnce(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("once", env.stderr)
	path := configFlag(fset, env.getenv)
	dryRun := fset.Bool("dry-run", false, "compute and print events, but write nothing and send nothing")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Errorf("once takes no arguments, got %q", pos))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	if cfg.HA != nil {
		return usageError(errOnceUnderHA)
	}
	notifiers, clients, err := loadNotifiers(*path, cfg)
	if err != nil {
		return err
	}
	defer closeIdle(clients)
	log := newLogger(cfg.Log, env.stderr)

	st, err := openStoreFor(cfg, *dryRun)
	if err != nil {
		logDamage(log, err)
		return err
	}
	var ps poller.Store
	if st != nil {
		defer st.Close()
		ps = st
	}
	windows, err := silence.Windows(cfg)
	if err != nil {
		return usageError(err)
	}
	var adhoc silence.Lister
	if st != nil {
		adhoc = st
	}
	p := poller.New(newAPIClient(cfg, nil), poller.Options{
		AccountID: cfg.API.AccountID,
		Store:     ps,
		Silences:  silence.NewLive(windows, adhoc, log),
		DryRun:    *dryRun,
		Budget:    newBudget(cfg),
		Logger:    log,
	})
	defer p.Close()
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	polls, failures := 0, 0
	for _, w := range poller.Watches(cfg) {
		c, err := p.Poll(ctx, w)
		if ctx.Err() != nil {
			return errors.New("interrupted; what was polled before is stored")
		}
		if err != nil {
			return err
		}
		polls, failures = polls+c.Polls, failures+c.Failures
		for _, ev := range c.Events {
			if err := enc.Encode(ev); err != nil {
				return fmt.Errorf("write event: %w", err)
			}
		}
	}
	log.Info().Int("polls", polls).Int("failed", failures).Bool("dry_run", *dryRun).Msg("polled every watch once")
	if !*dryRun && st != nil {
		if err := deliverOnce(ctx, cfg, notifiers, st, log); err != nil {
			return err
		}
	}
	if failures > 0 {
		// The events (watch.failing among them) are printed and stored; the
		// exit code tells a script that the API did not answer as it should.
		return fmt.Errorf("%d of %d polls failed (the log above says why)", failures, polls)
	}
	return nil
}

// openStoreFor opens the configured store for a one-shot command. A dry run
// opens it read-only, and runs without one when there is no file yet.
func openStoreFor(cfg *config.Config, readOnly bool) (*store.Store, error) {
	if readOnly {
		if _, err := os.Stat(cfg.Store.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	st, err := store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// newAPIClient builds the RealtimeKit client from the config, under gate;
// a nil gate gives the client one of its own.
func newAPIClient(cfg *config.Config, gate *rtkapi.Gate) *rtkapi.Client {
	return rtkapi.New(rtkapi.Options{
		BaseURL:   cfg.API.BaseURL,
		AccountID: cfg.API.AccountID,
		Token:     cfg.API.Token.Value(),
		Timeout:   cfg.API.Timeout,
		UserAgent: userAgent(),
		Gate:      gate,
	})
}
