package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// notifySocket is a unixgram socket that plays systemd's side of the
// sd_notify protocol: it records every datagram the daemon sends.
type notifySocket struct {
	path string
	conn *net.UnixConn

	mu   sync.Mutex
	msgs []string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 90 { // sun_path holds 108 bytes
		var err error
		if dir, err = os.MkdirTemp("", "sd"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	s := &notifySocket{path: filepath.Join(dir, "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				s.mu.Lock()
				s.msgs = append(s.msgs, line)
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return s
}

// messages returns the datagrams so far, in order.
func (s *notifySocket) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// count returns how many datagrams were msg.
func (s *notifySocket) count(msg string) int {
	n := 0
	for _, m := range s.messages() {
		if m == msg {
			n++
		}
	}
	return n
}

// states returns the datagrams other than watchdog pings.
func (s *notifySocket) states() []string {
	return slices.DeleteFunc(s.messages(), func(m string) bool { return m == "WATCHDOG=1" })
}

// TestSystemdNotify runs the daemon as systemd's Type=notify would, with a
// notify socket and a 2 s watchdog: it says READY=1 once it polls, pings
// the watchdog, says RELOADING=1 and READY=1 around a reload, and
// STOPPING=1 on SIGTERM before it exits 0.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	r := newProcRig(t, http.StatusNoContent, procWatch{Name: "notify", Meetings: []string{"m1"}})
	sock := newNotifySocket(t)
	r.extEnv = []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=2000000"}
	d := r.start()

	pollUntil(t, 15*time.Second, "READY=1", func() bool { return sock.count("READY=1") == 1 })
	waitReady(t, r.admin)
	pollUntil(t, 10*time.Second, "two watchdog pings", func() bool { return sock.count("WATCHDOG=1") >= 2 })

	d.signal(syscall.SIGHUP)
	pollUntil(t, 10*time.Second, "READY=1 after the reload", func() bool { return sock.count("READY=1") == 2 })
	pings := sock.count("WATCHDOG=1")
	pollUntil(t, 10*time.Second, "watchdog pings after the reload", func() bool { return sock.count("WATCHDOG=1") >= pings+2 })

	d.signal(syscall.SIGTERM)
	if code := d.waitExit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	want := []string{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}
	if diff := cmp.Diff(want, sock.states()); diff != "" {
		t.Errorf("notify messages other than WATCHDOG=1 (-want +got):\n%s", diff)
	}
	if n := len(d.logged("config reloaded")); n != 1 {
		t.Errorf("%d \"config reloaded\" log lines, want 1", n)
	}
}

// exposureRE finds the verdict of `systemd-analyze security`.
var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+\.[0-9]+)`)

// TestSystemdUnitAnalyze checks the shipped unit with systemd's own tools:
// `systemd-analyze verify` accepts it, and `systemd-analyze security` rates
// its exposure at 2.5 or less.
func TestSystemdUnitAnalyze(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not on PATH")
	}
	bin := daemonBinary(t)
	unit, err := os.ReadFile("../../systemd/rtkwatchd.service")
	if err != nil {
		t.Fatal(err)
	}
	// The unit names /usr/local/bin/rtkwatchd, which verify insists exists.
	text := string(unit)
	for _, key := range []string{"ExecStartPre=", "ExecStart=", "ExecReload="} {
		if !strings.Contains(text, key+"/usr/local/bin/rtkwatchd ") {
			t.Fatalf("the unit has no %s/usr/local/bin/rtkwatchd line", key)
		}
		text = strings.ReplaceAll(text, key+"/usr/local/bin/rtkwatchd ", key+bin+" ")
	}
	path := filepath.Join(t.TempDir(), "rtkwatchd.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("verify", func(t *testing.T) {
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Logf("systemd-analyze verify says:\n%s", s)
		}
	})
	t.Run("security", func(t *testing.T) {
		out, err := exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security: %v\n%s", err, out)
		}
		m := exposureRE.FindSubmatch(out)
		if m == nil {
			t.Fatalf("no overall exposure level in:\n%s", out)
		}
		level, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("overall exposure level %.1f", level)
		if level > 2.5 {
			t.Errorf("overall exposure level %.1f, want at most 2.5:\n%s", level, out)
		}
	})
}

// TestSystemdNotifyFailures: a notify socket that is not there, or a
// watchdog setting that does not parse, is logged rather than ignored,
// and the daemon runs on.
func TestSystemdNotifyFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  func(dir string) []string
		want func(d *daemonProc) bool
	}{
		{
			name: "no socket",
			env: func(dir string) []string {
				return []string{"NOTIFY_SOCKET=" + filepath.Join(dir, "absent.sock"), "WATCHDOG_USEC=2000000"}
			},
			want: func(d *daemonProc) bool {
				states := map[string]bool{}
				for _, l := range d.logged("sd_notify") {
					if l.Level == "error" && l.Error != "" {
						states[l.State] = true
					}
				}
				return states["READY=1"] && states["WATCHDOG=1"]
			},
		},
		{
			name: "bad watchdog setting",
			env: func(dir string) []string {
				return []string{"NOTIFY_SOCKET=" + filepath.Join(dir, "absent.sock"), "WATCHDOG_USEC=soon"}
			},
			want: func(d *daemonProc) bool {
				l := d.logged("sd_notify: the watchdog stays off")
				return len(l) == 1 && l[0].Level == "error" && l[0].Error != ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newProcRig(t, http.StatusNoContent, procWatch{Name: "notify", Meetings: []string{"m1"}})
			r.extEnv = tt.env(r.dir)
			d := r.start()
			waitReady(t, r.admin)
			pollUntil(t, 10*time.Second, "the sd_notify failures in the log", func() bool { return tt.want(d) })
			d.signal(syscall.SIGTERM)
			if code := d.waitExit(15 * time.Second); code != 0 {
				t.Errorf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}

// TestSystemdUnitGivesUp: a daemon that fails at every start (a damaged
// store) is restarted RestartSec apart, so the unit reaches its start
// limit, and stops restarting, only if StartLimitBurst restarts fit in
// StartLimitIntervalSec.
func TestSystemdUnitGivesUp(t *testing.T) {
	unit, err := os.ReadFile("../../systemd/rtkwatchd.service")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for line := range strings.Lines(string(unit)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			settings[k] = v
		}
	}
	duration := func(key string) time.Duration {
		t.Helper()
		d, err := time.ParseDuration(strings.Replace(settings[key], "min", "m", 1))
		if err != nil {
			t.Fatalf("%s=%q: %v", key, settings[key], err)
		}
		return d
	}
	if settings["Restart"] != "on-failure" {
		t.Fatalf("Restart=%q, want on-failure", settings["Restart"])
	}
	burst, err := strconv.Atoi(settings["StartLimitBurst"])
	if err != nil || burst < 1 {
		t.Fatalf("StartLimitBurst=%q, want a number >= 1", settings["StartLimitBurst"])
	}
	restart, interval := duration("RestartSec"), duration("StartLimitIntervalSec")
	if took := time.Duration(burst) * restart; took >= interval {
		t.Errorf("%d starts %s apart take %s, not within StartLimitIntervalSec=%s: the unit would restart for ever", burst, restart, took, interval)
	}
}
