package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// These tests run two rtkwatchd nodes as processes on one real etcd (SPEC
// §11), against the fake API and a recording receiver.

// The timing of the ha process tests: the leader's lease and the watches'
// poll interval (procConfig polls every second).
const (
	haLeaseTTL     = 2 * time.Second
	haPollInterval = time.Second
)

// haNode is one rtkwatchd node of an haRig.
type haNode struct {
	name  string
	path  string // its config file
	admin string
	proxy *etcdtest.Proxy // between it and etcd
	proc  *daemonProc
}

// haRig is a procRig with an etcd server and two nodes sharing it, each
// reaching etcd through its own proxy.
type haRig struct {
	*procRig
	etcd  *etcdtest.Server
	nodes []*haNode
}

// newHARig prepares two nodes watching meeting m1 with no thresholds, so
// that each change of the fake (a session starts, a session ends) is one
// event.
func newHARig(t *testing.T) *haRig {
	t.Helper()
	srv := etcdtest.Start(t)
	r := &haRig{procRig: newProcRig(t, http.StatusNoContent, procWatch{Name: "ha", Meetings: []string{"m1"}}), etcd: srv}
	for _, name := range []string{"a", "b"} {
		n := &haNode{name: name, path: filepath.Join(r.dir, name+".yaml"), admin: freeLoopbackAddr(t)}
		n.proxy = etcdtest.NewProxy(t, strings.TrimPrefix(srv.Endpoint, "http://"))
		r.nodes = append(r.nodes, n)
		r.writeConfig(n, r.cfg.Watches)
	}
	return r
}

// writeConfig writes n's config file with watches.
func (r *haRig) writeConfig(n *haNode, watches []procWatch) {
	r.t.Helper()
	cfg := r.cfg
	cfg.Admin = n.admin
	cfg.StorePath = filepath.Join(r.dir, n.name+".db") // unused under ha
	cfg.Watches = watches
	cfg.Extra = fmt.Sprintf("ha:\n  etcd:\n    endpoints: [http://%s]\n    prefix: /rtkwatchd/test/\n    lease_ttl: %s\n    dial_timeout: 5s\n",
		n.proxy.Addr, haLeaseTTL)
	cfg.write(r.t, n.path)
}

// start runs node n.
func (r *haRig) start(n *haNode) {
	r.t.Helper()
	n.proc = startDaemon(r.t, r.bin, childEnv(), "run", "--config", n.path)
}

// leading reports whether n's /metrics says it leads.
func leading(n *haNode) bool {
	code, b, err := adminGet(n.admin, "/metrics")
	return err == nil && code == http.StatusOK && strings.Contains(string(b), "\nrtkwatchd_ha_leader 1\n")
}

// leader waits until exactly one node leads, and returns it.
func (r *haRig) leader(within time.Duration) *haNode {
	r.t.Helper()
	var l *haNode
	pollUntil(r.t, within, "one leader", func() bool {
		l = nil
		for _, n := range r.nodes {
			if n.proc != nil && !n.proc.exited() && leading(n) {
				if l != nil {
					return false
				}
				l = n
			}
		}
		return l != nil
	})
	return l
}

// other returns the node that is not n.
func (r *haRig) other(n *haNode) *haNode {
	if r.nodes[0] == n {
		return r.nodes[1]
	}
	return r.nodes[0]
}

// flip starts m1's session when none is live and ends it otherwise: one
// event either way. It returns the event's type.
func (r *haRig) flip(live *bool) string {
	*live = !*live
	if *live {
		r.startSession("m1", 3)()
		return diff.TypeSessionStarted
	}
	r.endSession("m1")()
	return diff.TypeSessionEnded
}

// waitDelivered waits until n distinct events were delivered.
func (r *haRig) waitDelivered(n int, within time.Duration) {
	r.t.Helper()
	pollUntil(r.t, within, fmt.Sprintf("%d events delivered", n), func() bool { return len(r.hook.delivered()) >= n })
}

// haKills is how many times TestProcessHAFailover kills the leader: 3, or
// RTKWATCHD_HA_KILLS for a measurement.
func haKills(t *testing.T) int {
	if s := os.Getenv("RTKWATCHD_HA_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("RTKWATCHD_HA_KILLS=%q: want a positive number", s)
		}
		return n
	}
	return 3
}

