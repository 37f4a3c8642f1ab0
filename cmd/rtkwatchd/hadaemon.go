package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/etcdstore"
	"github.com/rtkwatchd/rtkwatchd/internal/ha"
	"github.com/rtkwatchd/rtkwatchd/internal/notify"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// The etcd store takes the worker's notifier.failing and
// notifier.recovered: under ha they are queued, not only logged.
var _ notify.Notices = (*etcdstore.Store)(nil)

// haOptions turns ha.etcd into the options of ha.Connect.
func haOptions(e config.Etcd) ha.Options {
	return ha.Options{
		Endpoints: e.Endpoints,
		CAFile:    e.TLS.CAFile, CertFile: e.TLS.CertFile, KeyFile: e.TLS.KeyFile,
		Username: e.Username, Password: e.Password.Value(),
		DialTimeout: e.DialTimeout,
	}
}

// nodeName is this node's name in the election: the host name and the
// process ID, so that two nodes on one host are told apart.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "rtkwatchd"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// runHA runs the daemon as one node of ha: it campaigns, and while it
// leads it polls and delivers on a store fenced by its term; every node
// answers the admin API from etcd.
func (d *daemon) runHA(ctx context.Context, cfg *config.Config) error {
	d.haNode = true
	e := cfg.HA.Etcd
	cli, err := ha.Connect(ctx, haOptions(e))
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	defer cli.Close()
	reads, err := etcdstore.New(ctx, cli, etcdstore.Options{Prefix: e.Prefix})
	if err != nil {
		return err
	}
	d.st = &haStore{Store: reads, d: d}
	d.reg.MustRegister(storeCollector{st: reads, log: d.log})
	elector, err := ha.NewElector(cli, ha.ElectorOptions{
		Prefix: e.Prefix, Name: nodeName(), LeaseTTL: e.LeaseTTL, Logger: d.log, Registerer: d.reg,
	})
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	// The elector runs until the daemon stops; if it ends first (the
	// client closed, or a term could not run its config), so does the
	// daemon, with its error, rather than wait for ever as a follower.
	ectx, stopElector := context.WithCancel(context.Background())
	defer stopElector()
	sctx, stopServing := context.WithCancelCause(ctx)
	defer stopServing(nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := elector.Run(ectx, func(lctx context.Context, f ha.Fence) error { return d.lead(lctx, cli, f) })
		if ectx.Err() == nil {
			if err == nil {
				err = errors.New("the election ended")
			}
			stopServing(fmt.Errorf("ha: %w", err))
		}
	})
	err = d.serve(sctx, cfg, func() {
		stopElector()
		wg.Wait()
	})
	if err == nil && ctx.Err() == nil {
		err = context.Cause(sctx)
	}
	return err
}

// lead runs one term: a generation of the config in force on a store
// fenced by f, until the term ends. Then it stops the generation at once:
// running cycles are cancelled and deliveries in flight abandoned (they
// stay in the outbox, and the next leader sends them under the same
// webhook-id); the store, bound to the term, refuses what they would still
// write.
func (d *daemon) lead(ctx context.Context, cli *clientv3.Client, f ha.Fence) error {
	d.runMu.Lock()
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	st, err := etcdstore.New(ctx, cli, etcdstore.Options{Prefix: cfg.HA.Etcd.Prefix, Fence: f})
	var gen *generation
	if err == nil {
		gen, err = d.build(cfg, st)
	}
	if err != nil {
		d.runMu.Unlock()
		return fmt.Errorf("run the config while leading: %w", err)
	}
	gen.term = ctx
	d.prune(gen)
	d.start(gen)
	stopMaintain := d.startMaintain(st) // history and silences, while this term lasts
	d.runMu.Unlock()

	<-ctx.Done()
	d.runMu.Lock()
	defer d.runMu.Unlock()
	d.mu.Lock()
	gen = d.gen
	d.gen = nil
	d.mu.Unlock()
	d.log.Warn().AnErr("cause", context.Cause(ctx)).Msg("ha: the term ended; stopping polls and deliveries now")
	if gen != nil { // nil when a reload saw the term end first
		d.stopNow(gen)
	}
	stopMaintain()
	return nil
}

// stopNow stops gen without waiting: running cycles are cancelled and
// deliveries in flight abandoned; it returns once nothing of gen runs.
func (d *daemon) stopNow(gen *generation) {
	defer closeIdle(gen.clients)
	if gen.stopCheck != nil {
		gen.stopCheck()
	}
	gen.stopWorker()
	gen.stopWorkerHard()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := gen.sched.Stop(done); err != nil && !errors.Is(err, context.Canceled) {
		d.log.Warn().Err(err).Msg("stop schedules")
	}
	<-gen.workerDone
}

// haStore is the store the admin API uses under ha: reads from etcd on
// any node, and requeues through the running term's fenced store, so that
// only the leader writes.
type haStore struct {
	*etcdstore.Store
	d *daemon
}

// leader returns the store of the running term, or an error saying that
// this node does not lead.
func (s *haStore) leader(what string) (stateStore, error) {
	s.d.mu.Lock()
	gen := s.d.gen
	s.d.mu.Unlock()
	if gen == nil {
		return nil, fmt.Errorf("%s: this node does not lead; ask the leader (rtkwatchd_ha_leader 1): %w", what, ha.ErrFenced)
	}
	return gen.st, nil
}

// Requeue moves dead letters back to the outbox through the leader's
// term; a node that does not lead refuses.
func (s *haStore) Requeue(at time.Time, ids ...uint64) (int, error) {
	st, err := s.leader("requeue dead letters")
	if err != nil {
		return 0, err
	}
	return st.Requeue(at, ids...)
}

// Replay queues history events again through the leader's term.
func (s *haStore) Replay(notifier string, at time.Time, ids ...string) ([]uint64, error) {
	st, err := s.leader("replay events")
	if err != nil {
		return nil, err
	}
	return st.Replay(notifier, at, ids...)
}

// AddSilence adds a silence through the leader's term.
func (s *haStore) AddSilence(sil store.Silence) (uint64, error) {
	st, err := s.leader("add silence")
	if err != nil {
		return 0, err
	}
	return st.AddSilence(sil)
}

// RemoveSilence removes a silence through the leader's term.
func (s *haStore) RemoveSilence(id uint64) error {
	st, err := s.leader("remove silence")
	if err != nil {
		return err
	}
	return st.RemoveSilence(id)
}
