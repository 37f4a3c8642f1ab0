// Package demo plays `rtkwatchd demo`: a scenario against an in-process
// fake of the RealtimeKit API ([rtkfake]), watched by the real daemon on a
// temporary store, whose webhooks a local receiver verifies with the
// official Standard Webhooks library before a timeline prints them.
//
// It is the one production package that runs on rtkfake, by design: the
// demo needs no network, account or config.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
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
	demoWebinar   = "webinar-meeting"
	demoAccountID = "0demo0account0"
	demoToken     = "demo-token-not-a-secret"
	// demoDeadline bounds the whole demo; SPEC §3 promises under 60 s.
	demoDeadline = 55 * time.Second
	// demoStepWithin bounds how long one step waits for its events.
	demoStepWithin = 10 * time.Second
)

// ErrFailed is wrapped by the error [Run] returns when the scenario did
// not play as written; the timeline has then already said why.
var ErrFailed = errors.New("the demo failed")

// Options are what the demo needs from the program that runs it.
type Options struct {
	// Out receives the timeline.
	Out io.Writer
	// Colour styles the timeline with ANSI escapes (Out is a terminal).
	Colour bool
	// Daemon runs the real daemon on cfg until ctx ends, and calls
	// started once it polls and delivers.
	Daemon func(ctx context.Context, cfg *config.Config, started func()) error
}

// Run plays the scenario within 55 s, or before ctx ends. It returns an
// error wrapping [ErrFailed] when the scenario went wrong, and another
// error when the demo could not be set up.
func Run(ctx context.Context, opts Options) error {
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()

	fake := rtkfake.New(rtkfake.Options{Token: demoToken, AccountID: demoAccountID})
	defer fake.Close()
	for _, m := range []string{demoTownHall, demoStandup} {
		fake.CreateMeeting(demoApp, m) // the daemon asks whether they exist
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	recv, err := newReceiver(secret)
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

	tl := newTimeline(opts.Out, opts.Colour)
	tl.title(fmt.Sprintf("rtkwatchd demo: a fake RealtimeKit API at %s, a receiver that verifies every signature at %s", fake.URL(), recv.URL()))

	started := make(chan struct{})
	dctx, stopDaemon := context.WithCancel(context.Background())
	defer stopDaemon()
	daemonDone := make(chan error, 1)
	go func() {
		daemonDone <- opts.Daemon(dctx, cfg, func() { close(started) })
	}()
	select {
	case <-started:
	case err := <-daemonDone:
		return fmt.Errorf("demo daemon: %w", err)
	case <-ctx.Done():
		// The daemon may still be opening the store: it must be done with
		// it before the deferred RemoveAll takes the directory away.
		stopDaemon()
		<-daemonDone
		return errors.New("demo: the daemon did not start in time")
	}

	playErr := play(ctx, fake, recv, tl)
	stopDaemon()
	if err := <-daemonDone; err != nil && playErr == nil {
		playErr = fmt.Errorf("demo daemon: %w", err)
	}
	tl.summary(recv.count(), recv.rejected(), playErr)
	if playErr != nil {
		return fmt.Errorf("%w: %w", ErrFailed, playErr)
	}
	return nil
}

// newSecret returns a fresh Standard Webhooks signing secret.
func newSecret() (string, error) {
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("demo secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key), nil
}
