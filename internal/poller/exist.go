package poller

import (
	"context"
	"errors"
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
// exists (GET …/meetings/{id}): once per app and meeting however many
// watches name it, one request at a time, each through the budget like
// any poll, and not at all for a meeting that known holds. It adds the
// meetings that exist to known and returns the problems, in the order of
// the watches and their meetings, each meeting under every watch that
// names it. It stops early, with ctx's error, when ctx ends.
func (p *Poller) CheckMeetings(ctx context.Context, watches []Watch, known *KnownMeetings) ([]MeetingProblem, error) {
	answers := make(map[[2]string]error) // nil: the meeting exists
	var problems []MeetingProblem
	for _, w := range watches {
		for _, id := range w.Meetings {
			key := [2]string{w.AppID, id}
			answer, asked := answers[key]
			if !asked {
				if known.has(w.AppID, id) {
					continue
				}
				_, answer = request(ctx, p, w.Name, func(ctx context.Context) (struct{}, error) {
					return struct{}{}, p.api.Meeting(ctx, w.AppID, id)
				})
				if ctx.Err() != nil {
					return problems, ctx.Err()
				}
				answers[key] = answer
				if answer == nil {
					known.add(w.AppID, id)
				}
			}
			if answer != nil {
				problems = append(problems, MeetingProblem{Watch: w.Name, AppID: w.AppID, MeetingID: id, Err: answer})
			}
		}
	}
	return problems, nil
}
