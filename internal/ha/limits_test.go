package ha

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// testFence is a fence with a key as long as a real one under testPrefix.
var testFence = Fence{Key: testPrefix + "election/694d9a1b2c3d4e5f", Rev: 12345}

func put(key string, valueLen int) clientv3.Op {
	return clientv3.OpPut(key, strings.Repeat("v", valueLen))
}

// checkPack packs groups and checks how many operations each transaction
// has, and that the operations keep their order.
func checkPack(t *testing.T, groups [][]clientv3.Op, want []int) {
	t.Helper()
	txns, err := testFence.Pack(groups)
	if err != nil {
		t.Fatal(err)
	}
	var shape []int
	var keys, packed []string
	for _, txn := range txns {
		shape = append(shape, len(txn))
		for _, op := range txn {
			packed = append(packed, string(op.KeyBytes()))
		}
	}
	for _, g := range groups {
		for _, op := range g {
			keys = append(keys, string(op.KeyBytes()))
		}
	}
	if diff := cmp.Diff(want, shape); diff != "" {
		t.Errorf("operations per transaction (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(keys, packed); diff != "" {
		t.Errorf("order of operations (-want +got):\n%s", diff)
	}
}

func groups(n, size int) [][]clientv3.Op {
	var g [][]clientv3.Op
	for i := range n {
		var ops []clientv3.Op
		for j := range size {
			ops = append(ops, put(fmt.Sprintf("k%d-%d", i, j), 10))
		}
		g = append(g, ops)
	}
	return g
}

func TestPackCountsOperations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups [][]clientv3.Op
		want   []int
	}{
		{"nothing", nil, nil},
		{"empty groups are dropped", [][]clientv3.Op{{}, {put("a", 1)}, {}}, []int{1}},
		{"MaxTxnOps singles fit one transaction", groups(MaxTxnOps, 1), []int{MaxTxnOps}},
		{"one more starts another", groups(MaxTxnOps+1, 1), []int{MaxTxnOps, 1}},
		{"a group of MaxTxnOps alone", groups(1, MaxTxnOps), []int{MaxTxnOps}},
		// 42 groups of 3 are 126 operations; the 43rd does not fit whole.
		{"groups are never split", groups(43, 3), []int{126, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkPack(t, tc.groups, tc.want) })
	}
}

