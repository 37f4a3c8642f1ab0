package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// This file holds what the process tests share: the binary, built once per
// test run; a running daemon child; the config it reads; the daemon's admin
// API; and polling with a deadline. The webhook receiver is in
// process_hook_test.go.

// The fake API's credentials and the signing secret of the process tests.
const (
	procToken     = "proc-test-token-7Hq2Lk9"
	procAccountID = "0123456789abcdef0123456789abcdef"
	procApp       = "proc-app"
	procSecret    = "whsec_cHJvY2Vzcy10ZXN0LXNpZ25pbmcta2V5IQ==" // base64 of 24 bytes
)

// procBuild is the binary built for this run of the test binary.
var procBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary that daemonBinary built, once every test ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if procBuild.dir != "" {
		os.RemoveAll(procBuild.dir)
	}
	os.Exit(code)
}

// daemonBinary builds rtkwatchd once per test run and returns its path. A
// test that calls it runs a process: it is skipped with -short.
func daemonBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rtkwatchd binary; skipped with -short")
	}
	procBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "rtkwatchd-proctest-")
		if err != nil {
			procBuild.err = err
			return
		}
		procBuild.dir = dir
		path := filepath.Join(dir, "rtkwatchd")
		start := time.Now()
		out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
		t.Logf("go build took %s", time.Since(start).Round(time.Millisecond))
		if err != nil {
			procBuild.err = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		procBuild.path = path
	})
	if procBuild.err != nil {
		t.Fatal(procBuild.err)
	}
	return procBuild.path
}

// childEnv is the test's environment without anything that would change
// how the child runs (a systemd socket, a default config), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "RTKWATCHD_CONFIG":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// lockedBuffer is a bytes.Buffer that a child's output and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// daemonProc is a running `rtkwatchd` child process.
type daemonProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  lockedBuffer // stdout (the JSON log) and stderr, interleaved
	done chan struct{}
	err  error // of cmd.Wait, once done is closed
}

// startDaemon starts bin with args and env. The child is killed, if still
// running, when the test ends; its output is logged when the test failed.
func startDaemon(t *testing.T, bin string, env []string, args ...string) *daemonProc {
	t.Helper()
	p := &daemonProc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of rtkwatchd %s (pid %d):\n%s", strings.Join(args, " "), p.cmd.Process.Pid, p.out.String())
		}
	})
	return p
}

// pid is the child's process ID.
func (p *daemonProc) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the child.
func (p *daemonProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("send %v to rtkwatchd: %v", sig, err)
	}
}

// kill ends the child at once (SIGKILL) and waits for it.
func (p *daemonProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exited reports whether the child has ended.
func (p *daemonProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to within for the child to end and returns its exit
// code; it fails the test when the child is still running then.
func (p *daemonProc) waitExit(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.t.Fatalf("rtkwatchd still running %s later", within)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	p.t.Fatalf("wait for rtkwatchd: %v", p.err)
	return -1
}

// logLine is one line of the child's JSON log.
type logLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Error   string `json:"error"`
	State   string `json:"state"` // of an sd_notify failure
}

// logged returns the child's log lines whose message contains msg.
func (p *daemonProc) logged(msg string) []logLine {
	var found []logLine
	sc := bufio.NewScanner(strings.NewReader(p.out.String()))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && strings.Contains(l.Message, msg) {
			found = append(found, l)
		}
	}
	return found
}

// runBinary runs a short command of bin and returns its output and exit
// code; it fails the test when the command takes longer than within.
func runBinary(t *testing.T, bin string, env []string, within time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, code, err := execBinary(bin, env, within, args...)
	if err != nil {
		t.Fatal(err)
	}
	return stdout, stderr, code
}

// execBinary is runBinary for goroutines other than the test's: it returns
// an error where runBinary would fail the test.
func execBinary(bin string, env []string, within time.Duration, args ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		return out.String(), errOut.String(), -1, fmt.Errorf("rtkwatchd %s: still running after %s", strings.Join(args, " "), within)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return out.String(), errOut.String(), -1, fmt.Errorf("rtkwatchd %s: %w", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code, nil
}

// pollUntil checks cond every 20ms until it holds, and fails the test when
// it still does not after within.
func pollUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		<-tick.C
	}
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// procWatch is one watch of a procConfig.
type procWatch struct {
	Name         string
	Meetings     []string
	AllLive      bool
	Participants []int // thresholds; none when empty
}

