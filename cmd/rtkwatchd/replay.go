package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// replayEvents is `rtkwatchd events replay --notifier N (--since D|T |
// ID…)`: it queues events of the history again for one notifier, with
// their ids unchanged. An unknown notifier is a usage error (exit 2); an
// id the history does not hold a failure (exit 1) that queues none of the
// ids of its page (1,000 ids).
func replayEvents(ctx context.Context, env *environment, cfgPath, notifierName string, sel eventsFlags, ids []string) error {
	notifier, path := &notifierName, &cfgPath
	switch {
	case *notifier == "":
		return usageError(errors.New("events replay: --notifier is required"))
	case len(ids) == 0 && *sel.since == "":
		return usageError(errors.New("events replay: give event ids, or --since"))
	case len(ids) > 0 && (*sel.since != "" || *sel.watch != "" || *sel.meeting != "" || *sel.typ != "" || *sel.after != ""):
		return usageError(errors.New("events replay: give event ids or --since (with its filters), not both"))
	}
	q, err := sel.query(time.Now())
	if err != nil {
		return err
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	if _, ok := cfg.Notifier(*notifier); !ok {
		return usageError(fmt.Errorf("events replay: unknown notifier %q (not in %s)", *notifier, *path))
	}
	src, err := openStoreOrDaemon(cfg, false)
	if err != nil {
		return err
	}
	defer src.close()

	replay := func(ids []string) (int, error) {
		if src.st != nil {
			got, err := src.st.Replay(*notifier, time.Now(), ids...)
			return len(got), err
		}
		n, err := src.ac.Replay(ctx, *notifier, ids)
		return n, adminError(err)
	}
	total := 0
	if len(ids) > 0 {
		// One call per page of ids, each all or nothing.
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), admin.MaxPage)]
			ids = ids[len(chunk):]
			n, err := replay(chunk)
			total += n
			if err != nil {
				return replayed(env, total, *notifier, err)
			}
		}
	} else {
		var chunk []string
		flush := func() error {
			if len(chunk) == 0 {
				return nil
			}
			n, err := replay(chunk)
			total += n
			chunk = chunk[:0]
			return err
		}
		err := pageHistory(ctx, src, q, func(e store.HistoryEvent) (bool, error) {
			chunk = append(chunk, e.EventID)
			if len(chunk) == admin.MaxPage {
				return true, flush()
			}
			return true, nil
		}, admin.MaxPage)
		if err == nil {
			err = flush()
		}
		if err != nil {
			return replayed(env, total, *notifier, err)
		}
	}
	if err := src.close(); err != nil {
		return err
	}
	return replayed(env, total, *notifier, nil)
}

// replayed says how many events were queued, and returns err.
func replayed(env *environment, n int, notifier string, err error) error {
	if n > 0 || err == nil {
		fmt.Fprintf(env.stdout, "queued %d event(s) again for %s, with their ids: the daemon, or the next `rtkwatchd once`, delivers them\n", n, notifier)
	}
	return err
}
