package rtkapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// Sessions list defaults.
const (
	// DefaultPerPage is the page size of LiveSessions when none is asked for.
	DefaultPerPage = 100
	// maxLivePages guards against a server that ignores page_no.
	maxLivePages = 1000
	// endedPageSize is how many of a meeting's ended sessions, newest
	// first, EndedSession looks through.
	endedPageSize = 20
)

// Orders of the sessions list, for [ListQuery].
const (
	SortByCreatedAt = "createdAt"
	SortDescending  = "DESC"
)

// ListQuery selects one page of an app's sessions (GET …/sessions).
type ListQuery struct {
	// Status is [StatusLive] or [StatusEnded]; "" lists both.
	Status string
	// MeetingID limits the list to one meeting's sessions (associated_id);
	// "" lists every meeting's.
	MeetingID string
	// SortBy and SortOrder order the list, such as [SortByCreatedAt] and
	// [SortDescending]; "" sends no order.
	SortBy, SortOrder string
	// PageNo is the page asked for; it is sent as is, 0 included.
	PageNo int
	// PerPage is the page size asked for; 0 sends none.
	PerPage int
}

// Page is one page of the sessions list.
type Page struct {
	// Sessions are the entries that decoded, in the API's order.
	Sessions []Session
	// Entries is how many entries the page held, decodable or not: a page
	// is full when Entries reaches the page size asked for.
	Entries int
	// Problem names the first entry that did not decode, such as
	// "data.sessions[3].id is missing"; "" when every one did.
	Problem string
	// Paging is the response's top-level "paging" object as sent
	// (total_count, start_offset, end_offset in the API's newer schema);
	// nil when absent or null. It is not checked or interpreted here.
	Paging json.RawMessage
}

// SessionsPage fetches and decodes one page of an app's sessions.
func (c *Client) SessionsPage(ctx context.Context, appID string, q ListQuery) (Page, error) {
	if appID == "" {
		return Page{}, &Error{Kind: KindClient, Message: "empty app ID"}
	}
	page, e := c.sessionsPage(ctx, appID, q)
	if e != nil {
		return Page{}, e
	}
	return page, nil
}

func (c *Client) sessionsPage(ctx context.Context, appID string, q ListQuery) (Page, *Error) {
	var p realtime_kit.SessionGetSessionsParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	p.Status.Value, p.Status.Present = realtime_kit.SessionGetSessionsParamsStatus(q.Status), q.Status != ""
	p.AssociatedID.Value, p.AssociatedID.Present = q.MeetingID, q.MeetingID != ""
	p.SortBy.Value, p.SortBy.Present = realtime_kit.SessionGetSessionsParamsSortBy(q.SortBy), q.SortBy != ""
	p.SortOrder.Value, p.SortOrder.Present = realtime_kit.SessionGetSessionsParamsSortOrder(q.SortOrder), q.SortOrder != ""
	p.PageNo.Value, p.PageNo.Present = float64(q.PageNo), true
	p.PerPage.Value, p.PerPage.Present = float64(q.PerPage), q.PerPage > 0
	appID = url.PathEscape(appID)
	r := c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.sessions.GetSessions(ctx, appID, p, opts...)
		return err
	})
	if r.err != nil {
		return Page{}, r.err
	}
	return decodePage(r.status, r.body)
}

// LiveSessions lists every LIVE session of an app, page by page (page_no
// from 1, perPage sessions a page; perPage <= 0 means [DefaultPerPage])
// until a page holds fewer than perPage entries. It returns the sessions in
// the API's order, without duplicates, and the number of requests made.
// When any page fails it returns no sessions and the error; so it does when
// no entry of the whole list decodes.
func (c *Client) LiveSessions(ctx context.Context, appID string, perPage int) ([]Session, int, error) {
	if appID == "" {
		return nil, 0, &Error{Kind: KindClient, Message: "empty app ID"}
	}
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	var (
		out     []Session
		seen    map[string]struct{}
		problem string // the first entry that did not decode
	)
	for page := 1; ; page++ {
		if page > maxLivePages {
			return nil, page - 1, &Error{Kind: KindDecode, StatusCode: http.StatusOK,
				Message: "sessions list did not end after " + strconv.Itoa(maxLivePages) + " pages"}
		}
		pg, e := c.sessionsPage(ctx, appID, ListQuery{Status: StatusLive, PageNo: page, PerPage: perPage})
		if e != nil {
			return nil, page, e
		}
		if problem == "" {
			problem = pg.Problem
		}
		if page == 1 && pg.Entries < perPage && pg.Problem == "" {
			return pg.Sessions, 1, nil // the common case: one page, nothing to merge
		}
		if seen == nil {
			seen = make(map[string]struct{}, 2*len(pg.Sessions))
		}
		for _, s := range pg.Sessions {
			// Sessions that end between two pages shift the later ones
			// back; one may then appear twice.
			if _, dup := seen[s.ID]; !dup {
				seen[s.ID] = struct{}{}
				out = append(out, s)
			}
		}
		if pg.Entries < perPage {
			if len(out) == 0 && problem != "" {
				// Nothing in the whole list decodes: that is the list failing.
				return nil, page, decodeError(http.StatusOK, problem)
			}
			return out, page, nil
		}
	}
}

// EndedSession fetches the final numbers of an ended session from the
// meeting's ENDED sessions, newest first. It returns nil and no error
// when the session is not listed (yet).
func (c *Client) EndedSession(ctx context.Context, appID, meetingID, sessionID string) (*Session, error) {
	if appID == "" || meetingID == "" {
		return nil, &Error{Kind: KindClient, Message: "empty app or meeting ID"}
	}
	pg, e := c.sessionsPage(ctx, appID, ListQuery{
		Status: StatusEnded, MeetingID: meetingID,
		SortBy: SortByCreatedAt, SortOrder: SortDescending,
		PageNo: 1, PerPage: endedPageSize,
	})
	if e != nil {
		return nil, e
	}
	for i := range pg.Sessions {
		if pg.Sessions[i].ID == sessionID {
			return &pg.Sessions[i], nil
		}
	}
	return nil, nil
}
