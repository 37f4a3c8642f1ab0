package poller

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// pollMeetings observes each explicit meeting of w on the poller's workers,
// each poll holding one of the poller's slots: opts.Concurrency meetings at
// once for all the cycles of the poller together, so that many watches
// firing at once (at start, say) never make more goroutines than that. A
// panic in one meeting's poll is raised again in the caller's goroutine
// once every poll has returned, where the scheduler recovers it; left in
// its own goroutine it would end the process.
func (p *Poller) pollMeetings(ctx context.Context, w Watch, prevs map[string][]byte) []meetingStep {
	steps := p.newSteps(len(w.Meetings))
	sem := p.slots
	var (
		wg        sync.WaitGroup
		panicOnce sync.Once
		panicked  error
	)
	// One func for every poll of the cycle, told apart by index: handing
	// a poll to a worker allocates nothing.
	poll := func(i int) {
		id := w.Meetings[i]
		defer wg.Done()
		defer func() { <-sem }()
		defer func() {
			if r := recover(); r != nil {
				panicOnce.Do(func() {
					panicked = fmt.Errorf("poll meeting %s of watch %s: panic: %v\n%s", id, w.Name, r, debug.Stack())
				})
			}
		}()
		prev, stored := p.decodeStored(w, id, prevs[id])
		steps[i] = p.pollMeeting(ctx, w, id, prev)
		if s := &steps[i]; stored && !s.skip {
			s.judged, s.confirmed = true, confirms(prev, s)
		}
	}
	for i, id := range w.Meetings {
		// Take a slot before handing the poll to a worker, so that the
		// polls of every cycle never need more than Concurrency workers.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			steps[i] = meetingStep{meeting: id, skip: true}
			continue
		}
		wg.Add(1)
		p.workers.run(poll, i)
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return steps
}

// pollMeeting observes one meeting through its active session, fetches the
// final numbers of a session that ended, and applies the rules.
func (p *Poller) pollMeeting(ctx context.Context, w Watch, meetingID string, prev diff.Snapshot) meetingStep {
	start := time.Now()
	obs := p.activeSession(ctx, w, meetingID)
	if ctx.Err() != nil {
		// Shutting down: an interrupted request says nothing about the API.
		return meetingStep{meeting: meetingID, skip: true}
	}
	if sessionID, ends := diff.EndsSession(prev, obs); ends {
		obs.Final = p.finalNumbers(ctx, w, meetingID, sessionID)
		if ctx.Err() != nil {
			// Interrupted while fetching the final numbers: the end is
			// reported, with them, by the next cycle.
			return meetingStep{meeting: meetingID, skip: true}
		}
	}
	if p.opts.Observer != nil {
		p.opts.Observer.Polled(w.Name, obs, false, time.Since(start))
	}
	next, events := diff.Apply(p.meeting(w, meetingID), prev, obs, w.Rules)
	p.logPoll(w, meetingID, prev, obs, len(events))
	return meetingStep{meeting: meetingID, next: next, events: events}
}
