package poller

import (
	"sync"
	"sync/atomic"
	"time"
)

// workerIdle is how long a worker of the pool waits for its next poll
// before it exits.
const workerIdle = 2 * time.Second

// workers runs the polls of every cycle of a poller on goroutines that
// outlive one poll: a goroutine whose stack has grown to the depth of an
// HTTP request keeps it for the next poll, where a goroutine per poll
// grows a fresh stack each time (a twentieth of the CPU at 2,000 polls a
// second). A task goes to a worker that waits for one, or to a new worker
// when none does; a worker exits once idle for workerIdle, or at close.
// The caller bounds how many tasks run at once (pollMeetings' slots), and
// so the workers: at most twice that many, some of them about to wait.
type workers struct {
	tasks  chan task // unbuffered: a send succeeds when a worker waits
	done   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup
	n      atomic.Int32 // workers that exist now
}

// task is f(i): the polls of a cycle share one f and differ by i, so that
// handing one to a worker allocates nothing.
type task struct {
	f func(int)
	i int
}

func newWorkers() *workers {
	return &workers{tasks: make(chan task), done: make(chan struct{})}
}

// run runs f(i) on a worker. It does not wait for it to finish.
func (w *workers) run(f func(int), i int) {
	t := task{f: f, i: i}
	select {
	case w.tasks <- t:
	default:
		w.n.Add(1)
		w.wg.Go(func() {
			defer w.n.Add(-1)
			w.loop(t)
		})
	}
}

// count reports how many workers exist now, busy or waiting.
func (w *workers) count() int { return int(w.n.Load()) }

// loop runs t, then the tasks it is given, until it has waited workerIdle
// for one or the pool is closed. Its timer is set again only when it fires
// (to what is left of workerIdle since the last task), not after every
// task: at 2,000 polls a second, resetting it each time was a timer-heap
// update per poll.
func (w *workers) loop(t task) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		t.f(t.i)
		last := time.Now()
	wait:
		select {
		case t = <-w.tasks:
		case <-idle.C:
			if left := workerIdle - time.Since(last); left > 0 {
				idle.Reset(left)
				goto wait
			}
			return
		case <-w.done:
			return
		}
	}
}

// close ends the idle workers and waits for every worker to exit; the
// tasks running finish first. No task may be run after it.
func (w *workers) close() {
	w.closed.Do(func() { close(w.done) })
	w.wg.Wait()
}