func TestPackCountsBytes(t *testing.T) {
	budget := MaxRequestBytes - testFence.overhead()
	// A put of key "k" whose estimate is exactly n bytes.
	sized := func(n int) clientv3.Op { return put("k", n-opOverhead-1) }
	for _, tc := range []struct {
		name   string
		groups [][]clientv3.Op
		want   []int
	}{
		{"exactly the budget", [][]clientv3.Op{{sized(budget)}}, []int{1}},
		{"two halves fit", [][]clientv3.Op{{sized(budget / 2)}, {sized(budget - budget/2)}}, []int{2}},
		{"a byte more does not", [][]clientv3.Op{{sized(budget / 2)}, {sized(budget - budget/2 + 1)}}, []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkPack(t, tc.groups, tc.want) })
	}
	t.Run("a group over the budget", func(t *testing.T) {
		_, err := testFence.Pack([][]clientv3.Op{{put("a", 1)}, {sized(budget + 1)}})
		want := fmt.Sprintf("group 1: about %d bytes, at most %d in one transaction: %v", budget+1, budget, ErrTooLarge)
		if !errors.Is(err, ErrTooLarge) || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
	t.Run("a group over MaxTxnOps", func(t *testing.T) {
		_, err := testFence.Pack(groups(1, MaxTxnOps+1))
		want := fmt.Sprintf("group 0: 129 operations, at most 128 in one transaction: %v", ErrTooLarge)
		if !errors.Is(err, ErrTooLarge) || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
}

// TestSizeEstimateIsAnUpperBound builds, with etcd's own protobuf types, the
// request that etcd measures against --max-request-bytes, every field of
// every operation at its largest, and checks that the estimate is not less.
func TestSizeEstimateIsAnUpperBound(t *testing.T) {
	key, end, val := []byte(testPrefix+"snapshots/town-hall/bbb5b0fa"), []byte(testPrefix+"snapshots0"), []byte(strings.Repeat("x", 3000))
	const maxLease = math.MaxInt64
	conds := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(string(key)), "<", math.MaxInt64),
		clientv3.Compare(clientv3.Value(string(key)), "=", string(val)),
	}
	ops := []clientv3.Op{
		clientv3.OpPut(string(key), string(val), clientv3.WithLease(maxLease), clientv3.WithPrevKV()),
		clientv3.OpDelete(string(key), clientv3.WithRange(string(end)), clientv3.WithPrevKV()),
		clientv3.OpGet(string(key), clientv3.WithRange(string(end)), clientv3.WithRev(-1), clientv3.WithLimit(-1),
			clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithSerializable(), clientv3.WithKeysOnly(),
			clientv3.WithCountOnly(), clientv3.WithMinModRev(-1), clientv3.WithMaxModRev(-1), clientv3.WithMinCreateRev(-1), clientv3.WithMaxCreateRev(-1)),
	}
	exactOps := []*pb.RequestOp{
		{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: key, Value: val, Lease: maxLease, PrevKv: true, IgnoreValue: true, IgnoreLease: true}}},
		{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: key, RangeEnd: end, PrevKv: true}}},
		{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: key, RangeEnd: end, Limit: -1, Revision: -1,
			SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_VALUE, Serializable: true, KeysOnly: true, CountOnly: true,
			MinModRevision: -1, MaxModRevision: -1, MinCreateRevision: -1, MaxCreateRevision: -1}}},
	}
	for i := range ops {
		if est, exact := opSize(ops[i]), proto.Size(&pb.TxnRequest{Success: exactOps[i : i+1]}); est < exact {
			t.Errorf("op %d: estimate %d < %d bytes", i, est, exact)
		}
	}
	var compares []*pb.Compare
	for _, c := range append([]clientv3.Cmp{testFence.Cmp()}, conds...) {
		compares = append(compares, c.GetCompare())
	}
	req := &pb.InternalRaftRequest{
		Header: &pb.RequestHeader{ID: math.MaxUint64, Username: strings.Repeat("u", requestOverhead/2), AuthRevision: math.MaxUint64},
		Txn: &pb.TxnRequest{
			Compare: compares,
			Success: exactOps,
			Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte(testFence.Key)}}}},
		},
	}
	if est, exact := testFence.txnSize(conds, ops), proto.Size(req); est < exact {
		t.Errorf("transaction: estimate %d < %d bytes", est, exact)
	} else {
		t.Logf("transaction: estimate %d ≥ %d bytes", est, exact)
	}
}

// TestLimitsAreTheServers: the constants are etcd's defaults. A real etcd
// takes a fenced transaction at both limits, and refuses one operation
// more; Commit refuses it first, without sending it.
func TestLimitsAreTheServers(t *testing.T) {
	s := etcdtest.Start(t)
	cli := connect(t, s.Endpoint)
	f := electOnce(t, cli)

	// MaxTxnOps puts whose estimate fills MaxRequestBytes exactly.
	budget := MaxRequestBytes - f.overhead()
	var ops []clientv3.Op
	for i := range MaxTxnOps {
		key := fmt.Sprintf("%sbig/%03d", testPrefix, i)
		n := budget / MaxTxnOps
		if i == 0 {
			n += budget % MaxTxnOps
		}
		ops = append(ops, put(key, n-opOverhead-len(key)))
	}
	if got := f.txnSize(nil, ops); got != MaxRequestBytes {
		t.Fatalf("the test's transaction is %d bytes, want %d", got, MaxRequestBytes)
	}
	if _, err := f.Commit(t.Context(), cli, nil, ops...); err != nil {
		t.Fatalf("etcd refused a transaction at both limits: %v", err)
	}

	more := append(ops[:len(ops):len(ops)], put(testPrefix+"one-more", 1))
	if _, err := f.Commit(t.Context(), cli, nil, more...); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Commit of MaxTxnOps+1: %v, want ErrTooLarge", err)
	}
	if _, err := cli.Txn(t.Context()).Then(more...).Commit(); !errors.Is(err, rpctypes.ErrTooManyOps) {
		t.Errorf("etcd given MaxTxnOps+1 operations: %v, want %v", err, rpctypes.ErrTooManyOps)
	}

	bigger := append(ops[:len(ops)-1:len(ops)-1], put(testPrefix+"big/last", 64<<10))
	if _, err := f.Commit(t.Context(), cli, nil, bigger...); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Commit over MaxRequestBytes: %v, want ErrTooLarge", err)
	}
	if _, err := cli.Txn(t.Context()).Then(bigger...).Commit(); !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("etcd given more than MaxRequestBytes: %v, want %v", err, rpctypes.ErrRequestTooLarge)
	}
}
