package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// This file holds how TestLoad measures a child process: its CPU time and
// peak memory from /proc, the requests and connections the fake saw, and
// the daemon's own count of polls from its metrics.

// clockTicks is the kernel's clock ticks per second, in which /proc counts
// CPU time.
var clockTicks = sync.OnceValues(func() (int64, error) {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 0, fmt.Errorf("getconf CLK_TCK: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("getconf CLK_TCK: %q", out)
	}
	return n, nil
})

// loadSample is what a child and the fake had done at one instant.
type loadSample struct {
	at       time.Time
	cpu      time.Duration // the child's user + system time
	hwm      int64         // the child's peak resident set, bytes
	file     int64         // of its resident set now, the pages of mapped files (the binary, the store), bytes
	requests int           // every request the fake received
	conns    int           // connections the fake accepted
	polls    int           // the daemon's rtkwatchd_polls_total; 0 for the minimal poller
	skips    int           // cycles the daemon skipped
}

// sampleProc reads the CPU time and peak resident set of process pid, and
// the fake's counters.
func sampleProc(t *testing.T, pid int, fake *rtkfake.Server) loadSample {
	t.Helper()
	s := loadSample{at: time.Now(), requests: fake.Requests(), conns: fake.Connections()}
	ticks, err := clockTicks()
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%d/stat: %q", pid, stat)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / time.Duration(ticks)
	m := processMemory(t, pid)
	s.hwm, s.file = m.hwm, m.file
	return s
}

// Environment of the load test's profiling mode.
const (
	// loadProfileEnv names the directory for the daemon's profiles.
	loadProfileEnv = "RTKWATCHD_LOAD_PROFILE"
	// loadDaemonEnv gives TestLoadDaemonChild its config file.
	loadDaemonEnv = "RTKWATCHD_LOAD_DAEMON"
	// loadHeapEnv is where TestLoadDaemonChild writes the heap in use
	// loadHeapAfter after it started, within the measuring window.
	loadHeapEnv   = "RTKWATCHD_LOAD_HEAP"
	loadHeapAfter = 25 * time.Second
)

// TestLoadDaemonChild runs `rtkwatchd run` in this test binary, for
// TestLoad's profiling mode, until SIGTERM.
func TestLoadDaemonChild(t *testing.T) {
	path := os.Getenv(loadDaemonEnv)
	if path == "" {
		t.Skip("the profiled daemon of TestLoad; it runs only as TestLoad's child")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	reload, hard := make(chan struct{}, 1), make(chan struct{})
	stop := handleSignals(cancel, reload, hard, true)
	defer stop()
	env := &environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, reload: reload, hardStop: hard}
	if heap := os.Getenv(loadHeapEnv); heap != "" {
		snap := time.AfterFunc(loadHeapAfter, func() {
			f, err := os.Create(heap)
			if err != nil {
				return
			}
			defer f.Close()
			runtime.GC()
			_ = pprof.Lookup("heap").WriteTo(f, 0)
		})
		defer snap.Stop()
	}
	if err := runEnv(ctx, []string{"run", "--config", path}, env); err != nil {
		t.Fatal(err)
	}
}

// loadDaemon is a daemon child under load.
type loadDaemon struct {
	d     *daemonProc
	fake  *rtkfake.Server
	admin string
}

// startLoadDaemon runs the daemon on watches against fake, with a webhook
// receiver that accepts everything, and waits until it is ready. With
// RTKWATCHD_LOAD_PROFILE set to a directory, the daemon runs inside this
// test binary instead (TestLoadDaemonChild), which writes its CPU and heap
// profiles there as <name>.cpu.pprof and <name>.heap.pprof.
func startLoadDaemon(t *testing.T, bin, name string, fake *rtkfake.Server, watches []procWatch) *loadDaemon {
	t.Helper()
	hook := newHookRecorder(t, http.StatusNoContent)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := procConfig{
		APIURL: fake.URL(), StorePath: filepath.Join(dir, "state.db"), HookURL: hook.URL(),
		Admin: freeLoopbackAddr(t), Watches: watches, RequestsPer5m: 2_000_000,
	}
	cfg.write(t, path)
	env, args := childEnv(), []string{"run", "--config", path}
	if dir := os.Getenv(loadProfileEnv); dir != "" {
		bin, args = os.Args[0], []string{"-test.run=^TestLoadDaemonChild$",
			"-test.cpuprofile=" + filepath.Join(dir, name+".cpu.pprof"),
			"-test.memprofile=" + filepath.Join(dir, name+".heap.pprof")}
		env = append(env, loadDaemonEnv+"="+path, loadHeapEnv+"="+filepath.Join(dir, name+".inuse.pprof"))
	}
	l := &loadDaemon{d: startDaemon(t, bin, env, args...), fake: fake, admin: cfg.Admin}
	waitReady(t, cfg.Admin)
	return l
}

