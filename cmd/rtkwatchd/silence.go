package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// cmdSilence is `rtkwatchd silence add|list|remove`: the ad hoc silences,
// in the store, or through the daemon's admin API while it runs.
func cmdSilence(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("silence", env.stderr)
	path := configFlag(fset, env.getenv)
	watch := fset.String("watch", "", "add: the watch to silence (required)")
	notifier := fset.String("notifier", "", "add: silence this notifier only (default: every notifier)")
	dur := fset.Duration("for", 0, "add: how long the silence lasts, from now (required), e.g. 2h")
	reason := fset.String("reason", "", "add: why, for `silence list`")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError(errors.New("silence: want add, list or remove"))
	}
	sub := pos[0]
	pos = pos[1:]
	if sub != "add" {
		for _, name := range []string{"watch", "notifier", "for", "reason"} {
			if flagSet(fset, name) {
				return usageError(fmt.Errorf("silence %s: --%s goes with add", sub, name))
			}
		}
	}
	var id uint64
	switch sub {
	case "add":
		switch {
		case len(pos) > 0:
			return usageError(fmt.Errorf("silence add takes flags only, got %q", pos))
		case *watch == "":
			return usageError(errors.New("silence add: --watch is required"))
		case *dur <= 0:
			return usageError(errors.New("silence add: --for is required, a duration > 0 such as 2h"))
		}
	case "list":
		if len(pos) > 0 {
			return usageError(fmt.Errorf("silence list takes no arguments, got %q", pos))
		}
	case "remove":
		if len(pos) != 1 {
			return usageError(errors.New("silence remove: want one silence ID (see `rtkwatchd silence list`)"))
		}
		if id, err = strconv.ParseUint(pos[0], 10, 64); err != nil || id == 0 {
			return usageError(fmt.Errorf("silence remove: %q is not a silence ID (see `rtkwatchd silence list`)", pos[0]))
		}
	default:
		return usageError(fmt.Errorf("silence: unknown subcommand %q (want add, list or remove)", sub))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	if sub == "add" {
		if !slices.ContainsFunc(cfg.Watches, func(w config.Watch) bool { return w.Name == *watch }) {
			return usageError(fmt.Errorf("silence add: unknown watch %q (not in %s)", *watch, *path))
		}
		if _, ok := cfg.Notifier(*notifier); *notifier != "" && !ok {
			return usageError(fmt.Errorf("silence add: unknown notifier %q (not in %s)", *notifier, *path))
		}
	}
	src, err := openStoreOrDaemon(cfg, sub == "list")
	if err != nil {
		return err
	}
	defer src.close()
	now := time.Now().UTC()
	switch sub {
	case "add":
		s := store.Silence{Watch: *watch, Notifier: *notifier, Start: now, End: now.Add(*dur), Reason: *reason}
		if src.st != nil {
			id, err = src.st.AddSilence(s)
		} else {
			id, err = src.ac.AddSilence(ctx, s)
			err = adminError(err)
		}
		if err != nil {
			return err
		}
		who := "every notifier"
		if s.Notifier != "" {
			who = s.Notifier
		}
		fmt.Fprintf(env.stdout, "silence %d: watch %s, %s, until %s\n", id, s.Watch, who, formatTime(s.End))
		return src.close()
	case "remove":
		if src.st != nil {
			err = src.st.RemoveSilence(id)
			if errors.Is(err, store.ErrNoSilence) {
				err = usageError(err)
			}
		} else {
			err = adminError(src.ac.RemoveSilence(ctx, id))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed silence %d\n", id)
		return src.close()
	}
	var list []store.Silence
	if src.st != nil {
		list, err = src.st.Silences()
	} else {
		list, err = src.ac.Silences(ctx)
		err = adminError(err)
	}
	if err != nil {
		return err
	}
	if err := src.close(); err != nil {
		return err
	}
	var text bytes.Buffer
	printSilences(&text, list, now)
	windows, err := silence.Windows(cfg)
	if err != nil {
		return usageError(err)
	}
	printWindows(&text, windows, now)
	_, err = text.WriteTo(env.stdout)
	return err
}

// printSilences writes the ad hoc silences that have not ended at now.
func printSilences(w io.Writer, list []store.Silence, now time.Time) {
	list = slices.DeleteFunc(list, func(s store.Silence) bool { return !s.End.After(now) })
	if len(list) == 0 {
		fmt.Fprintln(w, "no ad hoc silences")
		return
	}
	fmt.Fprintf(w, "ad hoc silences (%d)\n", len(list))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tWATCH\tNOTIFIER\tSTART\tEND\tREASON")
	for _, s := range list {
		n := s.Notifier
		if n == "" {
			n = "(all)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Watch, n, formatTime(s.Start), formatTime(s.End), s.Reason)
	}
	tw.Flush()
}

// printWindows writes the config's recurring silences, whether each is in
// force at now, and when its next window starts and ends, in its time zone
// and in UTC.
func printWindows(w io.Writer, windows []silence.Window, now time.Time) {
	if len(windows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nsilences (%d)\n", len(windows))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tWATCHES\tNOTIFIERS\tNOW\tNEXT WINDOW\tIN UTC")
	for _, win := range windows {
		state := "-"
		if win.Active(now) {
			state = "silenced"
		}
		next, utc := "never (the schedule matches no date)", "-"
		if start, end := win.Next(now); !start.IsZero() {
			const layout = "2006-01-02 15:04 MST"
			next = fmt.Sprintf("%s → %s (%s)", start.Format(layout), end.Format(layout), win.Location)
			utc = formatTime(start)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", win.Name, all(win.Watches), all(win.Notifiers), state, next, utc)
	}
	tw.Flush()
}

// all prints a list of names, or "(all)" for an empty one.
func all(list []string) string {
	if len(list) == 0 {
		return "(all)"
	}
	return names(list)
}
