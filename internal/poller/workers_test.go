package poller

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestWorkersReuseAndIdle: a task given while a worker waits runs on that
// worker; tasks given at once get a worker each; a worker exits once idle
// for workerIdle, not a nanosecond sooner; close waits for the running
// task and ends the idle workers.
func TestWorkersReuseAndIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorkers()
		workers := func() int { synctest.Wait(); return w.count() }
		var ran atomic.Int32
		task := func(int) { ran.Add(1) }

		w.run(task, 0)
		if n := workers(); n != 1 {
			t.Fatalf("%d workers after one task, want 1", n)
		}
		time.Sleep(time.Second)
		w.run(task, 0)
		if n := workers(); n != 1 {
			t.Errorf("%d workers after a task given to an idle worker, want 1", n)
		}
		hold := make(chan struct{})
		for range 3 {
			w.run(func(int) { <-hold }, 0)
		}
		if n := workers(); n != 3 {
			t.Errorf("%d workers for 3 tasks at once, want 3", n)
		}
		close(hold)
		if n := workers(); n != 3 {
			t.Errorf("%d workers once the tasks are done, want 3 waiting", n)
		}
		time.Sleep(workerIdle - time.Nanosecond)
		if n := workers(); n != 3 {
			t.Errorf("%d workers a nanosecond before workerIdle, want 3", n)
		}
		time.Sleep(time.Nanosecond)
		if n := workers(); n != 0 {
			t.Errorf("%d workers after workerIdle, want 0", n)
		}

		release := make(chan struct{})
		w.run(func(int) { <-release; ran.Add(1) }, 0)
		w.run(task, 0)
		synctest.Wait()
		closed := make(chan struct{})
		go func() {
			w.close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("close returned while a task ran")
		default:
		}
		close(release)
		<-closed
		if n := workers(); n != 0 {
			t.Errorf("%d workers after close, want 0", n)
		}
		if n := ran.Load(); n != 4 {
			t.Errorf("%d tasks ran, want 4", n)
		}
	})
}
