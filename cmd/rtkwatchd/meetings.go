package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
)

// meetingPaths maps each watch and meeting to its config paths, such as
// watches[1].meetings[3].
func meetingPaths(cfg *config.Config) map[[2]string]string {
	paths := make(map[[2]string]string)
	for i, w := range cfg.Watches {
		for j, m := range w.Meetings {
			if _, ok := paths[[2]string{w.Name, m}]; !ok {
				paths[[2]string{w.Name, m}] = fmt.Sprintf("watches[%d].meetings[%d]", i, j)
			}
		}
	}
	return paths
}

// checkOnline asks the API whether each of the n explicit meetings of cfg
// exists, as the daemon does at start (poller.CheckMeetings: through the
// apps' meetings lists, within the budget), and prints the answers under
// the plan. It returns a usage error naming the meetings that do not
// exist, or a runtime error when some could not be asked.
func checkOnline(ctx context.Context, w io.Writer, cfg *config.Config, n int) error {
	client := newAPIClient(cfg, nil)
	defer client.CloseIdleConnections()
	p := poller.New(client, poller.Options{AccountID: cfg.API.AccountID, Budget: newBudget(cfg), DryRun: true})
	defer p.Close()
	problems, err := p.CheckMeetings(ctx, poller.Watches(cfg), &poller.KnownMeetings{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmeetings (%d checked with the API)\n", n)
	paths := meetingPaths(cfg)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var unknown []string
	var failed []poller.MeetingProblem
	for _, pr := range problems {
		path := paths[[2]string{pr.Watch, pr.MeetingID}]
		if pr.Unknown() {
			unknown = append(unknown, path+" ("+pr.MeetingID+")")
			fmt.Fprintf(tw, "  %s\t%s\tdoes not exist in app %s\n", path, pr.MeetingID, pr.AppID)
			continue
		}
		failed = append(failed, pr)
		fmt.Fprintf(tw, "  %s\t%s\tcould not be asked: %v\n", path, pr.MeetingID, pr.Err)
	}
	if len(problems) == 0 {
		fmt.Fprintf(tw, "  every one exists\n")
	}
	tw.Flush()
	switch {
	case len(unknown) > 0:
		return usageError(fmt.Errorf("%d meeting(s) do not exist in their app, so they would never have a session: %s",
			len(unknown), strings.Join(unknown, ", ")))
	case len(failed) > 0:
		return fmt.Errorf("ask the API whether %d meeting(s) exist: %w", len(failed), failed[0].Err)
	}
	return nil
}

// checkMeetings asks, in the background of a running generation, whether
// the explicit meetings of gen's watches exist, as `check --online` does.
// Each meeting that does not is logged and counted in
// rtkwatchd_unknown_meetings; d.known keeps those that do, so that a
// reload asks only about the others. It stops when ctx ends.
func (d *daemon) checkMeetings(ctx context.Context, gen *generation) {
	watches := poller.Watches(gen.cfg)
	problems, err := gen.poller.CheckMeetings(ctx, watches, &d.known)
	if errors.Is(err, context.Canceled) {
		return
	}
	unknown := make(map[string]int, len(watches))
	for _, pr := range problems {
		log := d.log.Warn().Str("watch", pr.Watch).Str("app", pr.AppID).Str("meeting", pr.MeetingID)
		if pr.Unknown() {
			unknown[pr.Watch]++
			log.Msg("the meeting does not exist in its app, so it will never have a session: check its id")
			continue
		}
		log.Str("error", pr.Err.Error()).Msg("could not ask the API whether the meeting exists; asking again on the next reload")
	}
	for _, w := range watches {
		d.pollMetrics.UnknownMeetings(w.Name, unknown[w.Name])
	}
}

// startMeetingCheck runs checkMeetings for gen; stopMeetingCheck ends it
// and waits for it.
func (d *daemon) startMeetingCheck(gen *generation) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	gen.stopCheck = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		d.checkMeetings(ctx, gen)
	}()
}
