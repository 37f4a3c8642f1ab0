package ha

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// The failover test runs each node as a process (this test binary, run
// again with helperEndpoint set) so that it can kill -9 the leader.
const (
	helperEndpoint = "RTKWATCHD_HA_HELPER_ENDPOINT"
	helperName     = "RTKWATCHD_HA_HELPER_NAME"
	helperTTL      = "RTKWATCHD_HA_HELPER_TTL"
)

func TestMain(m *testing.M) {
	if ep := os.Getenv(helperEndpoint); ep != "" {
		os.Exit(helperNode(ep, os.Getenv(helperName), os.Getenv(helperTTL)))
	}
	os.Exit(m.Run())
}

// helperNode is the body of a node process: it campaigns until SIGTERM and
// prints "leading <unix ns>" when it becomes leader, "lost <cause>" when its
// term ends.
func helperNode(endpoint, name, ttl string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	leaseTTL, err := time.ParseDuration(ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cli, err := Connect(ctx, Options{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cli.Close()
	e, err := NewElector(cli, ElectorOptions{Prefix: testPrefix, Name: name, LeaseTTL: leaseTTL, Logger: zerolog.New(os.Stderr)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	err = e.Run(ctx, func(ctx context.Context, f Fence) error {
		fmt.Printf("leading %d\n", time.Now().UnixNano())
		<-ctx.Done()
		fmt.Printf("lost %v\n", context.Cause(ctx))
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// procNode is a node process and the times it said it became leader.
type procNode struct {
	name    string
	cmd     *exec.Cmd
	leading chan time.Time
}

func startProcNode(t *testing.T, endpoint, name string, ttl time.Duration) *procNode {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEndpoint+"="+endpoint, helperName+"="+name, helperTTL+"="+ttl.String())
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &procNode{name: name, cmd: cmd, leading: make(chan time.Time, 4)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if ns, ok := strings.CutPrefix(sc.Text(), "leading "); ok {
				v, _ := strconv.ParseInt(ns, 10, 64)
				n.leading <- time.Unix(0, v)
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s's log:\n%s", name, b)
		}
	})
	return n
}

// TestFailoverAfterKill kills -9 the leader process, round after round, and
// measures how long until the follower leads. Each must be within the
// lease TTL (plus the slack of the server's 500 ms expiry sweep and of a
// busy machine). RTKWATCHD_FAILOVER_ROUNDS (default 3) and
// RTKWATCHD_FAILOVER_TTL (default 1s) change the rounds and the lease:
//
//	RTKWATCHD_FAILOVER_ROUNDS=20 go test -run TestFailoverAfterKill -v ./internal/ha/
func TestFailoverAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes; skipped with -short")
	}
	t.Parallel()
	rounds, ttl := 3, time.Second
	if v := os.Getenv("RTKWATCHD_FAILOVER_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RTKWATCHD_FAILOVER_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	if v := os.Getenv("RTKWATCHD_FAILOVER_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("RTKWATCHD_FAILOVER_TTL=%q: %v", v, err)
		}
		ttl = d
	}
	s := etcdtest.Start(t)
	admin := connect(t, s.Endpoint)
	leader := startProcNode(t, s.Endpoint, "node-0", ttl)
	select {
	case <-leader.leading:
	case <-time.After(30 * time.Second):
		t.Fatal("the first node did not lead within 30s")
	}
	var times []time.Duration
	for i := 1; i <= rounds; i++ {
		follower := startProcNode(t, s.Endpoint, fmt.Sprintf("node-%d", i), ttl)
		waitCandidates(t, admin, 2)
		killed := time.Now()
		if err := leader.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-follower.leading:
			took := at.Sub(killed)
			times = append(times, took)
			if took > ttl+slack {
				t.Errorf("round %d: %s led %s after %s was killed; lease TTL %s", i, follower.name, took, leader.name, ttl)
			}
		case <-time.After(ttl + 10*time.Second):
			t.Fatalf("round %d: %s did not lead within %s of the kill", i, follower.name, ttl+10*time.Second)
		}
		leader = follower
	}
	slices.Sort(times)
	t.Logf("failover after kill -9, lease TTL %s, %d rounds: min %s, median %s, max %s",
		ttl, len(times), times[0].Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
}
