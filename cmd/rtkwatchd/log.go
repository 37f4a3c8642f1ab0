package main

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// newLogger returns the logger a command passes to every component: JSON
// (for journald) unless the config asks for the console format, or the
// format is "auto" and w is a terminal.
func newLogger(c config.Log, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		level = zerolog.InfoLevel
	}
	if c.Format == "console" || (c.Format == "auto" && isTerminal(w)) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}
	}
	// Components log from several goroutines; w need not be safe for
	// concurrent writes (run's callers pass any io.Writer).
	return zerolog.New(zerolog.SyncWriter(w)).Level(level).With().Timestamp().Logger()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// logDamage logs, at debug level, the raw detail behind a damaged store's
// error (see store.DamageDetail), which the error itself says in plain
// words; it does nothing for other errors.
func logDamage(log zerolog.Logger, err error) {
	if detail := store.DamageDetail(err); detail != "" {
		log.Debug().Str("detail", detail).Msg("store damage, as bbolt met it")
	}
}
