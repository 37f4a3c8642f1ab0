package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// listingDeadLetters is how many dead letters TestLoadListing lists.
const listingDeadLetters = 100_000

// TestLoadListing measures the peak memory of listing 100,000 dead letters:
// of the CLI reading the store itself, and of the daemon answering the
// CLI's admin request. It runs only on request, like TestLoad.
func TestLoadListing(t *testing.T) {
	if os.Getenv("RTKWATCHD_LOAD") != "1" {
		t.Skip("load test; run it with: RTKWATCHD_LOAD=1 go test -run TestLoadListing -v ./cmd/rtkwatchd/")
	}
	bin := daemonBinary(t)
	dir := t.TempDir()
	cfg := procConfig{
		StorePath: filepath.Join(dir, "state.db"), HookURL: "http://127.0.0.1:9/hook",
		Admin: freeLoopbackAddr(t), Watches: []procWatch{{Name: "idle", Meetings: []string{"m-1"}}},
	}
	start := time.Now()
	seedDeadLetters(t, cfg.StorePath, listingDeadLetters)
	info, err := os.Stat(cfg.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d dead letters in %s; store file %.1f MiB", listingDeadLetters, time.Since(start).Round(time.Millisecond), float64(info.Size())/(1<<20))

	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	cfg.APIURL = fake.URL()
	path := filepath.Join(dir, "config.yaml")
	cfg.write(t, path)

	// The CLI on its own: it opens the store read-only, and lists the
	// first page, then all of them.
	for _, args := range [][]string{nil, {"--limit", strconv.Itoa(listingDeadLetters)}} {
		rss, took := listingRSS(t, bin, path, args...)
		t.Logf("CLI alone, deliveries --failed %s: peak RSS %.1f MiB, %s", strings.Join(args, " "), float64(rss)/(1<<20), took.Round(time.Millisecond))
	}

	// The daemon, asked by the CLI through its admin API.
	d := startDaemon(t, bin, childEnv(), "run", "--config", path)
	waitReady(t, cfg.Admin)
	before := processMemory(t, d.pid())
	rss, took := listingRSS(t, bin, path, "--limit", strconv.Itoa(listingDeadLetters))
	after := processMemory(t, d.pid())
	t.Logf("daemon before the listing: %s; after: %s", before, after)
	t.Logf("the CLI asking the daemon for all: peak RSS %.1f MiB, %s", float64(rss)/(1<<20), took.Round(time.Millisecond))
	code, _, err := adminGet(cfg.Admin, "/readyz")
	if err != nil || code != http.StatusOK {
		t.Errorf("/readyz after the listing: %d %v", code, err)
	}
	d.signal(syscall.SIGTERM)
	if code := d.waitExit(30 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// listingRSS runs `deliveries --failed` with args and returns its peak
// resident set and how long it took.
func listingRSS(t *testing.T, bin, config string, args ...string) (int64, time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"deliveries", "--failed", "--config", config}, args...)...)
	cmd.Env = childEnv()
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Errorf("deliveries --failed %v: %v\n%s", args, err, stderr.String())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10, time.Since(start)
}

// seedDeadLetters writes n dead letters of notifier "hook", each with a
// body the size of a real session.ended event, into a new store at path.
func seedDeadLetters(t *testing.T, path string, n int) {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	body := []byte(`{"type":"session.ended","timestamp":"2026-11-25T21:00:00Z","data":{"id":"evt_x","sequence":7,"watch":"idle","account_id":"0123456789abcdef0123456789abcdef","app_id":"proc-app","meeting_id":"m-1","meeting_display_name":"Company Town Hall","session_id":"s-1","previous":{` +
		strings.Repeat(`"field":"a value of some length",`, 24) + `"status":"LIVE"},"current":null}}`)
	const batch = 1000
	at := time.Now().UTC()
	for i := 0; i < n; i += batch {
		var evs []store.NewEvent
		for j := i; j < min(n, i+batch); j++ {
			evs = append(evs, store.NewEvent{ID: "evt_" + strconv.Itoa(j), Type: "session.ended", CreatedAt: at, Body: body, Notifiers: []string{"hook"}})
		}
		u := store.Update{Key: store.SnapshotKey{Watch: "seed", MeetingID: fmt.Sprint(i)}, Snapshot: []byte("{}"), Events: evs}
		if err := st.Commit([]store.Update{u}); err != nil {
			t.Fatal(err)
		}
	}
	// Concurrent calls share transactions, so this takes a few hundred.
	var wg sync.WaitGroup
	ids := make(chan uint64)
	for range 256 {
		wg.Go(func() {
			for id := range ids {
				if err := st.DeadLetter("hook", id, at, "410 Gone"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for id := uint64(1); id <= uint64(n); id++ {
		ids <- id
	}
	close(ids)
	wg.Wait()
}

// memory is what /proc/<pid>/status says of a process's resident set.
type memory struct {
	rss, hwm int64 // VmRSS (now) and VmHWM (peak), bytes
	anon     int64 // RssAnon: the part that is not pages of mapped files
	file     int64 // RssFile: pages of mapped files (the binary, the store)
}

func (m memory) String() string {
	return fmt.Sprintf("RSS %.1f MiB (peak %.1f MiB), of which %.1f MiB anonymous",
		float64(m.rss)/(1<<20), float64(m.hwm)/(1<<20), float64(m.anon)/(1<<20))
}

// processMemory reads the resident set of process pid.
func processMemory(t *testing.T, pid int) memory {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var m memory
	for line := range strings.Lines(string(status)) {
		for key, to := range map[string]*int64{"VmRSS:": &m.rss, "VmHWM:": &m.hwm, "RssAnon:": &m.anon, "RssFile:": &m.file} {
			if v, ok := strings.CutPrefix(line, key); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					t.Fatalf("parse %q: %v", line, err)
				}
				*to = kb << 10
			}
		}
	}
	return m
}
