package ha

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// revokeTimeout bounds the revocation of a lease when a term ends: long
// enough for a cluster that answers, short enough not to hold up a shutdown
// or the next campaign when it does not (the lease then expires by itself).
const revokeTimeout = 2 * time.Second

// lease is one campaign's lease and the watch kept on it: it renews the
// lease and, from the moment it becomes unsure that the lease is still
// alive on the server, says so through lost.
//
// Renewal is by one keep-alive request every third of the TTL. The server
// counts the TTL from when it receives a keep-alive, which is after the
// client sent it; so "sent + TTL" of the last acknowledged request is no
// later than the server's expiry, and lost ends (ErrLeaseLost) a tenth of
// the TTL before that. No other node can be elected before then.
type lease struct {
	cli *clientv3.Client
	id  clientv3.LeaseID
	ttl time.Duration // as granted by the server

	// lost is cancelled, with the reason as its cause, when the lease is
	// lost or its election key deleted.
	lost     context.Context
	markLost context.CancelCauseFunc

	wg sync.WaitGroup // keepAlive and watchKey

	mu       sync.Mutex
	deadline time.Time // when the lease may expire on the server, less the margin
}

// grantLease asks for a lease of ttl, within ttl.
func grantLease(ctx context.Context, cli *clientv3.Client, ttl time.Duration) (*lease, error) {
	gctx, cancel := context.WithTimeout(ctx, ttl)
	defer cancel()
	sent := time.Now()
	resp, err := cli.Grant(gctx, int64(ttl/time.Second))
	if err != nil {
		if cli.Ctx().Err() != nil {
			return nil, ErrClientClosed
		}
		return nil, fmt.Errorf("grant etcd lease of %s: %w", ttl, err)
	}
	l := &lease{cli: cli, id: resp.ID, ttl: time.Duration(resp.TTL) * time.Second}
	l.lost, l.markLost = context.WithCancelCause(context.Background())
	l.renewed(sent, resp.TTL)
	return l, nil
}

// renewed records a keep-alive sent at sent that the server answered with
// ttlSeconds of life.
func (l *lease) renewed(sent time.Time, ttlSeconds int64) {
	ttl := time.Duration(ttlSeconds) * time.Second
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deadline = sent.Add(ttl - ttl/10)
}

func (l *lease) expiry() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deadline
}

// start runs the lease's keep-alive loop until ctx ends or the lease is lost.
func (l *lease) start(ctx context.Context) {
	l.wg.Go(func() { l.keepAlive(ctx) })
}

func (l *lease) keepAlive(ctx context.Context) {
	interval := l.ttl / 3
	retry := min(l.ttl/10, 250*time.Millisecond)
	next := time.Now().Add(interval)
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for {
		deadline := l.expiry()
		if next.After(deadline) {
			next = deadline
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-l.lost.Done():
			return
		case <-t.C:
		}
		if !time.Now().Before(deadline) {
			l.markLost(ErrLeaseLost)
			return
		}
		sent := time.Now()
		kctx, cancel := context.WithDeadline(ctx, deadline)
		resp, err := l.cli.KeepAliveOnce(kctx, l.id)
		cancel()
		switch {
		case err == nil && resp.TTL > 0:
			l.renewed(sent, resp.TTL)
			next = sent.Add(interval)
		case err == nil, errors.Is(err, rpctypes.ErrLeaseNotFound):
			l.markLost(ErrLeaseLost)
			return
		case ctx.Err() != nil:
			return
		case l.cli.Ctx().Err() != nil:
			l.markLost(ErrClientClosed)
			return
		default:
			// Unreachable or slow: try again until the deadline.
			next = time.Now().Add(retry)
		}
	}
}

// watchKey watches the term's election key, from the revision after its
// creation, and marks the lease lost when the key is deleted or created
// again.
func (l *lease) watchKey(ctx context.Context, f Fence) {
	l.wg.Go(func() {
		from := f.Rev + 1
		for ctx.Err() == nil && l.lost.Err() == nil {
			next, err := l.watchFrom(ctx, f, from)
			if err != nil {
				l.markLost(err)
				return
			}
			from = next
		}
	})
}

