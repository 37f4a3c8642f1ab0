package ha

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// ttl is the lease of the tests' electors. The test etcd grants as little
// as 1 s; 2 s keeps a busy machine (keep-alives every 667 ms, the lease given
// up 200 ms early) from losing a lease the tests expect to hold.
const ttl = 2 * time.Second

// slack is what the tests allow beyond a bound for scheduling on a busy
// machine and for the server's own timers (etcd looks for expired leases
// every 500 ms).
const slack = 1500 * time.Millisecond

func TestOneLeaderAmongTwo(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t)
	a := startNode(t, connect(t, s.Endpoint), "node-a", ttl)
	w := a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, s.Endpoint), "node-b", ttl)

	// b waits behind a: past a's first lease TTL (so a renewed it), a still
	// leads and b does not.
	select {
	case bw := <-b.won:
		t.Fatalf("b leads too (%s) while a leads (%s)", bw.fence.Key, w.fence.Key)
	case l := <-a.lost:
		t.Fatalf("a lost its term: %v", l.cause)
	case <-time.After(ttl + ttl/2):
	}
	if !a.e.Leading() || b.e.Leading() {
		t.Errorf("Leading: a %t, b %t; want true, false", a.e.Leading(), b.e.Leading())
	}
	if ga, gb := a.gauge(t), b.gauge(t); ga != 1 || gb != 0 {
		t.Errorf("rtkwatchd_ha_leader: a %v, b %v; want 1, 0", ga, gb)
	}
	for _, n := range []*node{a, b} {
		leader, err := n.e.Leader(t.Context())
		if err != nil || leader != "node-a" {
			t.Errorf("%s: Leader() = %q, %v; want node-a", n.name, leader, err)
		}
	}
	// etcd's own election package, on the same prefix, sees the same leader.
	sess, err := concurrency.NewSession(connect(t, s.Endpoint), concurrency.WithTTL(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	resp, err := concurrency.NewElection(sess, testPrefix+ElectionKey).Leader(t.Context())
	if err != nil || string(resp.Kvs[0].Value) != "node-a" || resp.Kvs[0].CreateRevision != w.fence.Rev {
		t.Errorf("concurrency.Election.Leader = %v, %v; want node-a at revision %d", resp, err, w.fence.Rev)
	}
}

func TestStoppingTheLeaderHandsOverAtOnce(t *testing.T) {
	s := etcdtest.Start(t)
	a := startNode(t, connect(t, s.Endpoint), "node-a", 10*time.Second)
	a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, s.Endpoint), "node-b", 10*time.Second)

	stopped := time.Now()
	if err := a.stop(t); err != nil {
		t.Fatalf("a's Run: %v", err)
	}
	if l := a.waitLost(t, time.Second); !errors.Is(l.cause, context.Canceled) {
		t.Errorf("a's term ended with %v, want context.Canceled", l.cause)
	}
	// a resigned: b does not wait out a's 10 s lease.
	w := b.waitWon(t, 5*time.Second)
	t.Logf("b leads %s after a stopped", w.at.Sub(stopped))
	if a.gauge(t) != 0 || a.e.Leading() {
		t.Error("a still says it leads after Run returned")
	}
}

func TestKilledLeaderIsReplacedWithinTheLease(t *testing.T) {
	s := etcdtest.Start(t)
	aCli := connect(t, s.Endpoint)
	a := startNode(t, aCli, "node-a", ttl)
	a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, s.Endpoint), "node-b", ttl)

	// Closing the client is what a crash does to etcd: the connection
	// goes, no one revokes the lease, and it runs out.
	killed := time.Now()
	aCli.Close()
	if l := a.waitLost(t, 5*time.Second); !errors.Is(l.cause, ErrClientClosed) {
		t.Errorf("a's term ended with %v, want ErrClientClosed", l.cause)
	}
	if err := a.waitExited(t, 5*time.Second); !errors.Is(err, ErrClientClosed) {
		t.Errorf("a's Run = %v, want ErrClientClosed", err)
	}
	w := b.waitWon(t, ttl+slack)
	t.Logf("b leads %s after a was killed (lease %s)", w.at.Sub(killed), ttl)
	if !b.e.Leading() || b.gauge(t) != 1 {
		t.Error("b leads but Leading or the gauge says otherwise")
	}
}

