package rtkapi

import (
	"context"
	"net/url"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// Sessions list defaults.
const (
	// DefaultPerPage is the page size of a [ListRead] when none is asked
	// for.
	DefaultPerPage = 100
	// EndedPerPage is the page size of [EndedList].
	EndedPerPage = 20
)

// Orders of the sessions list, for [ListQuery].
const (
	SortByCreatedAt = "createdAt"
	SortAscending   = "ASC"
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
	// [SortAscending]; "" sends no order.
	SortBy, SortOrder string
	// PageNo is the page asked for; it is sent as is, 0 included.
	PageNo int
	// PerPage is the page size asked for; 0 sends none.
	PerPage int
}

// LiveList is the query of every LIVE session of an app, perPage a page
// (0: [DefaultPerPage]), oldest first.
func LiveList(perPage int) ListQuery {
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	return ListQuery{Status: StatusLive, SortBy: SortByCreatedAt, SortOrder: SortAscending, PerPage: perPage}
}

// EndedList is the query of one meeting's ENDED sessions, newest first,
// where the final numbers of a session that just ended are.
func EndedList(meetingID string) ListQuery {
	return ListQuery{
		Status: StatusEnded, MeetingID: meetingID,
		SortBy: SortByCreatedAt, SortOrder: SortDescending, PerPage: EndedPerPage,
	}
}

// Page is one page of the sessions list.
type Page struct {
	// Sessions are the entries that decoded, in the API's order.
	Sessions []Session
	// Entries is how many entries the page held, decodable or not: a page
	// is full when Entries reaches the page size.
	Entries int
	// Problem names the first entry that did not decode, such as
	// "data.sessions[3].id is missing"; "" when every one did.
	Problem string
	// Paging is the answer's top-level paging object, checked; nil when
	// absent or null.
	Paging *Paging
}

// SessionsPage fetches and decodes one page of an app's sessions. A
// [ListRead] says which pages to fetch.
func (c *Client) SessionsPage(ctx context.Context, appID string, q ListQuery) (Page, error) {
	if appID == "" {
		return Page{}, &Error{Kind: KindClient, Message: "empty app ID"}
	}
	var p realtime_kit.SessionGetSessionsParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	p.Status.Value, p.Status.Present = realtime_kit.SessionGetSessionsParamsStatus(q.Status), q.Status != ""
	p.AssociatedID.Value, p.AssociatedID.Present = q.MeetingID, q.MeetingID != ""
	p.SortBy.Value, p.SortBy.Present = realtime_kit.SessionGetSessionsParamsSortBy(q.SortBy), q.SortBy != ""
	p.SortOrder.Value, p.SortOrder.Present = realtime_kit.SessionGetSessionsParamsSortOrder(q.SortOrder), q.SortOrder != ""
	p.PageNo.Value, p.PageNo.Present = float64(q.PageNo), true
	p.PerPage.Value, p.PerPage.Present = float64(q.PerPage), q.PerPage > 0
	appID = url.PathEscape(appID)
	r := c.call(ctx, viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.sessions.GetSessions(ctx, appID, p, opts...)
		return err
	}))
	defer r.release()
	if r.err != nil {
		return Page{}, r.err
	}
	page, e := decodePage(r.status, r.body)
	if e != nil {
		return Page{}, e
	}
	return page, nil
}
