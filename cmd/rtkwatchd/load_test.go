package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// Load targets: CPU per meeting observation, and peak resident memory.
const (
	loadMaxMicrosPerPoll = 150
	loadMaxHWM           = 64 << 20
)

// TestLoad runs the daemon against many meetings and reports whether it
// keeps up with a one-second schedule, its CPU time per meeting observed
// and its peak memory. It takes about a minute, so it runs only on request.
func TestLoad(t *testing.T) {
	if os.Getenv("RTKWATCHD_LOAD") != "1" {
		t.Skip("load test; run it with: RTKWATCHD_LOAD=1 go test -run TestLoad -v ./cmd/rtkwatchd/")
	}
	bin := daemonBinary(t)
	t.Run("explicit_2000", func(t *testing.T) { testLoadExplicit(t, bin) })
	t.Run("all_live_3000", func(t *testing.T) { testLoadAllLive(t, bin) })
}

// testLoadExplicit polls 2,000 explicit meetings, about half of them live
// with changing counts, every second for 30 s.
func testLoadExplicit(t *testing.T, bin string) {
	const meetings, window = 2000, 30 * time.Second
	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	ids := make([]string, meetings)
	var live []string
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%04d", i)
		if i%2 == 0 || i%97 == 1 { // 1,000 + a few: the last page is short
			live = append(live, ids[i])
			fake.StartSession(procApp, ids[i], rtkfake.Session{LiveParticipants: 1 + i%40, MinutesConsumed: 1})
		}
	}
	pages := len(live)/100 + 1
	churn := startChurn(t, fake, live)

	l := startLoadDaemon(t, bin, fake, procWatch{Name: "load", Meetings: ids, Participants: []int{50}})
	pollUntil(t, 30*time.Second, "three cycles", func() bool { return l.cycles(t) >= 3 })
	before := l.sampleAfterCycle(t)
	deadline := time.Now().Add(window)
	pollUntil(t, window+10*time.Second, "the end of the measuring window", func() bool { return time.Now().After(deadline) })
	after := l.sampleAfterCycle(t)
	churn()

	m := measure(t, before, after)
	t.Logf("%d meetings (%d live, %d pages per cycle), %s: %d cycles (%.2f/s), %d skipped, %d list requests (%.1f per cycle)",
		meetings, len(live), pages, m.wall.Round(time.Millisecond), m.cycles, m.cyclesPerSec, m.skips, m.requests, m.requestsPerCycle)
	perPoll := m.cpu / time.Duration(m.cycles*meetings)
	t.Logf("CPU %s (%.0f%% of one core): %.1f µs per meeting observation; peak RSS (VmHWM) %.1f MiB",
		m.cpu, 100*m.cpu.Seconds()/m.wall.Seconds(), float64(perPoll.Nanoseconds())/1e3, float64(after.hwm)/(1<<20))
	if m.cyclesPerSec < 0.9 || m.skips > 0 {
		t.Errorf("does not keep up with @every 1s: %.2f cycles/s, %d skipped", m.cyclesPerSec, m.skips)
	}
	if m.requestsPerCycle > float64(pages)+0.5 {
		t.Errorf("%.1f list requests per cycle, want %d", m.requestsPerCycle, pages)
	}
	if perPoll > loadMaxMicrosPerPoll*time.Microsecond {
		t.Errorf("%s CPU per meeting observation, want at most %d µs", perPoll, loadMaxMicrosPerPoll)
	}
	if after.hwm > loadMaxHWM {
		t.Errorf("peak RSS %.1f MiB, want at most %d MiB", float64(after.hwm)/(1<<20), loadMaxHWM>>20)
	}
	l.stop(t)
}

// testLoadAllLive watches every live session of an app holding 3,000.
func testLoadAllLive(t *testing.T, bin string) {
	const sessions, window = 3000, 15 * time.Second
	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	live := make([]string, sessions)
	for i := range live {
		live[i] = fmt.Sprintf("all-%04d", i)
		fake.StartSession(procApp, live[i], rtkfake.Session{LiveParticipants: 1 + i%40, MinutesConsumed: 1})
	}
	churn := startChurn(t, fake, live)

	l := startLoadDaemon(t, bin, fake, procWatch{Name: "all", AllLive: true, Participants: []int{50}})
	pollUntil(t, 30*time.Second, "three cycles", func() bool { return l.cycles(t) >= 3 })
	before := l.sampleAfterCycle(t)
	deadline := time.Now().Add(window)
	pollUntil(t, window+10*time.Second, "the end of the measuring window", func() bool { return time.Now().After(deadline) })
	after := l.sampleAfterCycle(t)
	churn()

	m := measure(t, before, after)
	perPoll := m.cpu / time.Duration(m.cycles*sessions)
	t.Logf("all_live over %d live sessions, %s: %d cycles (%.2f/s), %d skipped, %.1f list requests per cycle (ceil(%d/100) = %d pages: total_count says when the list ends)",
		sessions, m.wall.Round(time.Millisecond), m.cycles, m.cyclesPerSec, m.skips, m.requestsPerCycle, sessions, (sessions+99)/100)
	t.Logf("CPU %s: %.1f µs per session observation; peak RSS (VmHWM) %.1f MiB",
		m.cpu, float64(perPoll.Nanoseconds())/1e3, float64(after.hwm)/(1<<20))
	if want := float64((sessions + 99) / 100); m.requestsPerCycle > want+0.5 || m.requestsPerCycle < want-0.5 {
		t.Errorf("%.1f list requests per cycle, want %.0f", m.requestsPerCycle, want)
	}
	if m.cyclesPerSec < 0.9 || m.skips > 0 {
		t.Errorf("does not keep up with @every 1s: %.2f cycles/s, %d skipped", m.cyclesPerSec, m.skips)
	}
	l.stop(t)
}

