package main

import (
	"reflect"
	"slices"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
)

// reloadConfig applies the config file again. A config that does not load
// leaves the running one in place.
func (d *daemon) reloadConfig() {
	if d.opts.configPath == "" {
		d.log.Warn().Msg("reload requested, but this daemon has no config file")
		return
	}
	d.tellSystemd(sd.SdNotifyReloading)
	defer d.tellSystemd(sd.SdNotifyReady)
	cfg, err := loadConfig(d.env, d.opts.configPath)
	if err == nil {
		err = checkBudget(cfg)
	}
	if err != nil {
		d.log.Error().Err(err).Msg("reload rejected; the running config stays in force")
		return
	}
	d.runMu.Lock()
	defer d.runMu.Unlock()
	d.mu.Lock()
	old, running := d.gen, d.cfg
	d.mu.Unlock()
	if cfg.Store.Path != running.Store.Path || cfg.Admin.Listen != running.Admin.Listen || !sameHA(cfg.HA, running.HA) {
		d.log.Warn().Msg("store.path, admin.listen and ha change only with a restart; keeping the running ones")
		cfg.Store.Path, cfg.Admin.Listen, cfg.HA = running.Store.Path, running.Admin.Listen, running.HA
	}
	if old == nil {
		// A node that does not lead: its next term runs cfg.
		d.mu.Lock()
		d.cfg = cfg
		d.mu.Unlock()
		setLimits(d.budget, cfg)
		d.log = d.log.Level(newLogger(cfg.Log, d.env.stdout).GetLevel())
		d.log.Info().Int("watches", len(cfg.Watches)).Int("notifiers", len(cfg.Notifiers)).Msg("config reloaded; it runs when this node leads")
		return
	}
	gen, err := d.build(cfg, old.st)
	if err != nil {
		d.log.Error().Err(err).Msg("reload rejected; the running config stays in force")
		return
	}
	d.stop(old, d.opts.hard)
	if old.term != nil {
		gen.term = old.term
		if old.term.Err() != nil {
			// The term ended while the old generation drained: the next
			// term runs cfg; this one starts nothing more.
			d.mu.Lock()
			d.gen, d.cfg = nil, cfg
			d.mu.Unlock()
			closeIdle(gen.clients)
			d.log.Info().Msg("config reloaded; it runs when this node leads again")
			return
		}
	}
	d.prune(gen)
	d.forgetMetrics(old.cfg, cfg)
	setLimits(d.budget, cfg)
	d.log = d.log.Level(newLogger(cfg.Log, d.env.stdout).GetLevel())
	gen.worker.Inherit(old.worker)
	d.start(gen)
	d.log.Info().Int("watches", len(cfg.Watches)).Int("notifiers", len(cfg.Notifiers)).Msg("config reloaded")
}

// prune deletes the snapshots of meetings and watches that gen no longer
// polls, and their per-meeting gauges, which it sizes as gen's config
// says; a failure is logged, since stale snapshots only take room.
func (d *daemon) prune(gen *generation) {
	watches := poller.Watches(gen.cfg)
	d.gauges.SetLimit(gen.cfg.Metrics.Meetings, gen.cfg.Metrics.MaxSeries)
	d.gauges.Retain(poller.Keeps(watches))
	n, err := poller.Prune(gen.st, watches)
	if err != nil {
		d.log.Error().Err(err).Msg("prune snapshots")
	}
	if n > 0 {
		d.log.Info().Int("snapshots", n).Msg("forgot the meetings that no watch polls any more")
	}
}

// forgetMetrics drops the metric series of the watches (and usage blocks)
// and notifiers that were in old but are not in cfg.
func (d *daemon) forgetMetrics(old, cfg *config.Config) {
	now := poller.Watches(cfg)
	for _, w := range poller.Watches(old) {
		if !slices.ContainsFunc(now, func(n poller.Watch) bool { return n.Name == w.Name }) {
			d.pollMetrics.Forget(w.Name)
		}
	}
	for _, n := range old.Notifiers {
		if _, ok := cfg.Notifier(n.Name); !ok {
			d.notifyMetrics.Forget(n.Name)
		}
	}
}

// sameHA reports whether two ha sections are the same.
func sameHA(a, b *config.HA) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(*a, *b)
}
