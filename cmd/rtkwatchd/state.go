package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

func cmdState(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("state", env.stderr)
	path := configFlag(fset, env.getenv)
	asJSON := fset.Bool("json", false, "print each snapshot as one JSON line")
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError(fmt.Errorf("state takes at most one MEETING_ID, got %q", pos))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	meetingFilter := ""
	if len(pos) == 1 {
		meetingFilter = pos[0]
	}
	snaps, err := readSnapshots(ctx, cfg, meetingFilter)
	if err != nil {
		return err
	}
	if len(pos) == 1 && len(snaps) == 0 {
		return fmt.Errorf("no snapshot of meeting %s in %s", pos[0], cfg.Store.Path)
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		for _, s := range snaps {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WATCH\tMEETING\tSESSION\tSTATUS\tLIVE\tMINUTES\tSEQ\tLAST GOOD POLL\tHEALTH")
	for _, s := range snaps {
		session, status, live, minutes := "-", "none", "-", "-"
		if s.Session != nil {
			session, status = s.Session.ID, s.Session.Status
			live = strconv.Itoa(s.Session.LiveParticipants)
			minutes = strconv.FormatFloat(s.Session.MinutesConsumed, 'f', -1, 64)
		}
		meeting := s.MeetingID
		if label, ok := recordLabels[meeting]; ok {
			meeting, status = label, "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			s.Watch, meeting, session, status, live, minutes, s.Sequence, formatTime(s.LastGoodPoll), health(s))
	}
	return tw.Flush()
}

// recordLabels name a watch's own records in place of a meeting id. They
// share the failure bookkeeping of a snapshot, so the health column reads
// them alike.
var recordLabels = map[string]string{
	poller.WatchMeetingID:       "(sessions list)",
	poller.RecordingsMeetingID:  "(recordings list)",
	poller.LivestreamsMeetingID: "(livestreams list)",
	poller.UsageMeetingID:       "(usage)",
}

// readSnapshots reads the stored snapshots, of meeting only when it is not
// empty, from the store or, while the daemon holds it, from the daemon. The
// store is closed again when it returns: printing, which may block on a
// pager left open, must not keep the daemon from starting.
func readSnapshots(ctx context.Context, cfg *config.Config, meeting string) ([]diff.Snapshot, error) {
	var snaps []diff.Snapshot
	collect := func(k store.SnapshotKey, b []byte) error {
		if meeting != "" && k.MeetingID != meeting {
			return nil
		}
		var s diff.Snapshot
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decode snapshot %s/%s: %w", k.Watch, k.MeetingID, err)
		}
		s.Watch, s.MeetingID = k.Watch, k.MeetingID
		snaps = append(snaps, s)
		return nil
	}
	if cfg.HA != nil {
		es, done, err := etcdReader(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer done()
		return snaps, es.ForEachSnapshot(collect)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout, ReadOnly: true})
	if err != nil {
		// The daemon holds the store: ask it instead.
		ac, err := daemonAdmin(cfg, err)
		if err != nil {
			return nil, err
		}
		if err := ac.Snapshots(ctx, meeting, collect); err != nil {
			return nil, adminError(err)
		}
		return snaps, nil
	}
	defer st.Close()
	if err := st.ForEachSnapshot(collect); err != nil {
		return nil, err
	}
	return snaps, nil
}

// health says in a few words whether a meeting's polls succeed.
func health(s diff.Snapshot) string {
	switch {
	case s.Failing && s.GoodStreak > 0: // recover_after counts good polls
		return fmt.Sprintf("FAILING, recovering (%d good): %s", s.GoodStreak, s.LastError)
	case s.Failing:
		return fmt.Sprintf("FAILING (%d): %s", s.ConsecutiveFailures, s.LastError)
	case s.ConsecutiveFailures > 0:
		return fmt.Sprintf("%d failed: %s", s.ConsecutiveFailures, s.LastError)
	case !s.Baselined:
		return "no good poll yet"
	default:
		return "ok"
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