func (l *loadDaemon) stop(t *testing.T) {
	t.Helper()
	l.d.signal(syscall.SIGTERM)
	if code := l.d.waitExit(30 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// sample samples the daemon now.
func (l *loadDaemon) sample(t *testing.T) loadSample {
	t.Helper()
	s := sampleProc(t, l.d.pid(), l.fake)
	s.polls, s.skips = l.polls(t), len(l.d.logged("previous cycle still running"))
	return s
}

// sampleBetweenCycles samples once the next cycle of a watch that reads
// the sessions list has made its requests and the fake has heard nothing
// for 200 ms: between two cycles, at the same point of each, so that a
// window holds whole cycles. It watches the fake, not the daemon, whose
// metrics it would cost CPU to read.
func (l *loadDaemon) sampleBetweenCycles(t *testing.T) loadSample {
	t.Helper()
	from := l.fake.Requests()
	pollUntil(t, 10*time.Second, "the next cycle", func() bool { return l.fake.Requests() > from })
	last, quiet := l.fake.Requests(), time.Now()
	pollUntil(t, 10*time.Second, "the end of the cycle's requests", func() bool {
		if n := l.fake.Requests(); n != last {
			last, quiet = n, time.Now()
		}
		return time.Since(quiet) >= 200*time.Millisecond
	})
	return l.sample(t)
}

// memory describes the daemon's memory now, from the Go runtime's own
// metrics: what its resident set is made of.
func (l *loadDaemon) memory(t *testing.T) string {
	t.Helper()
	code, body, err := adminGet(l.admin, "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	names := []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
		"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "process_resident_memory_bytes", "go_goroutines"}
	var parts []string
	for line := range strings.Lines(string(body)) {
		for _, n := range names {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), n+" "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				if n == "go_goroutines" {
					parts = append(parts, fmt.Sprintf("%s %.0f", n, f))
				} else {
					parts = append(parts, fmt.Sprintf("%s %.1f MiB", strings.TrimPrefix(n, "go_memstats_"), f/(1<<20)))
				}
			}
		}
	}
	m := processMemory(t, l.d.pid())
	parts = append(parts, fmt.Sprintf("RSS %.1f MiB, of which anonymous %.1f MiB (the rest: pages of the binary and of the store file)",
		float64(m.rss)/(1<<20), float64(m.anon)/(1<<20)))
	return strings.Join(parts, ", ")
}

// polls sums rtkwatchd_polls_total over every watch and outcome.
func (l *loadDaemon) polls(t *testing.T) int {
	t.Helper()
	code, body, err := adminGet(l.admin, "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	n := 0.0
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, "rtkwatchd_polls_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("parse metric line %q: %v", line, err)
		}
		n += v
	}
	return int(n)
}

// loadFigures are what a run did between two samples.
type loadFigures struct {
	name     string
	wall     time.Duration
	cpu      time.Duration
	requests int
	observed int // meetings observed
	conns    int // new connections
	hwm      int64
	file     int64 // pages of mapped files in the resident set at the end
	cycles   int   // the daemon's polls, for a list watch its cycles
	skips    int
}

func measure(name string, a, b loadSample) loadFigures {
	return loadFigures{
		name: name, wall: b.at.Sub(a.at), cpu: b.cpu - a.cpu,
		requests: b.requests - a.requests, conns: b.conns - a.conns, hwm: b.hwm, file: b.file,
		cycles: b.polls - a.polls, skips: b.skips - a.skips,
	}
}

// perRequest is the CPU time per request, in µs.
func (f loadFigures) perRequest() float64 { return micros(f.cpu, f.requests) }

// perMeeting is the CPU time per meeting observed, in µs.
func (f loadFigures) perMeeting() float64 { return micros(f.cpu, f.observed) }

func (f loadFigures) rssMiB() float64 { return float64(f.hwm) / (1 << 20) }

// fileMiB is the part of the resident set at the end of the window that
// is pages of mapped files, in MiB: the binary's (those near any code or
// data that ran, every imported package's init included) and the store
// file's. It grows during a run, so the peak less it understates what was
// anonymous at the peak.
func (f loadFigures) fileMiB() float64 { return float64(f.file) / (1 << 20) }

func (f loadFigures) perSecond(n int) float64 { return float64(n) / f.wall.Seconds() }

func micros(d time.Duration, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1e3 / float64(n)
}
