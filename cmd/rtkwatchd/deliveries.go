package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

func cmdDeliveries(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("deliveries", env.stderr)
	path := configFlag(fset, env.getenv)
	failed := fset.Bool("failed", false, "list dead letters instead of the outbox")
	all := fset.Bool("all", false, "with retry: queue every dead letter again")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	var ids []uint64
	retry := len(pos) > 0 && pos[0] == "retry"
	switch {
	case retry:
		for _, a := range pos[1:] {
			id, err := strconv.ParseUint(a, 10, 64)
			if err != nil || id == 0 {
				return usageError(fmt.Errorf("retry: %q is not a delivery ID (see `rtkwatchd deliveries --failed`)", a))
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 && !*all {
			return usageError(errors.New("retry needs dead letter IDs, or --all"))
		}
		if len(ids) > 0 && *all {
			return usageError(errors.New("retry takes IDs or --all, not both"))
		}
	case len(pos) > 0:
		return usageError(fmt.Errorf("unknown deliveries argument %q (want retry)", pos[0]))
	case *all:
		return usageError(errors.New("--all goes with retry"))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	var (
		list []store.Delivery
		n    int
	)
	st, err := store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout, ReadOnly: !retry})
	if err != nil {
		// The daemon holds the store: ask it instead.
		ac, err := daemonAdmin(cfg, err)
		if err != nil {
			return err
		}
		if retry {
			n, err = ac.Requeue(ctx, ids)
		} else {
			list, err = ac.Deliveries(ctx, *failed)
		}
		if err != nil {
			return adminError(err)
		}
	} else {
		switch {
		case retry:
			n, err = st.Requeue(time.Now(), ids...)
		case *failed:
			list, err = st.DeadLetters()
		default:
			list, err = st.Outbox()
		}
		// Close before printing: a pager left open must not keep the
		// store locked, and the daemon from starting.
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, store.ErrNotFound) {
			// An ID that is no dead letter is the user's mistake.
			return usageError(err)
		}
		if err != nil {
			return err
		}
	}
	if retry {
		fmt.Fprintf(env.stdout, "queued %d dead letter(s) again: the daemon, or the next `rtkwatchd once`, delivers them\n", n)
		return nil
	}
	printDeliveries(env, list, *failed)
	return nil
}

// printDeliveries writes a table of deliveries.
func printDeliveries(env *environment, list []store.Delivery, dead bool) {
	if len(list) == 0 {
		if dead {
			fmt.Fprintln(env.stdout, "no dead letters")
		} else {
			fmt.Fprintln(env.stdout, "the outbox is empty: every event has been delivered")
		}
		return
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	when := "NEXT ATTEMPT"
	if dead {
		when = "DEAD SINCE"
	}
	fmt.Fprintf(tw, "ID\tNOTIFIER\tEVENT\tTYPE\tCREATED\tATTEMPTS\t%s\tLAST ERROR\n", when)
	for _, d := range list {
		t := formatTime(d.NextAttempt)
		if dead {
			t = formatTime(d.DeadAt)
		} else if d.NextAttempt.IsZero() {
			t = "now"
		}
		lastErr := d.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			d.ID, d.Notifier, d.EventID, d.EventType, formatTime(d.CreatedAt), d.Attempts, t, lastErr)
	}
	tw.Flush()
}
