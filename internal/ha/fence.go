package ha

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fence is the token of one term of leadership: the leader's election key
// and the revision that created it. The key exists, with that create
// revision, exactly as long as the term lasts: it goes with the leader's
// lease, and a later term has another key or another revision. So a write
// made on condition that the key still has that create revision is a write
// by the current leader, whatever the clocks say.
//
// The Elector hands a Fence to its lead function. The zero Fence holds for
// no one.
type Fence struct {
	// Key is the leader's election key, <prefix>election/<lease id in hex>.
	Key string
	// Rev is the key's create revision: the fencing token.
	Rev int64
}

// Cmp is the condition of the fence, for a transaction built by hand: the
// election key still has the create revision Rev. Prefer Commit, which adds
// it, checks etcd's limits and tells a fenced write from a failed
// comparison of the caller.
func (f Fence) Cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)
}

// Commit runs ops in one transaction if and only if the fence holds and
// every comparison in conds holds. It returns the transaction's response
// when it ran; otherwise nothing was written and the error wraps
//
//   - ErrFenced when the fence no longer holds (the term is over: the
//     caller must stop writing);
//   - ErrConflict when the fence held but one of conds did not;
//   - ErrTooLarge, before anything is sent, when the transaction would be
//     over etcd's limits (see Pack);
//
// or is the client's error (a timeout, an unreachable cluster), in which
// case the transaction may or may not have been applied. With no ops,
// Commit checks that the term still holds.
func (f Fence) Commit(ctx context.Context, kv clientv3.KV, conds []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	if f.Key == "" || f.Rev <= 0 {
		return nil, fmt.Errorf("commit fenced transaction: the zero fence: %w", ErrFenced)
	}
	if err := f.fits(conds, ops); err != nil {
		return nil, fmt.Errorf("commit fenced transaction: %w", err)
	}
	cmps := append([]clientv3.Cmp{f.Cmp()}, conds...)
	resp, err := kv.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(f.Key)).Commit()
	if err != nil {
		return nil, fmt.Errorf("commit fenced transaction: %w", err)
	}
	if resp.Succeeded {
		return resp, nil
	}
	// The else branch read the election key as it is now.
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	switch {
	case len(kvs) == 0:
		return nil, fmt.Errorf("commit fenced transaction: election key %s (revision %d) is gone: %w", f.Key, f.Rev, ErrFenced)
	case kvs[0].CreateRevision != f.Rev:
		return nil, fmt.Errorf("commit fenced transaction: election key %s was created again at revision %d, not %d: %w", f.Key, kvs[0].CreateRevision, f.Rev, ErrFenced)
	}
	return nil, fmt.Errorf("commit fenced transaction: %w", ErrConflict)
}
