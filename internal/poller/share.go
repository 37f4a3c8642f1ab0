package poller

import (
	"sync"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// sharedCommits lets the cycles of different watches that end close
// together write in one store transaction, so that a daemon with many
// watches pays one fsync for many cycles instead of one each. The first
// commit to arrive waits linger for others, then writes them all; the
// commits that arrive meanwhile wait for that transaction. Each returns
// only once its updates are committed or have failed, so a cycle's events
// are durable before it reports them, as without sharing.
//
// A shared transaction that fails is not the failure of every cycle in it:
// each commit is then tried again alone and gets its own outcome.
type sharedCommits struct {
	st     Store
	linger time.Duration // 0: every commit at once, alone

	mu        sync.Mutex
	gathering []*sharedCommit // the commits of the transaction being gathered
	open      bool            // a first commit waits for others
}

// sharedCommit is one cycle's commit waiting for its transaction.
type sharedCommit struct {
	updates []store.Update
	done    chan error // buffered
}

// commit writes updates in a transaction it may share, and returns its
// outcome. updates may be reused once it returns.
func (g *sharedCommits) commit(updates []store.Update) error {
	if g.linger <= 0 {
		return g.st.Commit(updates)
	}
	c := &sharedCommit{updates: updates, done: make(chan error, 1)}
	g.mu.Lock()
	g.gathering = append(g.gathering, c)
	first := !g.open
	g.open = true
	g.mu.Unlock()
	if first {
		t := time.NewTimer(g.linger)
		<-t.C
		g.mu.Lock()
		batch := g.gathering
		g.gathering, g.open = nil, false
		g.mu.Unlock()
		g.write(batch)
	}
	return <-c.done
}

// write commits batch in one transaction and tells each commit its
// outcome; when that transaction fails, it commits each alone.
func (g *sharedCommits) write(batch []*sharedCommit) {
	if len(batch) == 1 {
		batch[0].done <- g.st.Commit(batch[0].updates)
		return
	}
	n := 0
	for _, c := range batch {
		n += len(c.updates)
	}
	all := make([]store.Update, 0, n)
	for _, c := range batch {
		all = append(all, c.updates...)
	}
	if err := g.st.Commit(all); err == nil {
		for _, c := range batch {
			c.done <- nil
		}
		return
	}
	for _, c := range batch {
		c.done <- g.st.Commit(c.updates)
	}
}
