package poller

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// commitBatch is how many meetings share one store transaction.
const commitBatch = 512

// pollTimeEvery is how old the stored time of a meeting's last good poll
// may grow. A poll that changes nothing but that time (see unchanged) does
// not write the snapshot until the stored time is this old: at @every 1s,
// a meeting that nothing happens to is written once a minute, not every
// second. Nothing a restart needs rides on that time: failures, sessions,
// thresholds and sequence numbers are written as soon as they change, and
// an all_live watch counts a meeting's idle days from the end of its last
// session, which is written with the end. `rtkwatchd state` shows the
// stored time, so it may be up to this much behind.
const pollTimeEvery = time.Minute

// snapshots reads the stored snapshots of a watch, by meeting.
func (p *Poller) snapshots(watch string) (map[string][]byte, error) {
	if p.opts.Store == nil {
		return nil, nil
	}
	prevs, err := p.opts.Store.Snapshots(watch)
	if err != nil {
		return nil, fmt.Errorf("read snapshots of watch %s: %w", watch, err)
	}
	p.cache.retain(watch, prevs)
	return prevs, nil
}

// decodeSnapshot turns stored bytes into a snapshot: the cached one when
// the bytes are those it was stored as. A snapshot that does not decode is
// logged and replaced by a fresh baseline rather than blocking the meeting
// for ever.
func (p *Poller) decodeSnapshot(w Watch, meetingID string, b []byte) diff.Snapshot {
	s, _ := p.decodeStored(w, meetingID, b)
	return s
}

// decodeStored is decodeSnapshot, which also reports whether the snapshot
// is the one b holds: false when b is nil or does not decode.
func (p *Poller) decodeStored(w Watch, meetingID string, b []byte) (diff.Snapshot, bool) {
	if b == nil {
		return diff.Snapshot{}, false
	}
	if s, ok := p.cache.lookup(w.Name, meetingID, b); ok {
		return s, true
	}
	s, err := unmarshalSnapshot(b)
	if err != nil {
		p.opts.Logger.Error().Err(err).Str(logWatch, w.Name).Str(logMeeting, meetingID).
			Msg("stored snapshot does not decode; taking a new baseline")
		return diff.Snapshot{}, false
	}
	p.cache.keep(w.Name, meetingID, b, s)
	return s, true
}

// unmarshalSnapshot decodes a stored snapshot. It is apart from
// decodeSnapshot so that the snapshot it decodes into, which escapes, is
// allocated only when the cache misses.
func unmarshalSnapshot(b []byte) (diff.Snapshot, error) {
	var s diff.Snapshot
	err := json.Unmarshal(b, &s)
	return s, err
}

// unchanged reports whether step s only confirmed the meeting's snapshot
// stored as stored (a signal's state, s.state, is always written): no
// event, the same state (diff.SameState), and a stored time of
// the last good poll less than pollTimeEvery old. Writing it would cost a
// transaction and tell a restart nothing new.
func (p *Poller) unchanged(w Watch, s *meetingStep, stored []byte) bool {
	if stored == nil || len(s.events) > 0 || s.state != nil {
		return false
	}
	if s.judged {
		return s.confirmed
	}
	prev, ok := p.cache.lookup(w.Name, s.meeting, stored)
	return ok && confirms(prev, s)
}

// confirms reports whether step s only confirmed prev: no event, the same
// state (diff.SameState), and a time of the last good poll less than
// pollTimeEvery after prev's.
func confirms(prev diff.Snapshot, s *meetingStep) bool {
	return len(s.events) == 0 && diff.SameState(prev, s.next) && s.next.LastGoodPoll.Sub(prev.LastGoodPoll) < pollTimeEvery
}

// meeting names one meeting of w for package diff.
func (p *Poller) meeting(w Watch, meetingID string) diff.Meeting {
	return diff.Meeting{Watch: w.Name, AccountID: p.opts.AccountID, AppID: w.AppID, MeetingID: meetingID}
}

