package poller

import (
	"fmt"
	"slices"
	"time"
)

// Progressed reports whether every watch made progress after since, and
// names one that did not. A watch made progress when one of its cycles
// finished (failed or not: an API that answers with errors is watched by
// watch.failing), when its running cycle heard back from the API or waited
// for a 429's Retry-After, when its first cycle waits for the first
// cycles ahead of it (see awaitFirst), or when its schedule did not call
// for a cycle since its last one finished. A cycle that hangs on the API, or a
// schedule that stopped starting cycles, is no progress: the heartbeat of
// package heartbeat stops, and the dead man's switch fires.
func (s *Scheduler) Progressed(since time.Time) (bool, string) {
	now := s.opts.Now()
	paused := s.opts.PausedUntil()
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.schedules))
	for w := range s.schedules {
		names = append(names, w)
	}
	slices.Sort(names)
	for _, w := range names {
		last := s.lastCycle[w]
		start, running := s.running[w]
		switch {
		case last.After(since):
		case s.queued[w]:
			// Its first cycle waits behind others, which this loop holds
			// to making progress.
		case running && later(s.p.LastProgress(w), paused).After(since):
		case !running && !last.IsZero() && s.schedules[w].Next(last).After(now):
		case running:
			return false, fmt.Sprintf("watch %s: its cycle, running since %s, heard nothing from the API since %s",
				w, start.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
		default:
			return false, fmt.Sprintf("watch %s: no cycle finished since %s", w, since.UTC().Format(time.RFC3339))
		}
	}
	return true, ""
}
