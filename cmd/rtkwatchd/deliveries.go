package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
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
	if !retry {
		configArg := ""
		if flagSet(fset, "config") {
			configArg = *path
		}
		return listDeliveries(ctx, env, cfg, configArg, *failed, *after, *limit, flagSet(fset, "limit"))
	}
	var n int
	st, err := openForRetry(cfg)
	if err != nil {
		// The daemon holds the store, or (under ha) the leader writes:
		// ask the daemon instead.
		ac, err := daemonAdmin(cfg, err)
		if err != nil {
			return err
		}
		if n, err = ac.Requeue(ctx, ids); err != nil {
			return adminError(err)
		}
	} else {
		n, err = st.Requeue(time.Now(), ids...)
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
	fmt.Fprintf(env.stdout, "queued %d dead letter(s) again: the daemon, or the next `rtkwatchd once`, delivers them\n", n)
	return nil
}

// defaultListLimit is how many deliveries `deliveries` lists unless
// --limit says otherwise.
const defaultListLimit = 100

// flagSet reports whether the flag name was given.
func flagSet(fset *flag.FlagSet, name string) bool {
	set := false
	fset.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