// startChurn changes the participant counts of live sessions, about a
// thousand changes a second, until the returned func is called.
func startChurn(t *testing.T, fake *rtkfake.Server, live []string) (stop func()) {
	t.Helper()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for range 100 {
				id := live[rand.IntN(len(live))]
				fake.UpdateSession(procApp, id, func(s *rtkfake.Session) {
					s.LiveParticipants = 1 + rand.IntN(45)
					s.MinutesConsumed += 0.5
				})
			}
		}
	}()
	var once bool
	stop = func() {
		if !once {
			once = true
			close(done)
			<-stopped
		}
	}
	t.Cleanup(stop)
	return stop
}

// loadDaemon is a daemon child under load, with what it is measured by.
type loadDaemon struct {
	d     *daemonProc
	fake  *rtkfake.Server
	ticks int64 // clock ticks per second
	admin string
	watch string
}

func startLoadDaemon(t *testing.T, bin string, fake *rtkfake.Server, w procWatch) *loadDaemon {
	t.Helper()
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		t.Fatalf("getconf CLK_TCK: %v", err)
	}
	ticks, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || ticks <= 0 {
		t.Fatalf("getconf CLK_TCK: %q", out)
	}
	hook := newHookRecorder(t, http.StatusNoContent)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := procConfig{
		APIURL: fake.URL(), StorePath: filepath.Join(dir, "state.db"), HookURL: hook.URL(),
		Admin: freeLoopbackAddr(t), Watches: []procWatch{w},
	}
	cfg.write(t, path)
	l := &loadDaemon{d: startDaemon(t, bin, childEnv(), "run", "--config", path), fake: fake, ticks: ticks, admin: cfg.Admin, watch: w.Name}
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

// loadSample is what the daemon had done at one instant.
type loadSample struct {
	at       time.Time
	cpu      time.Duration // user + system
	hwm      int64         // peak resident set, bytes
	cycles   int
	skips    int
	requests int // sessions-list requests
}

// sampleAfterCycle samples as soon as the next cycle is done, between two
// cycles, so that the request count holds whole cycles only.
func (l *loadDaemon) sampleAfterCycle(t *testing.T) loadSample {
	t.Helper()
	from := l.cycles(t)
	pollUntil(t, 10*time.Second, "the next cycle", func() bool { return l.cycles(t) > from })
	return l.sample(t)
}

func (l *loadDaemon) sample(t *testing.T) loadSample {
	t.Helper()
	s := loadSample{at: time.Now(), requests: l.fake.SessionsRequests(procApp)}
	s.cycles, s.skips = l.cycles(t), len(l.d.logged("previous cycle still running"))
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", l.d.pid()))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%d/stat: %q", l.d.pid(), stat)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / time.Duration(l.ticks)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.d.pid()))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse VmHWM %q: %v", line, err)
			}
			s.hwm = kb << 10
		}
	}
	return s
}

// cycles counts the cycles of the watch so far. Both watches read the
// sessions list, which the poller observes once per cycle, so the polls the
// daemon's metrics count for the watch are its cycles.
func (l *loadDaemon) cycles(t *testing.T) int {
	t.Helper()
	code, body, err := adminGet(l.admin, "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	n := 0.0
	prefix := "rtkwatchd_polls_total{"
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, prefix) || !strings.Contains(line, `watch="`+l.watch+`"`) {
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

// loadFigures are the differences between two samples.
type loadFigures struct {
	wall             time.Duration
	cpu              time.Duration
	cycles, skips    int
	requests         int
	cyclesPerSec     float64
	requestsPerCycle float64
}

func measure(t *testing.T, a, b loadSample) loadFigures {
	t.Helper()
	m := loadFigures{
		wall: b.at.Sub(a.at), cpu: b.cpu - a.cpu,
		cycles: b.cycles - a.cycles, skips: b.skips - a.skips, requests: b.requests - a.requests,
	}
	if m.cycles <= 0 {
		t.Fatalf("no cycle in %s", m.wall)
	}
	m.cyclesPerSec = float64(m.cycles) / m.wall.Seconds()
	if m.cyclesPerSec > 1.5 {
		t.Fatalf("%d cycles in %s on a one-second schedule: rtkwatchd_polls_total no longer counts one list read per cycle", m.cycles, m.wall)
	}
	m.requestsPerCycle = float64(m.requests) / float64(m.cycles)
	return m
}
