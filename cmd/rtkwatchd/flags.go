package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
)

// defaultConfigPath is where `run` and friends look without --config.
const defaultConfigPath = "/etc/rtkwatchd/config.yaml"

// synopses are the usage lines of each subcommand.
var synopses = map[string]string{
	"run":         "rtkwatchd run [--config F]",
	"check":       "rtkwatchd check [--config F] [--online]",
	"once":        "rtkwatchd once [--config F] [--dry-run]",
	"demo":        "rtkwatchd demo",
	"state":       "rtkwatchd state [--config F] [--json] [MEETING_ID]",
	"deliveries":  "rtkwatchd deliveries [--config F] [--failed] [--limit N] [--after ID]\n       rtkwatchd deliveries [--config F] retry ID… | retry --all",
	"notify test": "rtkwatchd notify test NAME [--type T] [--config F]",
}

// newFlags returns a flag set for a subcommand that reports to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rtkwatchd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n", synopses[name])
		if strings.Contains(name, " ") {
			return
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may stand before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{code: exitOK, err: errSilent} // -h: usage printed, done
			}
			return nil, usageError(errSilent) // the flag package printed the error and usage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// configFlag adds --config to fs and returns where its value lands.
func configFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := defaultConfigPath
	if v := getenv("RTKWATCHD_CONFIG"); v != "" {
		def = v
	}
	return fs.String("config", def, "path of the YAML config `file`")
}

// loadConfig loads and validates the config at path; every problem is a
// usage error (exit 2) that names the field and line.
func loadConfig(env *environment, path string) (*config.Config, error) {
	cfg, err := config.LoadFile(path, config.LoadOptions{Getenv: env.getenv})
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			problems := make([]error, len(errs))
			for i, e := range errs {
				problems[i] = e
			}
			return nil, invalidConfig(path, problems)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageError(fmt.Errorf("config %s: no such file (use --config)", path))
		}
		return nil, usageError(fmt.Errorf("config %s: %w", path, err))
	}
	return cfg, nil
}

// invalidConfig is the usage error (exit 2) of a config with problems:
// one line each, under a line that counts them.
func invalidConfig(path string, problems []error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "config %s is invalid (%d problem", path, len(problems))
	if len(problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, e := range problems {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return usageError(errors.New(b.String()))
}

// loadNotifiers builds the notifiers of cfg, loaded from path; their
// problems (a template that breaks) are a usage error, as loadConfig's are.
func loadNotifiers(path string, cfg *config.Config) ([]notify.Notifier, []idleCloser, error) {
	ns, clients, err := buildNotifiers(cfg)
	if err != nil {
		return nil, nil, invalidConfig(path, flatten(err))
	}
	return ns, clients, nil
}
