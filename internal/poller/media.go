package poller

import (
	"context"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// pollMedia reads the recordings and livestreams lists that w asks for
// and applies their rules. Each is a signal of its own: a failed read
// fails that signal only (its own watch.failing, with "signal"), and says
// nothing of the meetings' sessions.
func (p *Poller) pollMedia(ctx context.Context, w Watch, prevs map[string][]byte) []meetingStep {
	var steps []meetingStep
	rules := p.mediaRules(w)
	watch := p.meeting(w, WatchMeetingID)
	if w.Recordings {
		s, ok := pollSignal(ctx, p, w, prevs[RecordingsMeetingID], signalPoll[diff.RecordingsObservation, diff.MediaState]{
			signal: diff.SignalRecordings, meeting: RecordingsMeetingID,
			read: func(ctx context.Context) signalRead[diff.RecordingsObservation] { return p.readRecordings(ctx, w) },
			apply: func(prev diff.MediaState, obs diff.RecordingsObservation) (diff.MediaState, []diff.Event, []diff.Skipped) {
				return diff.ApplyRecordings(watch, prev, obs, rules)
			},
		})
		if ok {
			steps = append(steps, s)
		}
	}
	if w.Livestreams {
		s, ok := pollSignal(ctx, p, w, prevs[LivestreamsMeetingID], signalPoll[diff.LivestreamsObservation, diff.MediaState]{
			signal: diff.SignalLivestreams, meeting: LivestreamsMeetingID,
			read: func(ctx context.Context) signalRead[diff.LivestreamsObservation] { return p.readLivestreams(ctx, w) },
			apply: func(prev diff.MediaState, obs diff.LivestreamsObservation) (diff.MediaState, []diff.Event, []diff.Skipped) {
				return diff.ApplyLivestreams(watch, prev, obs, rules)
			},
		})
		if ok {
			steps = append(steps, s)
		}
	}
	return steps
}

// mediaRules are w's rules for its recordings and livestreams: events for
// its explicit meetings, or for every meeting of the app when it is
// all_live.
func (p *Poller) mediaRules(w Watch) diff.MediaRules {
	r := diff.MediaRules{
		FailingAfter: w.Rules.FailingAfter, FailingRatio: w.Rules.FailingRatio,
		RecoverAfter: w.Rules.RecoverAfter, RemindEvery: w.Rules.RemindEvery,
	}
	if !w.AllLive {
		watched := make(map[string]bool, len(w.Meetings))
		for _, m := range w.Meetings {
			watched[m] = true
		}
		r.Watched = func(id string) bool { return watched[id] }
	}
	return r
}

// readRecordings reads the app's recordings list of the media horizon.
func (p *Poller) readRecordings(ctx context.Context, w Watch) signalRead[diff.RecordingsObservation] {
	list, err := listRequest(ctx, p, w.Name, func(ctx context.Context, before func(context.Context) error) (rtkapi.RecordingList, error) {
		return p.api.Recordings(ctx, w.AppID, p.listOptions(readKey{w.AppID, diff.SignalRecordings}, before))
	})
	return completed(p, err, list.Problems, func(at time.Time, f *diff.Failure) diff.RecordingsObservation {
		obs := diff.RecordingsObservation{At: at, Failure: f}
		for _, rec := range list.Recordings {
			obs.Recordings = append(obs.Recordings, diff.Recording(rec))
		}
		return obs
	})
}

// readLivestreams reads the app's livestreams list of the media horizon.
func (p *Poller) readLivestreams(ctx context.Context, w Watch) signalRead[diff.LivestreamsObservation] {
	list, err := listRequest(ctx, p, w.Name, func(ctx context.Context, before func(context.Context) error) (rtkapi.LivestreamList, error) {
		return p.api.Livestreams(ctx, w.AppID, p.listOptions(readKey{w.AppID, diff.SignalLivestreams}, before))
	})
	return completed(p, err, list.Problems, func(at time.Time, f *diff.Failure) diff.LivestreamsObservation {
		obs := diff.LivestreamsObservation{At: at, Failure: f}
		for _, l := range list.Livestreams {
			obs.Livestreams = append(obs.Livestreams, diff.Livestream(l))
		}
		return obs
	})
}
