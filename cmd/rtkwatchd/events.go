package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// eventsFlags are the flags of `events` and `events replay` that select
// events of the history.
type eventsFlags struct {
	since, watch, meeting, typ, after *string
}

func cmdEvents(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("events", env.stderr)
	path := configFlag(fset, env.getenv)
	sel := selectFlags(fset)
	asJSON := fset.Bool("json", false, "print one JSON object per line, with the event as delivered under \"body\"")
	limit := fset.Int("limit", defaultListLimit, "list at most this many events")
	notifier := fset.String("notifier", "", "with replay: the notifier to deliver the events to")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 && pos[0] == "replay" {
		if flagSet(fset, "json") || flagSet(fset, "limit") {
			return usageError(errors.New("events replay: --json and --limit go with a listing"))
		}
		return replayEvents(ctx, env, *path, *notifier, sel, pos[1:])
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Errorf("unknown events argument %q (want replay, or flags)", pos[0]))
	case *notifier != "":
		return usageError(errors.New("--notifier goes with replay"))
	}
	if *limit < 1 {
		return usageError(fmt.Errorf("--limit %d: want 1 or more", *limit))
	}
	q, err := sel.query(time.Now())
	if err != nil {
		return err
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	src, err := openStoreOrDaemon(cfg, true)
	if err != nil {
		return err
	}
	defer src.close() // on errors; closed before printing

	var text bytes.Buffer
	tw := tabwriter.NewWriter(&text, 0, 0, 2, ' ', 0)
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false)
	rows, more := 0, false
	err = pageHistory(ctx, src, q, func(e store.HistoryEvent) (bool, error) {
		if rows == *limit {
			more = true
			return false, nil
		}
		if *asJSON {
			if err := enc.Encode(admin.EventOf(e)); err != nil {
				return false, err
			}
		} else {
			if rows == 0 {
				fmt.Fprintln(tw, "TIME\tEVENT\tTYPE\tWATCH\tMEETING\tQUEUED FOR\tSILENCED FOR")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", formatTime(e.CreatedAt), e.EventID, e.Type,
				e.Meeting.Watch, e.Meeting.MeetingID, names(e.Notifiers), names(e.Silenced))
		}
		rows++
		q.After = e.Cursor
		return true, nil
	}, *limit+1)
	if err != nil {
		return err
	}
	if err := src.close(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, _ = text.WriteTo(env.stdout)
	switch {
	case rows == 0 && !*asJSON:
		fmt.Fprintln(env.stdout, "no events")
	case more && !*asJSON:
		fmt.Fprintf(env.stdout, "more: rtkwatchd events %s\n", sel.next(q.After, *limit))
	case more:
		fmt.Fprintf(env.stderr, "more: rtkwatchd events %s --json\n", sel.next(q.After, *limit))
	}
	return nil
}

// selectFlags defines the flags that select events.
func selectFlags(fset interface {
	String(name, value, usage string) *string
}) eventsFlags {
	return eventsFlags{
		since:   fset.String("since", "", "events since a duration ago (2h) or an RFC 3339 time"),
		watch:   fset.String("watch", "", "events of this watch"),
		meeting: fset.String("meeting", "", "events of this meeting"),
		typ:     fset.String("type", "", "events of this type"),
		after:   fset.String("after", "", "events after this cursor (the one the last page printed)"),
	}
}

// query returns the history query of the flags.
func (f eventsFlags) query(now time.Time) (store.HistoryQuery, error) {
	q := store.HistoryQuery{Watch: *f.watch, MeetingID: *f.meeting, Type: *f.typ, After: *f.after}
	if *f.since != "" {
		t, err := parseSince(*f.since, now)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	return q, nil
}

// next returns the flags that list the page after cursor.
func (f eventsFlags) next(cursor string, limit int) string {
	var args []string
	for _, fl := range []struct{ name, v string }{{"watch", *f.watch}, {"meeting", *f.meeting}, {"type", *f.typ}} {
		if fl.v != "" {
			args = append(args, "--"+fl.name, fl.v)
		}
	}
	if limit != defaultListLimit {
		args = append(args, "--limit", strconv.Itoa(limit))
	}
	return strings.Join(append(args, "--after", cursor), " ")
}

// pageHistory calls fn with each event of the history that q selects,
// oldest first, reading pages of at most want (and admin.MaxPage) events
// from the store or the daemon, until fn returns false or the history
// ends. It holds one page at a time.
func pageHistory(ctx context.Context, src storeOrDaemon, q store.HistoryQuery, fn func(store.HistoryEvent) (bool, error), want int) error {
	for {
		q.Limit = min(want, admin.MaxPage)
		var page []store.HistoryEvent
		var err error
		if src.st != nil {
			page, err = src.st.History(q)
		} else {
			page, err = src.ac.History(ctx, q)
			err = adminError(err)
		}
		if errors.Is(err, store.ErrCursor) {
			return usageError(err)
		}
		if err != nil {
			return err
		}
		for _, e := range page {
			ok, err := fn(e)
			if err != nil || !ok {
				return err
			}
			q.After = e.Cursor
		}
		if len(page) < q.Limit {
			return nil
		}
	}
}

// names prints a list of notifier names, or "-".
func names(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ",")
}
