package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/etcdstore"
	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// errOnceUnderHA refuses `once` under ha: it would poll and deliver
// outside the election, beside the leader.
var errOnceUnderHA = errors.New("once polls and delivers outside the election; with ha set, the elected `rtkwatchd run` node does (state, deliveries and check work from any node)")

// etcdReader opens the state in etcd for a command, on any node: it reads
// without a fence and so never writes. The caller calls done.
func etcdReader(ctx context.Context, cfg *config.Config) (st *etcdstore.Store, done func(), err error) {
	e := cfg.HA.Etcd
	cli, err := ha.Connect(ctx, haOptions(e))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to etcd (ha.etcd): %w", err)
	}
	st, err = etcdstore.New(ctx, cli, etcdstore.Options{Prefix: e.Prefix, Timeout: e.DialTimeout})
	if err != nil {
		cli.Close()
		return nil, nil, err
	}
	return st, func() { cli.Close() }, nil
}

// openForRetry opens the store for `deliveries retry`. Under ha no command
// writes to etcd: it fails with store.ErrLocked, so that the command asks
// the daemon of this node, which requeues when it leads.
func openForRetry(cfg *config.Config) (*store.Store, error) {
	if cfg.HA != nil {
		return nil, fmt.Errorf("with ha set, only the leader writes: %w", store.ErrLocked)
	}
	return store.Open(cfg.Store.Path, store.Options{LockTimeout: storeLockTimeout})
}

// etcdCLIStore is the state in etcd as a command opens it: reads only.
type etcdCLIStore struct {
	*etcdstore.Store
	done func()
}

// Close closes the connection to etcd.
func (s etcdCLIStore) Close() error {
	s.done()
	return nil
}

// openEtcdForCLI opens the state in etcd for a command's reads.
func openEtcdForCLI(cfg *config.Config) (cliStore, error) {
	st, done, err := etcdReader(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return etcdCLIStore{Store: st, done: done}, nil
}