// watchFrom watches the key from revision from until the watch ends. It
// returns the revision to watch from next, or the reason the term is over.
func (l *lease) watchFrom(ctx context.Context, f Fence, from int64) (int64, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range l.cli.Watch(wctx, f.Key, clientv3.WithRev(from)) {
		if resp.CompactRevision != 0 {
			// History from `from` is gone: look at the key as it is.
			return l.checkKey(ctx, f)
		}
		if resp.Err() != nil {
			break
		}
		for _, ev := range resp.Events {
			if ev.Type == mvccpb.DELETE || ev.Kv.CreateRevision != f.Rev {
				return 0, ErrKeyDeleted
			}
		}
		from = resp.Header.Revision + 1
	}
	if ctx.Err() == nil && l.cli.Ctx().Err() != nil {
		return 0, ErrClientClosed
	}
	// The watch broke: watch again after a pause (or stop, if ctx is done).
	t := time.NewTimer(min(l.ttl/10, 250*time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-l.lost.Done():
	case <-t.C:
	}
	return from, nil
}

// checkKey reads the election key and returns the revision to watch from,
// or ErrKeyDeleted when the key is not the term's any more.
func (l *lease) checkKey(ctx context.Context, f Fence) (int64, error) {
	gctx, cancel := context.WithTimeout(ctx, l.ttl)
	defer cancel()
	resp, err := l.cli.Get(gctx, f.Key)
	if err != nil {
		return 0, nil // retried by the next watch; the lease watch covers an outage
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != f.Rev {
		return 0, ErrKeyDeleted
	}
	return resp.Header.Revision + 1, nil
}

// release stops the lease's goroutines, waits for them and revokes the
// lease, which deletes the election key, so that another node can lead at
// once. The revocation is bounded by revokeTimeout; if it fails the lease
// expires by itself.
func (l *lease) release(ctx context.Context, stop context.CancelFunc) {
	stop()
	l.wg.Wait()
	l.markLost(context.Canceled)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	l.cli.Revoke(rctx, l.id)
}

// campaign puts this node's key, <pfx><lease id in hex>, under the lease,
// and waits until every key created before it is gone: then this node
// leads. It is the algorithm of etcd's concurrency.Election, on the same
// keys, so that etcdctl and concurrency.Election see the same leader; but
// it never blocks past ctx, and leaves the clean-up of its key to the
// revocation of the lease.
func campaign(ctx context.Context, cli *clientv3.Client, pfx string, id clientv3.LeaseID, name string) (Fence, error) {
	key := fmt.Sprintf("%s%x", pfx, id)
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, name, clientv3.WithLease(id))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return Fence{}, fmt.Errorf("put election key: %w", err)
	}
	f := Fence{Key: key, Rev: resp.Header.Revision}
	if !resp.Succeeded {
		f.Rev = resp.Responses[0].GetResponseRange().Kvs[0].CreateRevision
	}
	older := append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(f.Rev-1))
	for {
		r, err := cli.Get(ctx, pfx, older...)
		if err != nil {
			return Fence{}, fmt.Errorf("read election: %w", err)
		}
		if len(r.Kvs) == 0 {
			return f, nil
		}
		if err := waitDelete(ctx, cli, string(r.Kvs[0].Key), r.Header.Revision); err != nil {
			return Fence{}, err
		}
	}
}

// waitDelete returns when key is deleted at or after revision rev.
func waitDelete(ctx context.Context, cli *clientv3.Client, key string, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last clientv3.WatchResponse
	for resp := range cli.Watch(wctx, key, clientv3.WithRev(rev)) {
		for _, ev := range resp.Events {
			if ev.Type == mvccpb.DELETE {
				return nil
			}
		}
		last = resp
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := last.Err(); err != nil {
		return fmt.Errorf("watch election key %s: %w", key, err)
	}
	return fmt.Errorf("watch election key %s: %w", key, ErrClientClosed)
}
