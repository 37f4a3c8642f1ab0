package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

func cmdDeliveries(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("deliveries", env.stderr)
	path := configFlag(fset, env.getenv)
	failed := fset.Bool("failed", false, "list dead letters instead of the outbox")
	all := fset.Bool("all", false, "with retry: queue every dead letter again")
	limit := fset.Int("limit", defaultListLimit, "list at most this many deliveries")
	after := fset.Uint64("after", 0, "list the deliveries with an ID above this one (the cursor the last page printed)")
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
	case *limit < 1:
		return usageError(fmt.Errorf("--limit %d: want 1 or more", *limit))
	}
	if retry && (flagSet(fset, "limit") || flagSet(fset, "after")) {
		return usageError(errors.New("--limit and --after go with a listing, not retry"))
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
			list, err = ac.Deliveries(ctx, *failed, *after, *limit+1)
		}
		if err != nil {
			return adminError(err)
		}
	} else {
		switch {
		case retry:
			n, err = st.Requeue(time.Now(), ids...)
		case *failed:
			list, err = st.DeadLettersAfter(*after, *limit+1)
		default:
			list, err = st.OutboxAfter(*after, *limit+1)
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
	more := len(list) > *limit
	if more {
		list = list[:*limit]
	}
	printDeliveries(env, list, *failed, *after > 0)
	if more {
		next := []string{"rtkwatchd deliveries"}
		if *failed {
			next = append(next, "--failed")
		}
		if flagSet(fset, "limit") {
			next = append(next, "--limit", strconv.Itoa(*limit))
		}
		next = append(next, "--after", strconv.FormatUint(list[len(list)-1].ID, 10))
		fmt.Fprintf(env.stdout, "more after ID %d: %s\n", list[len(list)-1].ID, strings.Join(next, " "))
	}
	return nil
}

// defaultListLimit is how many deliveries `deliveries` lists unless
// --limit says otherwise: the CLI and the daemon hold one page, never a
// whole bucket.
const defaultListLimit = 100

// flagSet reports whether the flag name was given.
func flagSet(fset *flag.FlagSet, name string) bool {
	set := false
	fset.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printDeliveries writes a table of deliveries; paged says the list starts
// after a cursor, so an empty one is the end, not the whole.
func printDeliveries(env *environment, list []store.Delivery, dead, paged bool) {
	if len(list) == 0 {
		switch {
		case paged:
			fmt.Fprintln(env.stdout, "nothing more")
		case dead:
			fmt.Fprintln(env.stdout, "no dead letters")
		default:
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
		switch {
		case d.Undecodable != "":
			lastErr = "record does not decode: " + d.Undecodable
		case lastErr == "":
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			d.ID, d.Notifier, d.EventID, d.EventType, formatTime(d.CreatedAt), d.Attempts, t, lastErr)
	}
	tw.Flush()
}
