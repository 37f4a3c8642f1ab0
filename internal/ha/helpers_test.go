package ha

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// testPrefix is where the tests' nodes keep their keys.
const testPrefix = "/rtkwatchd/test/"

// hostPort is the host:port of an http:// endpoint.
func hostPort(endpoint string) string { return strings.TrimPrefix(endpoint, "http://") }

// connect returns a client on endpoint that the test closes when it ends
// (closing it twice is harmless).
func connect(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := Connect(t.Context(), Options{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// node is one Elector running in the background, with what its lead
// function saw.
type node struct {
	name    string
	cli     *clientv3.Client
	e       *Elector
	reg     *prometheus.Registry
	won     chan won      // a term began
	lost    chan lostTerm // a term ended; the cause
	exited  chan struct{} // closed when Run returned
	runErr  error         // what Run returned, once exited is closed
	cancel  context.CancelFunc
	stopped sync.Once
}

type won struct {
	fence Fence
	at    time.Time
}

type lostTerm struct {
	cause   error
	at      time.Time
	leading bool // what Leading said when the lead context ended
}

// startNode runs an Elector named name on cli with a lease of ttl. The
// test stops it when it ends.
func startNode(t *testing.T, cli *clientv3.Client, name string, ttl time.Duration) *node {
	t.Helper()
	n := &node{
		name: name, cli: cli, reg: prometheus.NewRegistry(),
		won: make(chan won, 16), lost: make(chan lostTerm, 16), exited: make(chan struct{}),
	}
	e, err := NewElector(cli, ElectorOptions{
		Prefix: testPrefix, Name: name, LeaseTTL: ttl, RetryDelay: 100 * time.Millisecond,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).With().Str("node", name).Logger(), Registerer: n.reg,
	})
	if err != nil {
		t.Fatalf("NewElector: %v", err)
	}
	n.e = e
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.exited)
		n.runErr = e.Run(ctx, func(ctx context.Context, f Fence) error {
			n.won <- won{f, time.Now()}
			<-ctx.Done()
			n.lost <- lostTerm{context.Cause(ctx), time.Now(), n.e.Leading()}
			return nil
		})
	}()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop cancels Run and waits for it (at most 10 s), returning its error.
func (n *node) stop(t *testing.T) error {
	t.Helper()
	n.stopped.Do(func() {
		n.cancel()
		n.waitExited(t, 10*time.Second)
	})
	return n.runErr
}

// waitExited waits for Run to return, at most within, and returns its error.
func (n *node) waitExited(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-n.exited:
		return n.runErr
	case <-time.After(within):
		t.Fatalf("%s: Run did not return within %s", n.name, within)
		return nil
	}
}

// waitReachable polls cli with reads until one succeeds (after a partition
// heals, the first request may find the old connection gone), at most
// within.
func waitReachable(t *testing.T, cli *clientv3.Client, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		_, err := cli.Get(ctx, "health")
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd not reachable within %s: %v", within, err)
		}
		select {
		case <-t.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitWon waits for n's next term, at most within.
func (n *node) waitWon(t *testing.T, within time.Duration) won {
	t.Helper()
	select {
	case w := <-n.won:
		return w
	case <-time.After(within):
		t.Fatalf("%s did not become leader within %s", n.name, within)
		return won{}
	}
}

// waitLost waits for the end of n's term, at most within.
func (n *node) waitLost(t *testing.T, within time.Duration) lostTerm {
	t.Helper()
	select {
	case l := <-n.lost:
		if l.leading {
			t.Errorf("%s: Leading was still true when its lead context ended (%v)", n.name, l.cause)
		}
		return l
	case <-time.After(within):
		t.Fatalf("%s's term did not end within %s", n.name, within)
		return lostTerm{}
	}
}

// gauge is the value of rtkwatchd_ha_leader in n's registry.
func (n *node) gauge(t *testing.T) float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "rtkwatchd_ha_leader" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no rtkwatchd_ha_leader")
	return 0
}

// leaseOf is the lease id in an election key.
func leaseOf(t *testing.T, f Fence) clientv3.LeaseID {
	t.Helper()
	id, err := strconv.ParseInt(f.Key[strings.LastIndex(f.Key, "/")+1:], 16, 64)
	if err != nil {
		t.Fatalf("lease of %s: %v", f.Key, err)
	}
	return clientv3.LeaseID(id)
}
