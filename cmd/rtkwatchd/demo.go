package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// demoConfig is the config the demo runs, through the ordinary loader.
//
//go:embed demo.yaml
var demoConfig []byte

// The demo's fixed names.
const (
	demoApp       = "demo-app"
	demoTownHall  = "town-hall-meeting"
	demoStandup   = "standup-meeting"
	demoAccountID = "0demo0account0"
	demoToken     = "demo-token-not-a-secret"
	// demoDeadline bounds the whole demo; SPEC §3 promises under 60 s.
	demoDeadline = 55 * time.Second
	// demoStepWithin bounds how long one step waits for its events.
	demoStepWithin = 10 * time.Second
)

// demoStep is one scene of the scenario: what the narrator says, what
// changes in the fake API, and which events must arrive for it.
type demoStep struct {
	say     string
	do      func(*rtkfake.Server)
	want    []string // event types, in order; empty: wait for two polls
	meeting string   // whose polls to wait for when want is empty
}

func demoScenario() []demoStep {
	update := func(meeting string, live int, minutes float64) func(*rtkfake.Server) {
		return func(f *rtkfake.Server) {
			f.UpdateSession(demoApp, meeting, func(s *rtkfake.Session) {
				s.LiveParticipants, s.MinutesConsumed = live, minutes
			})
		}
	}
	return []demoStep{
		{say: "rtkwatchd takes a silent baseline of both meetings", meeting: demoTownHall},
		{say: "the town hall goes live with 12 participants", want: []string{diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoTownHall, rtkfake.Session{MeetingDisplayName: "Company Town Hall", LiveParticipants: 12, MinutesConsumed: 1})
			}},
		{say: "people keep joining: 38", do: update(demoTownHall, 38, 6), meeting: demoTownHall},
		{say: "57 participants: past the threshold of 50", do: update(demoTownHall, 57, 12),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "104 participants and 31 minutes consumed", do: update(demoTownHall, 104, 31),
			want: []string{diff.TypeParticipantsThreshold, diff.TypeMinutesThreshold}},
		{say: "97: below 100, but within the hysteresis of 5", do: update(demoTownHall, 97, 40), meeting: demoTownHall},
		{say: "93: below 100 − 5, so the threshold re-arms", do: update(demoTownHall, 93, 48),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "everyone leaves; the session stays LIVE at 0 through its keep-alive", do: update(demoTownHall, 0, 55),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "still 0 participants, still LIVE: nothing to say", meeting: demoTownHall},
		{say: "the keep-alive runs out and the session ends", want: []string{diff.TypeSessionEnded},
			do: func(f *rtkfake.Server) { f.EndSession(demoApp, demoTownHall) }},
		{say: "the stand-up goes live with 5 people", want: []string{diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoStandup, rtkfake.Session{MeetingDisplayName: "Daily Stand-up", LiveParticipants: 5, MinutesConsumed: 1})
			}},
		{say: "the stand-up restarts under a new session id between two polls",
			want: []string{diff.TypeSessionEnded, diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoStandup, rtkfake.Session{MeetingDisplayName: "Daily Stand-up", LiveParticipants: 6, MinutesConsumed: 1})
			}},
		{say: "the API answers 500 twice in a row, then recovers",
			want: []string{diff.TypeWatchFailing, diff.TypeWatchRecovered},
			do: func(f *rtkfake.Server) {
				f.SetFault(demoApp, demoStandup, rtkfake.Fault{Kind: rtkfake.ServerError, Times: 2})
			}},
	}
}