func TestRevokedLeaseEndsTheTermAtOnce(t *testing.T) {
	s := etcdtest.Start(t)
	admin := connect(t, s.Endpoint)
	a := startNode(t, connect(t, s.Endpoint), "node-a", 10*time.Second)
	wa := a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, s.Endpoint), "node-b", 10*time.Second)

	revoked := time.Now()
	if _, err := admin.Revoke(t.Context(), leaseOf(t, wa.fence)); err != nil {
		t.Fatal(err)
	}
	// Within a second, not the 10 s lease: the watch on the key sees it go.
	l := a.waitLost(t, time.Second)
	if !errors.Is(l.cause, ErrKeyDeleted) && !errors.Is(l.cause, ErrLeaseLost) {
		t.Errorf("a's term ended with %v, want ErrKeyDeleted or ErrLeaseLost", l.cause)
	}
	wb := b.waitWon(t, 2*time.Second)
	t.Logf("a knew after %s, b led after %s", l.at.Sub(revoked), wb.at.Sub(revoked))
	if a.e.Leading() {
		t.Error("a still says it leads")
	}
	// a campaigns again, behind b.
	select {
	case w := <-a.won:
		t.Fatalf("a leads again (%s) while b leads", w.fence.Key)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestDeletedKeyEndsTheTermAtOnce(t *testing.T) {
	s := etcdtest.Start(t)
	admin := connect(t, s.Endpoint)
	a := startNode(t, connect(t, s.Endpoint), "node-a", 10*time.Second)
	w := a.waitWon(t, 10*time.Second)
	if _, err := admin.Delete(t.Context(), w.fence.Key); err != nil {
		t.Fatal(err)
	}
	if l := a.waitLost(t, time.Second); !errors.Is(l.cause, ErrKeyDeleted) {
		t.Errorf("a's term ended with %v, want ErrKeyDeleted", l.cause)
	}
	// Alone, a leads again, under a new key: the old fence is void.
	w2 := a.waitWon(t, 5*time.Second)
	if w2.fence == w.fence {
		t.Fatalf("the new term has the old fence %v", w.fence)
	}
	if _, err := w.fence.Commit(t.Context(), admin, nil, clientv3.OpPut(testPrefix+"x", "1")); !errors.Is(err, ErrFenced) {
		t.Errorf("write under the old fence: %v, want ErrFenced", err)
	}
}

func TestPartitionedLeaderStepsDownBeforeAnotherIsElected(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t)
	proxy := etcdtest.NewProxy(t, hostPort(s.Endpoint))
	aCli := connect(t, "http://"+proxy.Addr)
	a := startNode(t, aCli, "node-a", ttl)
	wa := a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, s.Endpoint), "node-b", ttl)

	cut := time.Now()
	proxy.Cut()
	la := a.waitLost(t, ttl+slack)
	if !errors.Is(la.cause, ErrLeaseLost) {
		t.Errorf("a's term ended with %v, want ErrLeaseLost", la.cause)
	}
	wb := b.waitWon(t, ttl+slack)
	t.Logf("cut at 0; a stepped down at %s; b led at %s", la.at.Sub(cut), wb.at.Sub(cut))
	if !la.at.Before(wb.at) {
		t.Errorf("a stepped down at %s, after b was elected at %s", la.at.Sub(cut), wb.at.Sub(cut))
	}

	// The partition heals; a's stale writes are refused, b's go through.
	proxy.Heal()
	waitReachable(t, aCli, 10*time.Second)
	key := testPrefix + "snapshot"
	_, err := wa.fence.Commit(t.Context(), aCli, nil, clientv3.OpPut(key, "from a"))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("a's write after its term: %v, want ErrFenced", err)
	}
	if _, err := wb.fence.Commit(t.Context(), aCli, nil, clientv3.OpPut(key, "from b")); err != nil {
		t.Fatalf("b's write: %v", err)
	}
	resp, err := aCli.Get(t.Context(), key)
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "from b" {
		t.Fatalf("%s = %v, %v; want only b's write", key, resp, err)
	}
	// a is a follower again, behind b, which renews its lease.
	select {
	case w := <-a.won:
		t.Fatalf("a leads again (%s) while b leads", w.fence.Key)
	case <-time.After(ttl + ttl/2):
	}
}

