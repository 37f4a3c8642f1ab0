package poller

import (
	"context"
	"sync"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// shareFraction is how much of its interval old a good read made for
// another watch of the same app may be for a watch to use it instead of
// reading again: three quarters, so that a watch alone, whose previous
// read is one interval old give or take the scheduler's jitter, always
// reads afresh.
const shareFraction = 0.75

// readKey names one app-wide read: an app and a signal.
type readKey struct{ app, signal string }

// sharedReads holds the last good read of each app-wide signal (an app's
// recordings or livestreams list, its analytics), so that the watches of
// one app that poll at about the same time make one read between them.
// Reads of one key are made one at a time: a watch whose cycle comes while
// another's read is in flight waits for it and takes its outcome when that
// is good. Failed reads are not shared: each watch tries again.
type sharedReads struct {
	mu      sync.Mutex
	entries map[readKey]*readEntry
}

// readEntry is the shared state of one key.
type readEntry struct {
	lock chan struct{} // held by the read in flight

	// Under sharedReads.mu:
	at     time.Time // when the last good read completed; zero before one
	prevAt time.Time // when the good read before it completed
	value  any       // the last good read
	// seen maps what was reported about the reads (entries left out) to
	// the last read that listed it, so that an entry that stays bad is
	// reported once, not at every read.
	seen map[string]time.Time
}

func newSharedReads() *sharedReads {
	return &sharedReads{entries: make(map[readKey]*readEntry)}
}

func (s *sharedReads) entry(k readKey) *readEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		e = &readEntry{lock: make(chan struct{}, 1), seen: make(map[string]time.Time)}
		s.entries[k] = e
	}
	return e
}

// get returns the last good read of k when it completed less than window
// before now(), with fresh false. Otherwise it calls read, and returns its
// value with fresh true; when read reports it good, that value becomes the
// one shared, completed at at. ok is false when ctx ended while waiting for
// another read.
func (s *sharedReads) get(ctx context.Context, k readKey, window time.Duration, now func() time.Time,
	read func() (value any, at time.Time, good bool)) (value any, fresh, ok bool) {
	e := s.entry(k)
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, false, false
	}
	defer func() { <-e.lock }()
	s.mu.Lock()
	if !e.at.IsZero() && now().Sub(e.at) < window {
		v := e.value
		s.mu.Unlock()
		return v, false, true
	}
	s.mu.Unlock()
	v, at, good := read()
	if good {
		s.mu.Lock()
		if at.After(e.at) {
			e.prevAt, e.at, e.value = e.at, at, v
			for key, t := range e.seen {
				if t.Before(e.prevAt) {
					delete(e.seen, key)
				}
			}
		}
		s.mu.Unlock()
	}
	return v, true, true
}

// firstSeen records that the read of k completed at at lists what key
// names, and reports whether that is news: neither that read nor the good
// read before it listed it.
func (s *sharedReads) firstSeen(k readKey, at time.Time, key string) bool {
	e := s.entry(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := e.seen[key]
	if !ok || at.After(last) {
		e.seen[key] = at
	}
	return !ok || last.Before(e.prevAt) && last.Before(at)
}

// shareWindow is how old a shared read may be for a watch on schedule to
// use it: shareFraction of the time between the schedule's next two
// activations after now; 0 (always read) when the schedule does not parse
// or has no two more activations.
func shareWindow(schedule string, now time.Time) time.Duration {
	s, err := config.ParseSchedule(schedule)
	if err != nil {
		return 0
	}
	n1 := s.Next(now)
	if n1.IsZero() {
		return 0
	}
	n2 := s.Next(n1)
	if n2.IsZero() {
		return 0
	}
	return time.Duration(float64(n2.Sub(n1)) * shareFraction)
}