// TestProcessHAFailover kills the leader (SIGKILL) during a stream of
// transitions, again and again, restarting each killed node as a follower:
// the other node takes over within lease_ttl plus one poll interval (and
// a margin for a loaded machine), no event is lost, none arrives under a
// second id, sequences continue across leaders, and `state` and
// `deliveries` read the same from either node.
func TestProcessHAFailover(t *testing.T) {
	t.Parallel()
	r := newHARig(t)
	a, b := r.nodes[0], r.nodes[1]
	r.start(a)
	if l := r.leader(15 * time.Second); l != a {
		t.Fatalf("leader %s, want a, the only node", l.name)
	}
	r.start(b)
	waitReady(t, b.admin)
	r.waitPolls(2, "m1") // the baseline: no session

	live, want := false, []string{}
	step := func() {
		want = append(want, r.flip(&live))
		r.waitDelivered(len(want), 15*time.Second)
	}
	step()
	bound := haLeaseTTL + haPollInterval
	margin := 3 * time.Second // a loaded machine: the process tests run in parallel
	var takeovers, deliveries []time.Duration
	for range haKills(t) {
		step()
		old := r.leader(10 * time.Second)
		next := r.other(old)
		want = append(want, r.flip(&live)) // in flight at the kill: maybe polled, maybe not
		old.proc.signal(syscall.SIGKILL)
		killed := time.Now()
		old.proc.waitExit(5 * time.Second)
		if l := r.leader(bound + margin + 10*time.Second); l != next {
			t.Fatalf("after the kill of %s the leader is %s", old.name, l.name)
		}
		takeovers = append(takeovers, time.Since(killed))
		r.waitDelivered(len(want), bound+margin+10*time.Second)
		deliveries = append(deliveries, time.Since(killed))
		r.start(old) // back as a follower
		waitReady(t, old.admin)
	}
	step()
	t.Logf("takeover after the kill (leader metric): %s", summary(takeovers))
	t.Logf("the change made at the kill delivered after: %s", summary(deliveries))
	for i, d := range takeovers {
		if d > bound+margin {
			t.Errorf("kill %d: the other node led after %s, want within %s (lease_ttl + one poll interval) + %s", i+1, d, bound, margin)
		}
	}

	got := transitionsByMeeting(t, r.hook.delivered()) // checks sequences 1, 2, 3…
	if !slices.Equal(got["m1"], want) {
		t.Errorf("delivered transitions of m1:\n got %v\nwant %v", got["m1"], want)
	}
	all := r.hook.all()
	checkAttempts(t, all) // one id per transition: nothing re-id'd
	if n := len(idTypes(all)); n != len(want) {
		t.Errorf("%d distinct event ids at the receiver, want %d (lost or re-id'd events)", n, len(want))
	}

	// Either node reads the same state, history and outbox from etcd.
	var states, histories []string
	for _, n := range r.nodes {
		out, errOut, code := runBinary(t, r.bin, childEnv(), 20*time.Second, "state", "--config", n.path)
		if code != 0 {
			t.Fatalf("state on node %s: exit %d: %s", n.name, code, errOut)
		}
		states = append(states, out)
		out, errOut, code = runBinary(t, r.bin, childEnv(), 20*time.Second, "events", "--config", n.path)
		if code != 0 {
			t.Fatalf("events on node %s: exit %d: %s", n.name, code, errOut)
		}
		histories = append(histories, out)
		if _, errOut, code := runBinary(t, r.bin, childEnv(), 20*time.Second, "deliveries", "--failed", "--config", n.path); code != 0 {
			t.Errorf("deliveries on node %s: exit %d: %s", n.name, code, errOut)
		}
	}
	// The leader polls between the two reads: compare all but the time of
	// the last good poll.
	for i := range states {
		states[i] = pollTime.ReplaceAllString(states[i], "<time>")
	}
	if states[0] != states[1] || !strings.Contains(states[0], "m1") {
		t.Errorf("state differs between the nodes, or lacks m1:\n%s\n---\n%s", states[0], states[1])
	}
	if histories[0] != histories[1] || strings.Count(histories[0], diff.TypeSessionStarted) != strings.Count(strings.Join(want, " "), diff.TypeSessionStarted) {
		t.Errorf("events differ between the nodes, or miss some of %v:\n%s\n---\n%s", want, histories[0], histories[1])
	}

	// Only the leader writes: a retry asks the node's own daemon, which
	// requeues only while it leads.
	l := r.leader(10 * time.Second)
	if _, errOut, code := runBinary(t, r.bin, childEnv(), 20*time.Second, "deliveries", "retry", "--all", "--config", r.other(l).path); code == 0 || !strings.Contains(errOut, "does not lead") {
		t.Errorf("deliveries retry on the follower: exit %d, %q; want a refusal saying it does not lead", code, errOut)
	}
	if out, errOut, code := runBinary(t, r.bin, childEnv(), 20*time.Second, "deliveries", "retry", "--all", "--config", l.path); code != 0 || !strings.Contains(out, "queued 0") {
		t.Errorf("deliveries retry on the leader: exit %d, %q %q; want 0 queued", code, out, errOut)
	}
}

