package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/demo"
)

// cmdDemo plays the demo scenario on the real daemon, run in-process with
// its log on stderr.
func cmdDemo(ctx context.Context, env *environment, args []string) error {
	fset := newFlags("demo", env.stderr)
	pos, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Errorf("demo takes no arguments, got %q", pos))
	}
	err = demo.Run(ctx, demo.Options{
		Out:    env.stdout,
		Colour: isTerminal(env.stdout),
		Daemon: func(ctx context.Context, cfg *config.Config, started func()) error {
			denv := &environment{getenv: func(string) string { return "" }, stdout: env.stderr, stderr: env.stderr}
			return runDaemon(ctx, denv, cfg, daemonOptions{started: func(*daemon) { started() }})
		},
	})
	if errors.Is(err, demo.ErrFailed) {
		// The timeline said what went wrong.
		return &exitError{code: exitFailure, err: errSilent}
	}
	return err
}
