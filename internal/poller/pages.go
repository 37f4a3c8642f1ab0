package poller

import (
	"context"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// endedLookupPages bounds how many pages of a meeting's ended sessions,
// newest first, the final numbers of a session are looked for in: it
// ended moments ago, so it is among the newest if it is listed yet.
const endedLookupPages = 3

// readPages sends the pages that r asks for, one request at a time, each
// through the budget, until r has read its list or enough (when not nil)
// says that the page just added is enough. It returns the first failure: a
// request's, or r's when the pages show that the list cannot be read whole.
func (p *Poller) readPages(ctx context.Context, w Watch, r *rtkapi.ListRead, enough func(rtkapi.Page) bool) error {
	for {
		q, ok := r.Next()
		if !ok {
			return nil
		}
		page, err := request(ctx, p, w.Name, func(ctx context.Context) (rtkapi.Page, error) {
			return p.api.SessionsPage(ctx, w.AppID, q)
		})
		if err != nil {
			return err
		}
		if err := r.Add(page); err != nil {
			return err
		}
		if enough != nil && enough(page) {
			return nil
		}
	}
}

// liveSessions reads every live session of w's app. It starts from what
// earlier reads of the watch showed of the API's pages, and keeps what this
// one showed, and how many pages it took, for the next cycle.
func (p *Poller) liveSessions(ctx context.Context, w Watch) ([]rtkapi.Session, *rtkapi.ListRead, error) {
	p.mu.Lock()
	hint := p.hints[w.Name]
	p.mu.Unlock()
	r := rtkapi.NewListRead(rtkapi.LiveList(p.opts.PerPage), hint)
	err := p.readPages(ctx, w, r, nil)
	var sessions []rtkapi.Session
	if err == nil {
		sessions, err = r.Sessions()
	}
	p.mu.Lock()
	p.hints[w.Name] = r.Hint()
	if r.Requests() > 0 {
		p.pages[w.Name] = r.Requests()
	}
	p.mu.Unlock()
	return sessions, r, err
}

// finalNumbers fetches an ended session's final numbers from its
// meeting's ENDED sessions; nil when the API does not list it (yet) or the
// read fails: the event goes out without.
func (p *Poller) finalNumbers(ctx context.Context, w Watch, meetingID, sessionID string) *diff.Session {
	r := rtkapi.NewListRead(rtkapi.EndedList(meetingID), rtkapi.PageHint{})
	var found *rtkapi.Session
	err := p.readPages(ctx, w, r, func(page rtkapi.Page) bool {
		for i := range page.Sessions {
			if page.Sessions[i].ID == sessionID {
				found = &page.Sessions[i]
				return true
			}
		}
		return r.Requests() >= endedLookupPages
	})
	if err != nil {
		if ctx.Err() == nil {
			p.opts.Logger.Warn().Str(logWatch, w.Name).Str(logMeeting, meetingID).Str(logSession, sessionID).
				Str(logError, err.Error()).Msg("final numbers of ended session unavailable")
		}
		return nil
	}
	return session(found)
}