// TestProcessHAPartition cuts the leader off from etcd: it stops leading
// no later than its lease expires, the other node takes over and delivers
// the next transition, and once the partition heals the old leader stays
// a follower; nothing is delivered twice under two ids.
func TestProcessHAPartition(t *testing.T) {
	t.Parallel()
	r := newHARig(t)
	for _, n := range r.nodes {
		r.start(n)
		waitReady(t, n.admin)
	}
	r.waitPolls(2, "m1")
	live, want := false, []string{}
	want = append(want, r.flip(&live))
	r.waitDelivered(len(want), 15*time.Second)

	old := r.leader(10 * time.Second)
	next := r.other(old)
	old.proxy.Cut()
	cut := time.Now()
	// The cut-off node's /metrics waits for etcd (the outbox depth), so
	// ask only the other one.
	pollUntil(t, haLeaseTTL+haPollInterval+10*time.Second, "the other node to lead", func() bool { return leading(next) })
	t.Logf("the other node led %s after the cut", time.Since(cut))
	pollUntil(t, 10*time.Second, "the cut-off node to stop leading", func() bool {
		return len(old.proc.logged("ha: the term ended; stopping polls and deliveries now")) > 0
	})
	want = append(want, r.flip(&live))
	r.waitDelivered(len(want), 15*time.Second)

	old.proxy.Heal()
	waitReady(t, old.admin)
	want = append(want, r.flip(&live))
	r.waitDelivered(len(want), 15*time.Second)
	if leading(old) {
		t.Errorf("node %s leads again after the heal, while %s leads", old.name, next.name)
	}
	got := transitionsByMeeting(t, r.hook.delivered())
	if !slices.Equal(got["m1"], want) {
		t.Errorf("delivered transitions of m1:\n got %v\nwant %v", got["m1"], want)
	}
	all := r.hook.all()
	checkAttempts(t, all)
	if n := len(idTypes(all)); n != len(want) {
		t.Errorf("%d distinct event ids at the receiver, want %d", n, len(want))
	}
}

// TestProcessHAReload reloads a follower with a config that adds a watch:
// it runs nothing until it leads, and then the new watch.
func TestProcessHAReload(t *testing.T) {
	t.Parallel()
	r := newHARig(t)
	a, b := r.nodes[0], r.nodes[1]
	r.start(a)
	if l := r.leader(15 * time.Second); l != a {
		t.Fatalf("leader %s, want a", l.name)
	}
	r.start(b)
	waitReady(t, b.admin)
	r.writeConfig(b, append(r.cfg.Watches, procWatch{Name: "extra", Meetings: []string{"m2"}}))
	b.proc.signal(syscall.SIGHUP)
	pollUntil(t, 10*time.Second, "the follower's reload", func() bool {
		return len(b.proc.logged("config reloaded; it runs when this node leads")) > 0
	})
	if n := r.polls("m2"); n != 0 {
		t.Fatalf("m2 polled %d times while its node follows", n)
	}
	a.proc.signal(syscall.SIGKILL)
	if l := r.leader(haLeaseTTL + 10*time.Second); l != b {
		t.Fatalf("leader after the kill: %s, want b", l.name)
	}
	r.waitPolls(2, "m1", "m2")
}

// pollTime matches the times in `state`'s output.
var pollTime = regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+Z`)

// summary is the min, median and max of ds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return "none"
	}
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	return fmt.Sprintf("n=%d min %s median %s max %s", len(s), r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]))
}
