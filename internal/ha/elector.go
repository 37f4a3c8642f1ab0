package ha

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultLeaseTTL is the lease of a campaign when ElectorOptions.LeaseTTL is
// zero. A dead leader is replaced within about this long.
const DefaultLeaseTTL = 10 * time.Second

// DefaultRetryDelay is the pause after a failed campaign when
// ElectorOptions.RetryDelay is zero.
const DefaultRetryDelay = time.Second

// ElectionKey is appended to the prefix to name the election: candidates'
// keys are <prefix>election/<lease id in hex>.
const ElectionKey = "election"

// Log field names.
const (
	logKey      = "election_key"
	logRevision = "revision"
	logLeader   = "leader"
	logTTL      = "lease_ttl"
	logCause    = "cause"
)

// ElectorOptions configure an Elector.
type ElectorOptions struct {
	// Prefix is where rtkwatchd's keys live in etcd, such as
	// "/rtkwatchd/prod/"; the election is under Prefix+"election/".
	// Required.
	Prefix string
	// Name is this node's name, stored as the value of its election key
	// so that Leader can say who leads (a hostname). Required.
	Name string
	// LeaseTTL is the lease of the campaign, in whole seconds, at least
	// one; zero means DefaultLeaseTTL. etcd may grant more (at least 1.5
	// of its election timeouts: 2 s with its defaults).
	LeaseTTL time.Duration
	// RetryDelay is the pause after a campaign failed (etcd unreachable);
	// zero means DefaultRetryDelay.
	RetryDelay time.Duration
	// Logger receives the elector's lines: leading, lost leadership (with
	// the cause), failed campaigns.
	Logger zerolog.Logger
	// Registerer, when not nil, gets the gauge rtkwatchd_ha_leader.
	Registerer prometheus.Registerer
}

// Elector takes part in the election of one leader among the rtkwatchd
// nodes that share a prefix. Create it with NewElector and call Run.
type Elector struct {
	cli     *clientv3.Client
	opts    ElectorOptions
	leading atomic.Bool
}

// NewElector returns an Elector on cli, which must stay open while Run
// runs, and registers its gauge.
func NewElector(cli *clientv3.Client, o ElectorOptions) (*Elector, error) {
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	var errs []error
	if o.Prefix == "" {
		errs = append(errs, errors.New("elector: prefix is required"))
	}
	if strings.TrimSpace(o.Name) == "" {
		errs = append(errs, errors.New("elector: name is required"))
	}
	if o.LeaseTTL < time.Second || o.LeaseTTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("elector: lease TTL %s: must be a whole number of seconds, at least 1s", o.LeaseTTL))
	}
	if o.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("elector: retry delay %s: must not be negative", o.RetryDelay))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e := &Elector{cli: cli, opts: o}
	if o.Registerer != nil {
		gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rtkwatchd_ha_leader",
			Help: "1 while this node is the elected leader (it polls and delivers), 0 otherwise.",
		}, func() float64 {
			if e.leading.Load() {
				return 1
			}
			return 0
		})
		if err := o.Registerer.Register(gauge); err != nil {
			return nil, fmt.Errorf("elector: register rtkwatchd_ha_leader: %w", err)
		}
	}
	return e, nil
}

