// Command rtkwatchd watches Cloudflare RealtimeKit meetings and delivers
// signed webhooks, chat messages, PagerDuty events and emails when something
// happens in them.
//
// This package only wires: it parses flags, loads the config, opens the
// store and starts the pieces that live under internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	reload, hard := make(chan struct{}, 1), make(chan struct{})
	env := &environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, reload: reload, hardStop: hard}
	// Only the daemon reloads; for the other commands SIGHUP keeps its
	// default meaning (the terminal went away: stop).
	daemon := len(os.Args) > 1 && os.Args[1] == "run"
	stop := handleSignals(cancel, reload, hard, daemon)
	err := runEnv(ctx, os.Args[1:], env)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// handleSignals turns signals into the daemon's requests: the first SIGINT
// or SIGTERM cancels ctx (a graceful stop), a second one closes hard (cut
// the drain short), and SIGHUP sends on reload.
func handleSignals(cancel context.CancelFunc, reload, hard chan struct{}, hup bool) (stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if hup {
		signal.Notify(sigs, syscall.SIGHUP)
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		terms := 0
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					select {
					case reload <- struct{}{}:
					default: // a reload is already pending
					}
					continue
				}
				terms++
				switch terms {
				case 1:
					cancel()
				case 2:
					close(hard)
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		<-exited
	}
}

// Exit codes, as SPEC §3 defines them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// exitError carries the exit code of an error that ends the program.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or configuration error (exit 2).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// errSilent ends the program with a code after the command already said why.
var errSilent = errors.New("")

// exitCode prints err (unless it was already reported) and maps it to the
// process exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(stderr, "rtkwatchd: %v\n", err)
	}
	return code
}

const usage = `usage: rtkwatchd <command> [flags]

commands:
  run         [--config F]                   run the daemon
  check       [--config F] [--online]        validate the config and print the plan; --online: ask
                                             the API whether each meeting exists
  once        [--config F] [--dry-run]       poll every watch once, print events as JSON lines
  demo                                       play a scenario against a built-in fake API
  state       [--config F] [--json]          show stored snapshots, as JSON with --json
              [MEETING_ID]
  deliveries  [--config F] [--failed]        show the outbox, or the dead letters, 100 at a time
              [--limit N] [--after ID]       (--after: the cursor the last page printed)
  deliveries  [--config F] retry ID…|--all   queue dead letters again
  events      [--config F] [--since D|T] [--watch W] [--meeting M] [--type T]
              [--json] [--limit N] [--after C]   the history of committed events
  events      replay --notifier N (--since D|T | ID…)   deliver events again, same ids
  silence     add --watch W [--notifier N] --for D [--reason R]   silence a watch from now
  silence     list | remove ID               the ad hoc silences, and the config's windows
  notify test NAME [--type T] [--config F]   send a sample event through one notifier
  version                                    print version information

The default config is /etc/rtkwatchd/config.yaml, or $RTKWATCHD_CONFIG when set.
`

// run is the whole program: everything it needs is passed in, so tests drive
// it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, &environment{getenv: getenv, stdout: stdout, stderr: stderr})
}

// runEnv is run with the whole environment, signals included.
func runEnv(ctx context.Context, args []string, env *environment) error {
	stdout, stderr := env.stdout, env.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError(errors.New("no command given"))
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, env, rest)
	case "check":
		return cmdCheck(ctx, env, rest)
	case "once":
		return cmdOnce(ctx, env, rest)
	case "demo":
		return cmdDemo(ctx, env, rest)
	case "state":
		return cmdState(ctx, env, rest)
	case "deliveries":
		return cmdDeliveries(ctx, env, rest)
	case "events":
		return cmdEvents(ctx, env, rest)
	case "silence":
		return cmdSilence(ctx, env, rest)
	case "notify":
		return cmdNotify(ctx, env, rest)
	case "version", "--version", "-version":
		if len(rest) > 0 {
			return usageError(fmt.Errorf("version takes no arguments, got %q", rest))
		}
		return cmdVersion(env)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError(fmt.Errorf("unknown command %q", cmd))
	}
}

// environment is what every command gets from the outside world.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// reload receives a value per reload request (SIGHUP); nil in tests
	// that do not reload.
	reload <-chan struct{}
	// hardStop is closed when a stop must not wait any longer (a second
	// SIGTERM); nil when nothing ever cuts a stop short.
	hardStop <-chan struct{}
}
