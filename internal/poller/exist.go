package poller

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// MeetingProblem is an explicit meeting of a watch that the API says its
// app does not have, or that could not be asked about. A meeting that does
// not exist never has a session: without this check it would look idle
// for ever.
type MeetingProblem struct {
	Watch     string
	AppID     string
	MeetingID string
	// Err is rtkapi.ErrUnknownMeeting when the app has no such meeting,
	// else the failure of the request.
	Err error
}

// Unknown reports whether the app has no such meeting, rather than the
// question failing.
func (m MeetingProblem) Unknown() bool { return errors.Is(m.Err, rtkapi.ErrUnknownMeeting) }

// KnownMeetings remembers the meetings the API has said exist, so that a
// reload asks only about the others. The zero value is empty and ready; it
// is safe for concurrent use.
type KnownMeetings struct {
	mu    sync.Mutex
	known map[[2]string]bool // app and meeting
}

func (k *KnownMeetings) has(appID, meetingID string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.known[[2]string{appID, meetingID}]
}

func (k *KnownMeetings) add(appID, meetingID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.known == nil {
		k.known = make(map[[2]string]bool)
	}
	k.known[[2]string{appID, meetingID}] = true
}

// CheckMeetings asks the API whether each explicit meeting of watches
// exists, once per app and meeting however many watches name it, and not
// at all for a meeting that known holds. An app with [ListMinMeetings] or
// more such meetings is read through its meetings list first (GET
// …/meetings, 100 a page; see [Poller.listMeetings]), which says in one
// request that up to 100 exist; every meeting not found there is asked
// directly (GET …/meetings/{id}), so only that answer calls a meeting
// unknown. Requests go one at a time, each through the budget at its lower
// priority ([Budget.WaitSpare]), so that the check never takes the
// requests that polling needs. It adds the meetings that exist to known
// and returns the problems, in the order of the watches and their
// meetings, each meeting under every watch that names it. It stops early,
// with ctx's error, when ctx ends.
func (p *Poller) CheckMeetings(ctx context.Context, watches []Watch, known *KnownMeetings) ([]MeetingProblem, error) {
	type app struct {
		watch string   // the first watch that names it, for LastProgress
		ids   []string // to ask, in order, once each
	}
	var apps []string
	byApp := make(map[string]*app)
	for _, w := range watches {
		for _, id := range w.Meetings {
			a := byApp[w.AppID]
			if a == nil {
				a = &app{watch: w.Name}
				byApp[w.AppID] = a
				apps = append(apps, w.AppID)
			}
			if !known.has(w.AppID, id) && !slices.Contains(a.ids, id) {
				a.ids = append(a.ids, id)
			}
		}
	}
	answers := make(map[[2]string]error) // nil: the meeting exists
	for _, appID := range apps {
		a := byApp[appID]
		listed := make(map[string]bool)
		if len(a.ids) >= ListMinMeetings {
			listed = p.listMeetings(ctx, a.watch, appID, a.ids)
		}
		for _, id := range a.ids {
			var answer error
			if !listed[id] {
				_, answer = spareRequest(ctx, p, a.watch, func(ctx context.Context) (struct{}, error) {
					return struct{}{}, p.api.Meeting(ctx, appID, id)
				})
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			answers[[2]string{appID, id}] = answer
			if answer == nil {
				known.add(appID, id)
			}
		}
	}
	var problems []MeetingProblem
	for _, w := range watches {
		for _, id := range w.Meetings {
			if answer := answers[[2]string{w.AppID, id}]; answer != nil {
				problems = append(problems, MeetingProblem{Watch: w.Name, AppID: w.AppID, MeetingID: id, Err: answer})
			}
		}
	}
	return problems, nil
}
