package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// listPage is how many deliveries `deliveries` reads at a time, from the
// store or from the daemon: it holds one page of deliveries, and the text
// of the rows it has formatted, never a whole bucket.
const listPage = admin.MaxPage

// listDeliveries prints the outbox, or the dead letters when failed: at
// most limit deliveries with an ID above after, then, when there are more,
// the command that lists the next page (naming --limit when limitSet, and
// --config configArg unless configArg is empty).
// It reads the store itself, or asks the daemon that holds it, a page at a
// time, and closes the store before it prints, so that a pager left open
// keeps no lock.
func listDeliveries(ctx context.Context, env *environment, cfg *config.Config, configArg string, failed bool, after uint64, limit int, limitSet bool) error {
	var read func(after uint64, n int) ([]store.Delivery, error)
	var st *store.Store
	var openErr error
	if cfg.HA == nil {
		st, openErr = store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout, ReadOnly: true})
	}
	if cfg.HA != nil {
		// The state is in etcd, which any node reads.
		es, done, err := etcdReader(ctx, cfg)
		if err != nil {
			return err
		}
		defer done()
		read = es.OutboxAfter
		if failed {
			read = es.DeadLettersAfter
		}
	} else if openErr == nil {
		defer st.Close() // on errors; it is closed before printing
		read = st.OutboxAfter
		if failed {
			read = st.DeadLettersAfter
		}
	} else {
		// The daemon holds the store: ask it instead.
		ac, err := daemonAdmin(cfg, openErr)
		if err != nil {
			return err
		}
		read = func(after uint64, n int) ([]store.Delivery, error) {
			list, err := ac.Deliveries(ctx, failed, after, n)
			return list, adminError(err)
		}
	}

	var text bytes.Buffer
	tw := tabwriter.NewWriter(&text, 0, 0, 2, ' ', 0)
	rows, cursor, more := 0, after, false
	for {
		want := min(limit+1-rows, listPage) // one past the limit says there are more
		page, err := read(cursor, want)
		if err != nil {
			return err
		}
		for _, d := range page {
			if rows == limit {
				more = true
				break
			}
			if rows == 0 {
				printDeliveryHeader(tw, failed)
			}
			printDelivery(tw, d, failed)
			rows++
			cursor = d.ID
		}
		if more || len(page) < want {
			break
		}
	}
	if st != nil {
		if err := st.Close(); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case rows > 0:
		_, _ = text.WriteTo(env.stdout)
	case after > 0:
		fmt.Fprintln(env.stdout, "nothing more")
	case failed:
		fmt.Fprintln(env.stdout, "no dead letters")
	default:
		fmt.Fprintln(env.stdout, "the outbox is empty: every event has been delivered")
	}
	if more {
		next := []string{"rtkwatchd deliveries"}
		if configArg != "" {
			next = append(next, "--config", shellQuote(configArg))
		}
		if failed {
			next = append(next, "--failed")
		}
		if limitSet {
			next = append(next, "--limit", strconv.Itoa(limit))
		}
		next = append(next, "--after", strconv.FormatUint(cursor, 10))
		fmt.Fprintf(env.stdout, "more after ID %d: %s\n", cursor, strings.Join(next, " "))
	}
	return nil
}

// printDeliveryHeader writes the header of the table of deliveries.
func printDeliveryHeader(tw *tabwriter.Writer, dead bool) {
	when := "NEXT ATTEMPT"
	if dead {
		when = "DEAD SINCE"
	}
	fmt.Fprintf(tw, "ID\tNOTIFIER\tEVENT\tTYPE\tCREATED\tATTEMPTS\t%s\tLAST ERROR\n", when)
}

// printDelivery writes one row of the table of deliveries.
func printDelivery(tw *tabwriter.Writer, d store.Delivery, dead bool) {
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

// shellQuote returns s as one shell word: as it is when it holds only
// characters that no shell treats specially, otherwise in single quotes.
func shellQuote(s string) string {
	safe := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./-=+:,@%", r))
	})
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