// procConfig is the config file a daemon child reads.
type procConfig struct {
	APIURL          string
	StorePath       string
	Admin           string // "" disables the admin server
	HookURL         string
	LogLevel        string // default info
	DeliveryTimeout string // default 5s
	RequestsPer5m   int    // default 100000
	Watches         []procWatch
	Extra           string // appended as is, such as an ha section
}

// yaml renders c.
func (c procConfig) yaml() string {
	level, timeout := c.LogLevel, c.DeliveryTimeout
	if level == "" {
		level = "info"
	}
	if timeout == "" {
		timeout = "5s"
	}
	budget := c.RequestsPer5m
	if budget == 0 {
		budget = 100000
	}
	var b strings.Builder
	fmt.Fprintf(&b, "api:\n  account_id: %s\n  token: %s\n  base_url: %s\n  timeout: 5s\n  requests_per_5m: %d\n",
		procAccountID, procToken, c.APIURL, budget)
	fmt.Fprintf(&b, "store:\n  path: %s\n", c.StorePath)
	fmt.Fprintf(&b, "log: {level: %s, format: json}\n", level)
	fmt.Fprintf(&b, "admin: {listen: %q}\n", c.Admin)
	fmt.Fprintf(&b, "notifiers:\n  - name: hook\n    type: webhook\n    url: %s\n    secret: %s\n", c.HookURL, procSecret)
	fmt.Fprintf(&b, "delivery: {timeout: %s, max_attempts: 50, max_age: 1h}\n", timeout)
	b.WriteString("watches:\n")
	for _, w := range c.Watches {
		fmt.Fprintf(&b, "  - name: %s\n    app_id: %s\n    schedule: \"@every 1s\"\n    failing_after: 3\n", w.Name, procApp)
		if len(w.Meetings) > 0 {
			fmt.Fprintf(&b, "    meetings: [%s]\n", strings.Join(w.Meetings, ", "))
		}
		if w.AllLive {
			b.WriteString("    all_live: true\n")
		}
		if len(w.Participants) > 0 {
			s := make([]string, len(w.Participants))
			for i, n := range w.Participants {
				s[i] = fmt.Sprint(n)
			}
			fmt.Fprintf(&b, "    thresholds: {participants: [%s], hysteresis: 0}\n", strings.Join(s, ", "))
		}
	}
	b.WriteString(c.Extra)
	return b.String()
}

// write writes c to path.
func (c procConfig) write(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// adminGet fetches path from a daemon's admin server.
func adminGet(base, path string) (int, []byte, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + base + path)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// waitReady waits for the daemon at admin to answer /readyz with 200.
func waitReady(t *testing.T, admin string) {
	t.Helper()
	pollUntil(t, 15*time.Second, "/readyz 200", func() bool {
		code, _, err := adminGet(admin, "/readyz")
		return err == nil && code == http.StatusOK
	})
}

// pendingDeliveries reads the outbox through the daemon's admin API.
func pendingDeliveries(t *testing.T, admin string) []store.Delivery {
	t.Helper()
	code, b, err := adminGet(admin, "/v1/deliveries")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /v1/deliveries: %d %v %s", code, err, b)
	}
	var list []store.Delivery
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("decode /v1/deliveries: %v", err)
	}
	return list
}

// pendingEvents returns the events of the outbox's deliveries, read through
// the daemon's admin API, sorted by id.
func pendingEvents(t *testing.T, admin string) []diff.Event {
	t.Helper()
	var evs []diff.Event
	for _, d := range pendingDeliveries(t, admin) {
		var ev diff.Event
		if err := json.Unmarshal(d.Body, &ev); err != nil {
			t.Fatalf("pending delivery %d: body is not an event: %v", d.ID, err)
		}
		evs = append(evs, ev)
	}
	slices.SortFunc(evs, func(a, b diff.Event) int { return strings.Compare(a.Data.ID, b.Data.ID) })
	return evs
}
