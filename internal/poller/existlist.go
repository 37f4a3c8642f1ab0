package poller

import (
	"context"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// meetingLister reads an app's meetings list; *rtkapi.Client provides it.
// Without it, [Poller.CheckMeetings] asks every meeting directly.
type meetingLister interface {
	MeetingsPage(ctx context.Context, appID string, pageNo, perPage int) (rtkapi.MeetingsPage, error)
}

// maxMeetingPages bounds a read of the meetings list, whatever its paging
// says.
const maxMeetingPages = 1000

// listMeetings reads appID's meetings list, page by page through the
// budget at its lower priority, and returns which of ids it shows. It
// stops when it has found them all, at the list's end (the paging object's
// total_count, or, without one, a short or empty page), on a failure, and
// as soon as the pages left would cost as many requests as asking the
// meetings not found yet directly, which the caller then does: the check
// costs one request per 100 meetings when the list shows them, and at
// most two per meeting when it lacks them (wrong ids). The list's order does not matter: it only proves that
// a meeting exists.
func (p *Poller) listMeetings(ctx context.Context, watch, appID string, ids []string) map[string]bool {
	found := make(map[string]bool, len(ids))
	l, ok := p.api.(meetingLister)
	if !ok {
		return found
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	entries, perPage := 0, 0 // read so far; the page size the API keeps
	for page := 1; page <= maxMeetingPages; page++ {
		mp, err := spareRequest(ctx, p, watch, func(ctx context.Context) (rtkapi.MeetingsPage, error) {
			return l.MeetingsPage(ctx, appID, page, rtkapi.MeetingsPerPage)
		})
		if err != nil {
			return found
		}
		for _, id := range mp.IDs {
			if want[id] {
				found[id] = true
			}
		}
		entries += mp.Entries
		perPage = max(perPage, mp.Entries)
		left := len(ids) - len(found)
		switch {
		case left == 0 || mp.Entries == 0:
			return found
		case mp.Paging != nil:
			rest := mp.Paging.TotalCount - entries
			if rest <= 0 || (rest+perPage-1)/perPage >= left {
				return found
			}
		case mp.Entries < rtkapi.MeetingsPerPage || page >= left:
			return found
		}
	}
	return found
}