func cmdDemo(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("demo", env.stderr)
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Errorf("demo takes no arguments, got %q", pos))
	}
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()

	fake := rtkfake.New(rtkfake.Options{Token: demoToken, AccountID: demoAccountID})
	defer fake.Close()
	secret, err := demoSecret()
	if err != nil {
		return err
	}
	recv, err := newDemoReceiver(secret)
	if err != nil {
		return err
	}
	defer recv.Close()
	dir, err := os.MkdirTemp("", "rtkwatchd-demo-")
	if err != nil {
		return fmt.Errorf("demo store: %w", err)
	}
	defer os.RemoveAll(dir)

	vars := map[string]string{
		"DEMO_ACCOUNT_ID":   demoAccountID,
		"DEMO_TOKEN":        demoToken,
		"DEMO_API_URL":      fake.URL(),
		"DEMO_STORE":        filepath.Join(dir, "state.db"),
		"DEMO_RECEIVER_URL": recv.URL(),
		"DEMO_SECRET":       secret,
	}
	cfg, err := config.Load(bytes.NewReader(demoConfig), config.LoadOptions{Getenv: func(k string) string { return vars[k] }})
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}

	tl := newTimeline(env.stdout, isTerminal(env.stdout))
	tl.title(fmt.Sprintf("rtkwatchd demo: a fake RealtimeKit API at %s, a receiver that verifies every signature at %s", fake.URL(), recv.URL()))

	started := make(chan struct{})
	dctx, stopDaemon := context.WithCancel(context.Background())
	defer stopDaemon()
	daemonDone := make(chan error, 1)
	go func() {
		denv := &environment{getenv: func(string) string { return "" }, stdout: env.stderr, stderr: env.stderr}
		daemonDone <- runDaemon(dctx, denv, cfg, daemonOptions{started: func(*daemon) { close(started) }})
	}()
	select {
	case <-started:
	case err := <-daemonDone:
		return fmt.Errorf("demo daemon: %w", err)
	case <-ctx.Done():
		return errors.New("demo: the daemon did not start in time")
	}

	playErr := playDemo(ctx, fake, recv, tl)
	stopDaemon()
	if err := <-daemonDone; err != nil && playErr == nil {
		playErr = fmt.Errorf("demo daemon: %w", err)
	}
	tl.summary(recv.count(), recv.rejected(), playErr)
	if playErr != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("%w", errSilent)}
	}
	return nil
}

// playDemo runs the scenario step by step, printing every event the
// receiver verified.
func playDemo(ctx context.Context, fake *rtkfake.Server, recv *demoReceiver, tl *timeline) error {
	for _, st := range demoScenario() {
		tl.narrate(st.say)
		before := fake.ActiveSessionRequests(demoApp, st.meeting)
		if st.do != nil {
			st.do(fake)
		}
		sctx, cancel := context.WithTimeout(ctx, demoStepWithin)
		err := playStep(sctx, fake, recv, tl, st, before)
		cancel()
		if err != nil {
			return err
		}
	}
	if n := recv.rejected(); n > 0 {
		return fmt.Errorf("%d deliveries failed signature verification", n)
	}
	return nil
}

func playStep(ctx context.Context, fake *rtkfake.Server, recv *demoReceiver, tl *timeline, st demoStep, before int) error {
	if len(st.want) == 0 {
		// Nothing should happen: wait for two polls after the change, and
		// make sure no event came of them.
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for fake.ActiveSessionRequests(demoApp, st.meeting) < before+2 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("step %q: the daemon did not poll %s: %w", st.say, st.meeting, ctx.Err())
			case ev := <-recv.events:
				tl.event(ev)
				return fmt.Errorf("step %q: unexpected event %s", st.say, ev.event.Type)
			case <-t.C:
			}
		}
		tl.quiet()
		return nil
	}
	for _, want := range st.want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("step %q: no %s event within %s", st.say, want, demoStepWithin)
		case ev := <-recv.events:
			tl.event(ev)
			if ev.event.Type != want {
				return fmt.Errorf("step %q: got %s, want %s", st.say, ev.event.Type, want)
			}
		}
	}
	return nil
}

// demoSecret returns a fresh Standard Webhooks signing secret.
func demoSecret() (string, error) {
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("demo secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key), nil
}
