package ha

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// etcd's limits on one request, at their defaults. A cluster started with
// larger --max-txn-ops or --max-request-bytes accepts more; rtkwatchd keeps
// to the defaults so that it runs on any cluster.
const (
	// MaxTxnOps is the most operations etcd accepts in each branch of a
	// transaction (--max-txn-ops): the comparisons, the operations run
	// when they hold, and those run when they fail, each at most this.
	MaxTxnOps = 128
	// MaxRequestBytes is the largest request etcd accepts
	// (--max-request-bytes, 1.5 MiB), counted as the encoded request that
	// its raft log stores.
	MaxRequestBytes = 1536 << 10
)

// The size of a request is estimated from above: the bytes of its keys,
// values and range ends, plus at most opOverhead bytes per operation for the
// protobuf framing (field tags, lengths, a lease id, revisions and flags:
// under 120 bytes for the largest, a range), plus requestOverhead for the
// envelope etcd wraps around a transaction before it checks the size (a
// request id, the user name, the auth revision). A user name longer than
// requestOverhead/2 bytes is outside the estimate.
const (
	opOverhead      = 128
	requestOverhead = 1024
)

// Pack groups ops into transactions for Commit on this fence, in order.
// Each group is a unit that must commit whole (a meeting's snapshot and its
// events): Pack never splits one, and fills each transaction with as many
// whole groups as fit in MaxTxnOps operations and MaxRequestBytes bytes,
// counting the fence's own comparison. A group that cannot fit in one
// transaction is an error wrapping ErrTooLarge that names its index. Empty
// groups are dropped. Commit with extra comparisons needs room of its own:
// pack without them, or check Commit's ErrTooLarge.
func (f Fence) Pack(groups [][]clientv3.Op) ([][]clientv3.Op, error) {
	budget := MaxRequestBytes - f.overhead()
	var (
		txns  [][]clientv3.Op
		cur   []clientv3.Op
		bytes int
	)
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		n := opsSize(g)
		if len(g) > MaxTxnOps {
			return nil, fmt.Errorf("group %d: %d operations, at most %d in one transaction: %w", i, len(g), MaxTxnOps, ErrTooLarge)
		}
		if n > budget {
			return nil, fmt.Errorf("group %d: about %d bytes, at most %d in one transaction: %w", i, n, budget, ErrTooLarge)
		}
		if len(cur)+len(g) > MaxTxnOps || bytes+n > budget {
			txns = append(txns, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, g...)
		bytes += n
	}
	if len(cur) > 0 {
		txns = append(txns, cur)
	}
	return txns, nil
}

// fits checks a transaction of this fence with conds and ops against etcd's
// limits.
func (f Fence) fits(conds []clientv3.Cmp, ops []clientv3.Op) error {
	if n := len(conds) + 1; n > MaxTxnOps {
		return fmt.Errorf("%d comparisons with the fence's, at most %d: %w", n, MaxTxnOps, ErrTooLarge)
	}
	if len(ops) > MaxTxnOps {
		return fmt.Errorf("%d operations, at most %d: %w", len(ops), MaxTxnOps, ErrTooLarge)
	}
	if n := f.txnSize(conds, ops); n > MaxRequestBytes {
		return fmt.Errorf("about %d bytes, at most %d: %w", n, MaxRequestBytes, ErrTooLarge)
	}
	return nil
}

// txnSize is an upper bound of the size of a transaction of this fence
// with conds and ops, as etcd counts it against MaxRequestBytes.
func (f Fence) txnSize(conds []clientv3.Cmp, ops []clientv3.Op) int {
	n := f.overhead() + opsSize(ops)
	for i := range conds {
		n += cmpSize(&conds[i])
	}
	return n
}

// overhead is what a transaction of this fence takes before any operation
// of the caller: the envelope, the fence's comparison and the read of the
// election key run when a comparison fails.
func (f Fence) overhead() int {
	c := f.Cmp()
	return requestOverhead + cmpSize(&c) + opSize(clientv3.OpGet(f.Key))
}

// opsSize is the estimated encoded size of ops in a transaction.
func opsSize(ops []clientv3.Op) int {
	n := 0
	for _, op := range ops {
		n += opSize(op)
	}
	return n
}

// opSize is an upper bound of the encoded size of op in a transaction.
func opSize(op clientv3.Op) int {
	if op.IsTxn() {
		cmps, thenOps, elseOps := op.Txn()
		n := opOverhead + opsSize(thenOps) + opsSize(elseOps)
		for i := range cmps {
			n += cmpSize(&cmps[i])
		}
		return n
	}
	return opOverhead + len(op.KeyBytes()) + len(op.ValueBytes()) + len(op.RangeBytes())
}

// cmpSize is the encoded size of a comparison, plus the framing of its
// place in the transaction.
func cmpSize(c *clientv3.Cmp) int {
	return proto.Size(c.GetCompare()) + 16
}
