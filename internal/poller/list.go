package poller

import (
	"context"
	"slices"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// ListMinMeetings is the size from which an explicit watchlist is polled
// through the sessions list instead of meeting by meeting, as long as the
// list takes fewer than half as many requests as the meetings would.
const ListMinMeetings = 10

// WatchMeetingID is the snapshot key of an all-live watch's own health
// record: the failures of the sessions list belong to the watch, not to any
// one meeting. RealtimeKit meeting ids never take this form.
const WatchMeetingID = "*"

// ForgetIdleAfter is how long an all-live watch keeps the snapshot of a
// meeting that has had no live session: without a bound, an app that makes
// a meeting per call would grow the store for ever. A forgotten meeting that
// goes live again is new to the watch: session.started, with sequence
// starting over at 1.
const ForgetIdleAfter = 7 * 24 * time.Hour

// reprobeEvery is how many cycles a watch that fell back to polling its
// meetings one by one waits before it tries the sessions list again.
const reprobeEvery = 20

// useList reports whether w's explicit meetings are cheaper to poll through
// the sessions list, judging by how many pages the list took last time. A
// watch that fell back to meeting by meeting tries the list again every
// reprobeEvery cycles, since the app's other sessions come and go.
func (p *Poller) useList(w Watch) bool {
	if len(w.Meetings) < ListMinMeetings {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if 2*max(p.pages[w.Name], 1) <= len(w.Meetings) {
		return true
	}
	p.fallbacks[w.Name]++
	return p.fallbacks[w.Name]%reprobeEvery == 0
}

// pollList observes meetings through the sessions list (status=LIVE): every
// live session of the app when only is nil (all_live), else just the
// meetings in only. An all-live watch records the list's failures against
// the watch itself (meeting WatchMeetingID), since it knows no meeting for
// sure; an explicit watchlist records them against each of its meetings,
// exactly as when they are polled one by one.
//
// A list read in pages can miss a session that a change between two pages
// moved back, into a page already read. So a meeting whose session left
// the list is asked directly before its session is called ended; an
// explicit meeting absent from such a list is asked directly before its
// first observation records "no session"; and a meeting that an all-live
// watch sees for the first time carries the watch's baseline time, so that
// a session live since before it is a late baseline (package diff), not a
// start.
func (p *Poller) pollList(ctx context.Context, w Watch, prevs map[string][]byte, only []string) []meetingStep {
	live, listObs, settled, ok := p.readList(ctx, w)
	if !ok {
		return nil
	}
	var steps []meetingStep
	var health diff.Snapshot // an all-live watch's own record, before this cycle
	switch {
	case only == nil:
		// An all-live watch is "baselined" once its list has been read: a
		// meeting first seen after that has a new session, not a baseline.
		health = p.decodeSnapshot(w, WatchMeetingID, prevs[WatchMeetingID])
		next, events := diff.Apply(p.meeting(w, WatchMeetingID), health, listObs, w.Rules)
		steps = append(steps, meetingStep{meeting: WatchMeetingID, next: next, events: events})
		if listObs.Kind == diff.ObservedFailure {
			return steps
		}
	case listObs.Kind == diff.ObservedFailure:
		for _, id := range only {
			n, evs := diff.Apply(p.meeting(w, id), p.decodeSnapshot(w, id, prevs[id]), listObs, w.Rules)
			steps = append(steps, meetingStep{meeting: id, next: n, events: evs})
		}
		return steps
	}

	ids := only
	if ids == nil {
		ids = listedAndKnown(live, prevs)
	}
	steps = slices.Grow(steps, len(ids))
	for _, id := range ids {
		prev := p.decodeSnapshot(w, id, prevs[id])
		if only == nil && prevs[id] == nil && health.Baselined {
			// A meeting unknown so far: its session is new, unless it
			// started before the watch's baseline.
			prev.Baselined, prev.BaselineAt = true, health.BaselineAt
		}
		obs := diff.Observation{Kind: diff.ObservedNoSession, At: listObs.At}
		if s, ok := live[id]; ok {
			obs = diff.Observation{Kind: diff.ObservedSession, At: listObs.At, Session: s}
		} else if prev.Session != nil || (!prev.Baselined && !settled) {
			// The list is paged by offset: a session that ended between two
			// pages can push a live one out of sight. Ask the meeting itself
			// before calling its session ended, or before its first
			// observation says it has none.
			var ok bool
			if obs, ok = p.confirmAbsent(ctx, w, id, prev.Session != nil); !ok {
				continue
			}
		} else if only == nil && prev.Baselined {
			// Known and still idle: nothing to write, unless it has been idle
			// so long that it is forgotten.
			if listObs.At.Sub(prev.LastGoodPoll) > ForgetIdleAfter {
				steps = append(steps, meetingStep{meeting: id, forget: true})
			}
			continue
		}
		if sessionID, ends := diff.EndsSession(prev, obs); ends {
			obs.Final = p.finalNumbers(ctx, w, id, sessionID)
			if ctx.Err() != nil {
				continue // interrupted: the next cycle reports the end
			}
		}
		n, evs := diff.Apply(p.meeting(w, id), prev, obs, w.Rules)
		p.logPoll(w, id, prev, obs, len(evs))
		steps = append(steps, meetingStep{meeting: id, next: n, events: evs})
	}
	return steps
}

// readList reads every live session of w's app and indexes them by
// meeting. listObs is the list's own observation: no session when it was
// read whole, else its failure. settled says whether the list was read as
// it was at one instant (see rtkapi.ListRead.Settled). ok is false when ctx
// ended first.
func (p *Poller) readList(ctx context.Context, w Watch) (live map[string]*diff.Session, listObs diff.Observation, settled, ok bool) {
	start := time.Now()
	sessions, r, err := p.liveSessions(ctx, w)
	if ctx.Err() != nil {
		return nil, diff.Observation{}, false, false
	}
	listObs = p.observation(nil, err)
	if err != nil {
		p.logPoll(w, WatchMeetingID, diff.Snapshot{}, listObs, 0)
	}
	if p.opts.Observer != nil {
		p.opts.Observer.Polled(w.Name, listObs, true, time.Since(start))
	}
	return latestPerMeeting(sessions), listObs, r.Settled(), true
}

// listedAndKnown returns, sorted, the meetings of an all-live watch to
// look at: those with a live session, and those it knows from before.
func listedAndKnown(live map[string]*diff.Session, prevs map[string][]byte) []string {
	ids := make([]string, 0, len(live)+len(prevs))
	for id := range live {
		ids = append(ids, id)
	}
	for id := range prevs {
		if _, ok := live[id]; !ok && IsMeeting(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// confirmAbsent polls one meeting that the sessions list does not show:
// its session left the list (left true), or it is an explicit meeting seen
// for the first time in a list that may have shifted. It returns false when
// the poll failed, so that the meeting is left as it was until the next
// cycle.
func (p *Poller) confirmAbsent(ctx context.Context, w Watch, meetingID string, left bool) (diff.Observation, bool) {
	obs := p.activeSession(ctx, w, meetingID)
	if ctx.Err() != nil {
		return diff.Observation{}, false // interrupted: says nothing
	}
	if obs.Kind == diff.ObservedFailure {
		msg := "meeting is not in the sessions list and could not be asked; trying again next cycle"
		if left {
			msg = "session left the sessions list, but its meeting could not be asked; trying again next cycle"
		}
		p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logError, obs.Failure.Message).Msg(msg)
		return obs, false
	}
	return obs, true
}

// latestPerMeeting indexes live sessions by meeting. When the list holds
// two sessions of one meeting, it keeps the same one whatever their order:
// the one that started last (by started_at, as a time), and of two that
// started at the same instant, the one with the greater id.
func latestPerMeeting(sessions []rtkapi.Session) map[string]*diff.Session {
	live := make(map[string]*diff.Session, len(sessions))
	all := make([]diff.Session, len(sessions))
	for i := range sessions {
		all[i] = diff.Session(sessions[i])
		s := &all[i]
		if cur, ok := live[s.AssociatedID]; ok && !startedLater(s, cur) {
			continue
		}
		live[s.AssociatedID] = s
	}
	return live
}

// startedLater reports whether a started after b, or at the same instant
// with a greater id. The API's started_at may differ in precision or zone
// between two sessions, so it is compared as a time; the decoder has made
// sure that it parses.
func startedLater(a, b *diff.Session) bool {
	ta, _ := time.Parse(time.RFC3339Nano, a.StartedAt)
	tb, _ := time.Parse(time.RFC3339Nano, b.StartedAt)
	if c := ta.Compare(tb); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}
