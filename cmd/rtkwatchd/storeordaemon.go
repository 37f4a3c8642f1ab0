package main

import (
	"fmt"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// storeOrDaemon is where a command reads and changes the state: the store
// itself when this process can open it, or else, while the daemon holds
// it, the daemon's admin API. Exactly one of st and ac is set.
type storeOrDaemon struct {
	st cliStore
	ac *admin.Client
}

// cliStore is what the commands use of a store they open: *store.Store,
// or under ha, for reading, the state in etcd.
type cliStore interface {
	History(q store.HistoryQuery) ([]store.HistoryEvent, error)
	Replay(notifier string, at time.Time, ids ...string) ([]uint64, error)
	Silences() ([]store.Silence, error)
	AddSilence(s store.Silence) (uint64, error)
	RemoveSilence(id uint64) error
	Close() error
}

// openStoreOrDaemon opens cfg's store (read-only when readOnly), or when
// the daemon holds it, returns a client of the daemon's admin API. Under
// ha it reads etcd itself, from any node, and asks this node's daemon to
// change anything: only the leader writes.
func openStoreOrDaemon(cfg *config.Config, readOnly bool) (storeOrDaemon, error) {
	var st cliStore
	var err error
	switch {
	case cfg.HA != nil && readOnly:
		st, err = openEtcdForCLI(cfg)
	case cfg.HA != nil:
		err = fmt.Errorf("with ha set, only the leader writes: %w", store.ErrLocked)
	default:
		st, err = store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout, ReadOnly: readOnly})
	}
	if err == nil {
		return storeOrDaemon{st: st}, nil
	}
	ac, err := daemonAdmin(cfg, err)
	if err != nil {
		return storeOrDaemon{}, err
	}
	return storeOrDaemon{ac: ac}, nil
}

// close closes the store, if it was opened; it may be called twice.
func (s *storeOrDaemon) close() error {
	if s.st == nil {
		return nil
	}
	err := s.st.Close()
	s.st = nil
	return err
}

// parseSince reads --since: a duration back from now (2h, 30m) or an
// RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, usageError(fmt.Errorf("--since %s: want a duration > 0 or an RFC 3339 time", s))
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, usageError(fmt.Errorf("--since %q: want a duration (2h) or an RFC 3339 time (2026-11-30T08:00:00Z)", s))
	}
	return t, nil
}