func TestStopDuringPartitionReturnsPromptly(t *testing.T) {
	s := etcdtest.Start(t)
	proxy := etcdtest.NewProxy(t, hostPort(s.Endpoint))
	a := startNode(t, connect(t, s.Endpoint), "node-a", 10*time.Second)
	a.waitWon(t, 10*time.Second)
	b := startNode(t, connect(t, "http://"+proxy.Addr), "node-b", 10*time.Second)
	// Once b campaigns behind a, cut it off and stop it.
	waitCandidates(t, connect(t, s.Endpoint), 2)
	proxy.Cut()
	start := time.Now()
	if err := b.stop(t); err != nil {
		t.Fatalf("b's Run: %v", err)
	}
	// Bounded by the revocation attempt, not by the partition.
	if took := time.Since(start); took > revokeTimeout+slack {
		t.Errorf("stopping b took %s", took)
	}
}

func TestLeadEndingEndsRun(t *testing.T) {
	s := etcdtest.Start(t)
	admin := connect(t, s.Endpoint)
	boom := errors.New("boom")
	for _, want := range []error{nil, boom} {
		e, err := NewElector(connect(t, s.Endpoint), ElectorOptions{Prefix: testPrefix, Name: "node-a", LeaseTTL: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var fence Fence
		err = e.Run(t.Context(), func(ctx context.Context, f Fence) error {
			fence = f
			return want
		})
		if err != want {
			t.Errorf("Run = %v, want %v", err, want)
		}
		// Run resigned: the key is gone, the next node need not wait.
		resp, err := admin.Get(t.Context(), fence.Key)
		if err != nil || len(resp.Kvs) != 0 {
			t.Errorf("after Run, %s = %v, %v; want gone", fence.Key, resp, err)
		}
		if e.Leading() {
			t.Error("Leading after Run returned")
		}
	}
}

// waitCandidates polls the election until it has n candidates.
func waitCandidates(t *testing.T, cli *clientv3.Client, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := cli.Get(t.Context(), testPrefix+ElectionKey+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil && resp.Count == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the election has not %d candidates within 10s (%v, %v)", n, resp, err)
		}
		select {
		case <-t.Context().Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestNewElectorRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ElectorOptions
		want string
	}{
		{"no prefix", ElectorOptions{Name: "a"}, "elector: prefix is required"},
		{"no name", ElectorOptions{Prefix: "/p/", Name: " "}, "elector: name is required"},
		{"fraction of a second", ElectorOptions{Prefix: "/p/", Name: "a", LeaseTTL: 1500 * time.Millisecond}, "elector: lease TTL 1.5s: must be a whole number of seconds, at least 1s"},
		{"under a second", ElectorOptions{Prefix: "/p/", Name: "a", LeaseTTL: 999 * time.Millisecond}, "elector: lease TTL 999ms: must be a whole number of seconds, at least 1s"},
		{"negative retry", ElectorOptions{Prefix: "/p/", Name: "a", RetryDelay: -time.Second}, "elector: retry delay -1s: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewElector(nil, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("NewElector error = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewElector(nil, ElectorOptions{Prefix: "/p/", Name: "a", LeaseTTL: time.Second}); err != nil {
		t.Errorf("1s: %v, want accepted", err)
	}
}
