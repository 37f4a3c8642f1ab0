package diff

import (
	"maps"
	"strings"
	"time"
)

// DefaultMediaHorizon is MediaRules.Horizon when it is not set.
const DefaultMediaHorizon = 72 * time.Hour

// MediaRules are what a watch asks of its recordings or livestreams.
type MediaRules struct {
	// Watched reports whether the watch wants events about a meeting's
	// recordings or livestreams: its explicit meetings. Nil means every
	// meeting of the app (an all_live watch). Items of meetings not watched
	// are followed all the same, silently, so that a meeting added to the
	// watch later does not report what happened before.
	Watched func(meetingID string) bool
	// Horizon is how long an item stays in sight after its last activity
	// (see ApplyRecordings); 0 or less means DefaultMediaHorizon.
	Horizon time.Duration
	// FailingAfter, FailingRatio, RecoverAfter and RemindEvery are the
	// watch's failing_after, failing_ratio, recover_after and remind_every,
	// for failed reads of the list, as in Rules.
	FailingAfter int
	FailingRatio float64
	RecoverAfter int
	RemindEvery  time.Duration
}

// health returns the failure policy of r.
func (r MediaRules) health() healthRules {
	return healthRules{failingAfter: r.FailingAfter, failingRatio: r.FailingRatio, recoverAfter: r.RecoverAfter, remindEvery: r.RemindEvery}
}

// MediaState is what rtkwatchd remembers between two reads of one watch's
// recordings list, or of its livestreams list: the caller stores it, one per
// watch and list, and hands it back to the next call. The zero value means
// never read.
type MediaState struct {
	// Baselined is true once one good read has been recorded.
	Baselined bool `json:"baselined"`
	// Sequence is the sequence number of the last event of this list; the
	// next gets Sequence+1. Events of a list are numbered apart from those
	// of the meetings they are about.
	Sequence uint64 `json:"sequence"`
	// Health is the failure bookkeeping of reads of the list.
	Health
	// Items are the recordings or livestreams in sight, by id.
	Items map[string]MediaItem `json:"items,omitempty"`
}

// MediaItem is what a MediaState remembers of one recording or livestream.
type MediaItem struct {
	MeetingID string `json:"meeting_id"`
	// Status is the last status read, upper case.
	Status string `json:"status"`
	// Flags is what the item's kind remembers beyond its status: for a
	// recording, the events already emitted for it (1 started, 2 uploaded, 4
	// errored); for a livestream, 1 while it is live (LIVE since it last
	// stopped).
	Flags uint8 `json:"flags,omitempty"`
	// Seen is the item's last activity, as the list reports it (or, when it
	// reports none, the last read that listed the item).
	Seen time.Time `json:"seen"`
}

// mediaEntry is one entry of a list, whatever its kind.
type mediaEntry struct {
	id, meetingID, title, sessionID, status string
	seen                                    time.Time // the entry's last activity; zero when unknown
}

// mediaKind is what tells recordings from livestreams.
type mediaKind struct {
	signal string
	// known reports whether the API documents status.
	known func(status string) bool
	// step returns the event that a move from old (zero when the item is
	// new) to status implies, "" when none, and the item's next flags.
	step func(old MediaItem, status string) (typ string, flags uint8)
	// describe completes the data of an event about entry e.
	describe func(d *EventData, e mediaEntry)
}

// applyMedia is ApplyRecordings and ApplyLivestreams, for one kind.
func applyMedia(k *mediaKind, watch Meeting, prev MediaState, at time.Time, entries []mediaEntry, failure *Failure, rules MediaRules) (MediaState, []Event, []Skipped) {
	next := prev
	s := signalStep{watch: watch, signal: k.signal, at: at, seq: &next.Sequence}
	if !s.health(&next.Health, failure, rules.health()) {
		return next, s.events, nil
	}
	horizon := rules.Horizon
	if horizon <= 0 {
		horizon = DefaultMediaHorizon
	}
	cutoff := at.Add(-horizon)
	var skipped []Skipped
	cloned := false
	own := func() { // copy on the first write: prev's map is not ours
		if !cloned {
			next.Items = maps.Clone(prev.Items)
			if next.Items == nil {
				next.Items = make(map[string]MediaItem)
			}
			cloned = true
		}
	}
	for _, e := range entries {
		e.status = strings.ToUpper(e.status)
		if e.id == "" {
			skipped = append(skipped, Skipped{Reason: SkipNoID, MeetingID: e.meetingID, Value: e.status})
			continue
		}
		if e.meetingID == "" {
			if k.signal == SignalRecordings {
				skipped = append(skipped, Skipped{Reason: SkipNoMeeting, ID: e.id, Value: e.status})
			}
			continue // a livestream of no meeting is the app's own, not a meeting's
		}
		old, ok := next.Items[e.id]
		seen := e.seen
		if seen.IsZero() {
			seen = at
		}
		seen = seen.UTC()
		if ok && seen.Before(old.Seen) {
			seen = old.Seen
		}
		if !k.known(e.status) {
			skipped = append(skipped, Skipped{Reason: SkipUnknownStatus, ID: e.id, MeetingID: e.meetingID, Value: e.status})
			if ok && seen.After(old.Seen) {
				old.Seen = seen // still listed: keep it in sight
				own()
				next.Items[e.id] = old
			}
			continue
		}
		if seen.Before(cutoff) {
			continue // out of sight: it cannot change what was reported
		}
		typ, flags := k.step(old, e.status)
		it := MediaItem{MeetingID: e.meetingID, Status: e.status, Flags: flags, Seen: seen}
		if ok && it.Status == old.Status && it.Flags == old.Flags && it.MeetingID == old.MeetingID && it.Seen.Equal(old.Seen) {
			continue
		}
		own()
		next.Items[e.id] = it
		if typ == "" || !prev.Baselined || rules.Watched != nil && !rules.Watched(e.meetingID) {
			continue
		}
		m := watch
		m.MeetingID = e.meetingID
		d := s.emit(m, typ, e.id)
		d.MeetingDisplayName = e.title
		d.SessionID = e.sessionID
		d.Status = e.status
		d.PreviousStatus = ptr(old.Status)
		k.describe(d, e)
	}
	var stale []string
	for id, it := range next.Items {
		if it.Seen.Before(cutoff) {
			stale = append(stale, id)
		}
	}
	for _, id := range stale {
		own()
		delete(next.Items, id)
	}
	if len(next.Items) == 0 {
		next.Items = nil
	}
	next.Baselined = true
	return next, s.events, skipped
}