// commit writes the cycle's snapshots and events in batched transactions,
// but for the snapshots that a poll only confirmed (see unchanged). prevs
// are the stored snapshots the cycle started from.
func (p *Poller) commit(w Watch, steps []meetingStep, prevs map[string][]byte) (Cycle, error) {
	c := Cycle{Watch: w.Name}
	updates := make([]store.Update, 0, min(len(steps), commitBatch))
	var pending []diff.Event
	var written []int // the indices in steps of updates
	flush := func() error {
		if len(updates) == 0 {
			return nil
		}
		if !p.opts.DryRun && p.opts.Store != nil {
			if err := p.commits.commit(updates); err != nil {
				return fmt.Errorf("commit cycle of watch %s: %w", w.Name, err)
			}
			for i, u := range updates {
				if s := &steps[written[i]]; !u.Delete && s.state == nil {
					p.cache.keep(w.Name, u.Key.MeetingID, u.Snapshot, s.next)
				}
			}
		}
		c.Events = append(c.Events, pending...)
		if p.opts.Observer != nil {
			for _, ev := range pending {
				p.opts.Observer.Emitted(w.Name, ev)
			}
		}
		for _, i := range written {
			p.observeMeeting(w, &steps[i])
		}
		updates, pending, written = updates[:0], pending[:0], written[:0]
		return nil
	}
	for i := range steps {
		s := &steps[i]
		if s.skip {
			continue
		}
		u := store.Update{Key: store.SnapshotKey{Watch: w.Name, MeetingID: s.meeting}, Delete: true}
		if !s.forget {
			c.Polls++
			if s.next.ConsecutiveFailures > 0 || s.failed {
				c.Failures++
			}
			if p.unchanged(w, s, prevs[s.meeting]) {
				p.observeMeeting(w, s)
				continue
			}
			var err error
			if u, err = p.update(w, s); err != nil {
				return c, err
			}
		}
		updates = append(updates, u)
		pending = append(pending, s.events...)
		written = append(written, i)
		if len(updates) == commitBatch {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	return c, flush()
}

// observeMeeting tells the gauges what a commit wrote of one meeting's
// step, or that it only confirmed it.
func (p *Poller) observeMeeting(w Watch, s *meetingStep) {
	if p.opts.Gauges == nil || p.opts.DryRun {
		return
	}
	switch {
	case !IsMeeting(s.meeting):
	case s.forget:
		p.opts.Gauges.Forgot(w.Name, s.meeting)
	default:
		p.opts.Gauges.Observed(w.Name, s.meeting, s.next.Session)
	}
}

// update returns the store update of one meeting's step: its next
// snapshot, and each event queued for the watch's notifiers of its type
// but those a silence holds it from at the event's time.
func (p *Poller) update(w Watch, s *meetingStep) (store.Update, error) {
	var state any = s.next
	if s.state != nil {
		state = s.state
	}
	snap, err := json.Marshal(state)
	if err != nil {
		return store.Update{}, fmt.Errorf("encode snapshot of meeting %s: %w", s.meeting, err)
	}
	u := store.Update{Key: store.SnapshotKey{Watch: w.Name, MeetingID: s.meeting}, Snapshot: snap}
	for _, ev := range s.events {
		body, err := json.Marshal(ev)
		if err != nil {
			return store.Update{}, fmt.Errorf("encode event %s: %w", ev.Data.ID, err)
		}
		routes := w.Routes[ev.Type]
		var silenced []string
		if p.opts.Silences != nil {
			silenced = p.opts.Silences.Silenced(ev.Timestamp, w.Name, routes)
		}
		u.Events = append(u.Events, store.NewEvent{
			ID: ev.Data.ID, Type: ev.Type, CreatedAt: ev.Timestamp, Body: body,
			Notifiers: without(routes, silenced), Silenced: silenced,
		})
	}
	return u, nil
}

// without returns the names of all that are not in drop, in order.
func without(all, drop []string) []string {
	if len(drop) == 0 {
		return all
	}
	out := make([]string, 0, len(all))
	for _, n := range all {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}
