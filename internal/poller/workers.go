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
	tasks  chan func() // unbuffered: a send succeeds when a worker waits
	done   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup
	n      atomic.Int32 // workers that exist now
}

func newWorkers() *workers {
	return &workers{tasks: make(chan func()), done: make(chan struct{})}
}

// run runs task on a worker. It does not wait for task to finish.
func (w *workers) run(task func()) {
	select {
	case w.tasks <- task:
	default:
		w.n.Add(1)
		w.wg.Go(func() {
			defer w.n.Add(-1)
			w.loop(task)
		})
	}
}

// count reports how many workers exist now, busy or waiting.
func (w *workers) count() int { return int(w.n.Load()) }

// loop runs task, then the tasks it is given, until it has waited
// workerIdle for one or the pool is closed.
func (w *workers) loop(task func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		task()
		idle.Reset(workerIdle)
		select {
		case task = <-w.tasks:
		case <-idle.C:
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
