//go:build linux

package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCommitWriteErrorLosesNothing makes the kernel refuse to grow the file,
// as a full disk would (RLIMIT_FSIZE gives EFBIG where a full disk gives
// ENOSPC), and checks that the failed Commit says so, writes none of its
// batch, and leaves everything committed before intact and the store usable.
func TestCommitWriteErrorLosesNothing(t *testing.T) {
	if !inOwnProcess(t) {
		return
	}
	s := mustOpen(t)
	before := []Update{{Key: SnapshotKey{"w", "kept"}, Snapshot: []byte("kept"), Events: []NewEvent{testEvent("evt_kept", "ops")}}}
	if err := s.Commit(before); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}

	// A batch far larger than the file's free space.
	var big []Update
	for i := range 2000 {
		big = append(big, Update{Key: SnapshotKey{"w", fmt.Sprintf("big-%d", i)}, Snapshot: benchSnapshot,
			Events: []NewEvent{testEvent(fmt.Sprintf("evt_big_%d", i), "ops")}})
	}
	err = withFileSizeLimit(t, uint64(info.Size()), func() error { return s.Commit(big) })
	if err == nil {
		t.Fatal("Commit beyond the file size limit succeeded, want an error")
	}
	if !errors.Is(err, syscall.EFBIG) && !strings.Contains(err.Error(), "file too large") {
		t.Errorf("Commit: %v; want it to carry EFBIG", err)
	}
	if !strings.HasPrefix(err.Error(), "commit 2000 updates: ") {
		t.Errorf("Commit: %v; want it to start with the operation", err)
	}
	t.Logf("Commit beyond the limit: %v", err)

	snaps, err := s.Snapshots("w")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"kept": []byte("kept")}, snaps); diff != "" {
		t.Errorf("snapshots after the failed commit (-want +got):\n%s", diff)
	}
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{1}, ids(out)); diff != "" {
		t.Errorf("outbox IDs after the failed commit (-want +got):\n%s", diff)
	}
	// The history disagrees with the outbox in nothing: it too holds the
	// first commit's event alone, and counts it alone.
	if h, err := s.History(HistoryQuery{}); err != nil || len(h) != 1 || h[0].EventID != "evt_kept" {
		t.Errorf("history after the failed commit = %d events, %v; want evt_kept alone", len(h), err)
	}
	if n, _, err := s.HistorySize(); n != 1 || err != nil {
		t.Errorf("HistorySize after the failed commit = %d, %v; want 1", n, err)
	}

	// With room again, the same batch goes through, and survives a reopen.
	if err := s.Commit(big); err != nil {
		t.Fatalf("Commit after the limit was lifted: %v", err)
	}
	s = reopen(t, s)
	if d, err := s.OutboxDepth(); err != nil || d["ops"] != 2001 {
		t.Errorf("OutboxDepth after reopening = %v, %v; want ops: 2001", d, err)
	}
	if n, _, err := s.HistorySize(); n != 2001 || err != nil {
		t.Errorf("HistorySize after reopening = %d, %v; want 2001", n, err)
	}
}

// TestGroupWriteErrorLosesNothing fails a transaction shared by several
// writes (RecordAttempt with errors too large for the file's room) and
// checks that every write in it reports the failure, none is applied, and
// the same writes succeed once there is room.
func TestGroupWriteErrorLosesNothing(t *testing.T) {
	if !inOwnProcess(t) {
		return
	}
	s := mustOpen(t)
	const n = 8
	queueEvents(t, s, n, "ops") // 1…n
	info, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	bigErr := strings.Repeat("x", 64<<10)
	record := func() []error {
		release := holdGroup(t, s)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.RecordAttempt("ops", uint64(i+1), 1, t0, bigErr) })
		}
		waitQueued(t, s, n)
		release()
		wg.Wait()
		return errs
	}

	_ = withFileSizeLimit(t, uint64(info.Size()), func() error {
		errs := record()
		t.Logf("RecordAttempt beyond the limit: %v", errs[0])
		for i, err := range errs {
			if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("record attempt of delivery %d of ops: ", i+1)) {
				t.Errorf("RecordAttempt(%d) beyond the file size limit: %v; want its error", i+1, err)
			}
		}
		return nil
	})
	out, err := s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(out, func(d Delivery) bool { return d.Attempts != 0 }) || len(out) != n {
		t.Errorf("outbox after the failed group: %d deliveries, some attempted; want %d untouched", len(out), n)
	}

	for i, err := range record() {
		if err != nil {
			t.Errorf("RecordAttempt(%d) with room again: %v", i+1, err)
		}
	}
	s = reopen(t, s)
	out, err = s.OutboxAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(out, func(d Delivery) bool { return d.Attempts != 1 }) || len(out) != n {
		t.Errorf("outbox after reopening: %d deliveries, some not attempted; want %d attempted once", len(out), n)
	}
}

// ownProcessEnv names the variable that tells this test binary it is the
// child process inOwnProcess started, and for which test.
const ownProcessEnv = "RTKWATCHD_STORE_TEST_OWN_PROCESS"

// inOwnProcess runs the calling test again in a child process of its own
// and reports false, or reports true in that child, where the test does
// its work. A file size limit applies to the whole process, including the
// log of file accesses that go test keeps for its cache: a test binary
// sharing the process with the limit may fail to write that log, while
// the child process keeps no such log.
func inOwnProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv(ownProcessEnv) == t.Name() {
		return true
	}
	if testing.Short() {
		t.Skip("runs a second process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v")
	cmd.Env = append(os.Environ(), ownProcessEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("child process: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Errorf("child process did not run the test:\n%s", out)
	}
	return false
}

// withFileSizeLimit runs fn with the soft limit on file sizes set to limit
// bytes, then restores the old limit. The limit applies to the whole test
// process, so tests using it must run in their own (see inOwnProcess).
func withFileSizeLimit(t *testing.T, limit uint64, fn func() error) error {
	t.Helper()
	if os.Getenv(ownProcessEnv) != t.Name() {
		t.Fatal("withFileSizeLimit outside a process of the test's own")
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	lim := old
	lim.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restore file size limit: %v", err)
		}
	}()
	return fn()
}

// holdLockEnv names the variable that turns this test binary into a process
// holding a store open, for TestOpenLockedByOtherProcess.
const holdLockEnv = "RTKWATCHD_STORE_TEST_HOLD"

// TestHelperHoldLock is not a test: run by TestOpenLockedByOtherProcess with
// holdLockEnv set, it opens the store, says "ready" and holds it until its
// standard input closes.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv(holdLockEnv)
	if path == "" {
		t.Skip("helper process for TestOpenLockedByOtherProcess")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a second process")
	}
	path := filepath.Join(t.TempDir(), "state.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	// Wait for "ready", skipping anything the test framework prints first.
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "ready" {
		if strings.HasPrefix(lines.Text(), "error:") {
			t.Fatalf("helper process: %s", lines.Text())
		}
	}
	if lines.Text() != "ready" {
		t.Fatalf("helper process ended without saying ready: %v", lines.Err())
	}

	start := time.Now()
	s, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("Open while another process holds the store succeeded, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open: %v; want ErrLocked", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Open took %s with a 100ms lock timeout", elapsed)
	}

	// When the other process exits, its lock goes with it.
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	mustOpenPath(t, path, Options{})
}