// Leading reports whether this node leads right now. It turns false the
// moment a loss is detected, before the lead function has returned.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Leader returns the name of the node that leads now, or "" when none does.
// Any node can ask; it needs no campaign.
func (e *Elector) Leader(ctx context.Context) (string, error) {
	resp, err := e.cli.Get(ctx, e.electionPrefix(), clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("read election %s: %w", e.electionPrefix(), err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// electionPrefix is the prefix of the candidates' keys.
func (e *Elector) electionPrefix() string { return e.opts.Prefix + ElectionKey + "/" }

// Run campaigns until ctx ends, and calls lead each time this node becomes
// the leader, with the term's Fence and a context that is cancelled the
// moment the term ends:
//
//   - the lease could not be renewed before it would expire on the server
//     (so this node stops no later than another can be elected), or was
//     revoked: the cause is ErrLeaseLost;
//   - the election key was deleted: ErrKeyDeleted;
//   - the client was closed: ErrClientClosed;
//   - ctx ended: ctx's cause.
//
// Use context.Cause on lead's context to tell which. Run waits for lead to
// return; lead must return promptly once its context is done, and
// everything that writes must go through the Fence so that the writes of a
// lead that is slow to stop are refused.
//
// After a lost term Run campaigns again. If lead returns while the term
// holds, Run resigns and returns lead's error (nil included). When ctx ends
// Run resigns (so that another node leads at once rather than after the
// lease TTL) and returns nil. It returns ErrClientClosed when the client is
// closed under it. Failed campaigns (etcd unreachable) are logged and tried
// again after RetryDelay.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, f Fence) error) error {
	for {
		if ctx.Err() != nil {
			return nil
		}
		if e.cli.Ctx().Err() != nil {
			return ErrClientClosed
		}
		done, err := e.term(ctx, lead)
		if done {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			e.opts.Logger.Warn().Err(err).Dur(logTTL, e.opts.LeaseTTL).Msg("etcd election: campaign failed; trying again")
			t := time.NewTimer(e.opts.RetryDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
	}
}

// term is one campaign on a fresh lease, and the leadership that may follow.
// It returns done when Run must return err; otherwise err says why the
// campaign failed (nil after a lost term).
func (e *Elector) term(ctx context.Context, lead func(context.Context, Fence) error) (done bool, err error) {
	l, err := grantLease(ctx, e.cli, e.opts.LeaseTTL)
	if err != nil {
		return errors.Is(err, ErrClientClosed), err
	}
	tctx, stop := context.WithCancel(ctx)
	defer l.release(ctx, stop)
	l.start(tctx)

	// The campaign ends as soon as the lease is lost.
	cctx, stopCampaign := context.WithCancelCause(tctx)
	defer stopCampaign(nil)
	defer context.AfterFunc(l.lost, func() { stopCampaign(context.Cause(l.lost)) })()
	fence, err := campaign(cctx, e.cli, e.electionPrefix(), l.id, e.opts.Name)
	if err != nil {
		switch cause := context.Cause(cctx); {
		case ctx.Err() != nil:
			return true, nil
		case errors.Is(cause, ErrClientClosed):
			return true, ErrClientClosed
		case cause != nil:
			err = cause
		}
		return false, fmt.Errorf("campaign under %s: %w", e.electionPrefix(), err)
	}
	l.watchKey(tctx, fence)

	// The leader's context ends the moment the lease is lost or ctx ends,
	// and Leading turns false just before. (Leading turns true first, so
	// that a loss already signalled turns it false again.)
	e.leading.Store(true)
	lctx, stopLead := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopLead(nil)
	end := func(cause error) {
		e.leading.Store(false)
		stopLead(cause)
	}
	defer context.AfterFunc(l.lost, func() { end(context.Cause(l.lost)) })()
	defer context.AfterFunc(ctx, func() { end(context.Cause(ctx)) })()
	log := e.opts.Logger.With().Str(logKey, fence.Key).Int64(logRevision, fence.Rev).Logger()
	log.Info().Str(logLeader, e.opts.Name).Dur(logTTL, l.ttl).Msg("etcd election: leading")
	err = lead(lctx, fence)
	e.leading.Store(false)
	cause := context.Cause(lctx)
	switch {
	case ctx.Err() != nil:
		log.Info().Msg("etcd election: stopping; resigning")
		return true, nil
	case cause == nil:
		log.Info().Err(err).Msg("etcd election: the leader's work ended; resigning")
		return true, err
	case errors.Is(cause, ErrClientClosed):
		log.Warn().AnErr(logCause, cause).Msg("etcd election: leadership lost")
		return true, ErrClientClosed
	}
	log.Warn().AnErr(logCause, cause).Msg("etcd election: leadership lost; campaigning again")
	return false, nil
}
