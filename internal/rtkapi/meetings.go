package rtkapi

import (
	"context"
	"net/url"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// meetingBody is a 2xx answer of GET …/meetings/{meeting_id}: only what
// tells that the meeting exists.
type meetingBody struct {
	Success *bool `json:"success"`
	Data    *struct {
		ID text `json:"id"`
	} `json:"data"`
}

// Meeting asks whether an app has a meeting (GET …/meetings/{meeting_id},
// the SDK's Meetings.GetMeetingByID). It returns nil when it has, and
// [ErrUnknownMeeting] when RealtimeKit answers 404 with its own "error"
// object; a 404 of the Cloudflare gateway (an unknown route, a wrong
// account) is an [*Error] of [KindNotFound], as is every other failure an
// [*Error].
func (c *Client) Meeting(ctx context.Context, appID, meetingID string) error {
	if appID == "" || meetingID == "" {
		return &Error{Kind: KindClient, Message: "empty app or meeting ID"}
	}
	var p realtime_kit.MeetingGetMeetingByIDParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	appID, meetingID = url.PathEscape(appID), url.PathEscape(meetingID)
	r := c.callOwning404(ctx, viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.meetings.GetMeetingByID(ctx, appID, meetingID, p, opts...)
		return err
	}))
	defer r.release()
	switch {
	case r.rtk404:
		return ErrUnknownMeeting
	case r.err != nil:
		return r.err
	}
	var b meetingBody
	if e := unmarshal(r.status, r.body, &b); e != nil {
		return e
	}
	switch {
	case b.Success == nil || !*b.Success:
		return decodeError(r.status, "success is not true")
	case b.Data == nil:
		return decodeError(r.status, "no data object")
	}
	if problem := b.Data.ID.check("id", true); problem != "" {
		return decodeError(r.status, "data."+problem)
	}
	return nil
}

// MeetingsPerPage is the page size of [Client.MeetingsPage] when none is
// asked for.
const MeetingsPerPage = 100

// MeetingsPage is one page of an app's meetings list.
type MeetingsPage struct {
	// IDs are the meetings of the page, in the API's order; an entry
	// without a string id is left out (and counted in Entries).
	IDs []string
	// Entries counts the page's entries, those left out included.
	Entries int
	// Paging is the answer's "paging" object; nil when it sent none.
	Paging *Paging
}

// meetingsBody is a 2xx answer of GET …/meetings.
type meetingsBody struct {
	Success *bool `json:"success"`
	Data    []struct {
		ID text `json:"id"`
	} `json:"data"`
	Paging *wirePaging `json:"paging"`
}

// MeetingsPage reads page pageNo (from 1) of an app's meetings, perPage a
// page (0: [MeetingsPerPage]), with GET …/meetings (the SDK's
// Meetings.Get). The list tells only that a meeting exists; its order is
// the API's. Every failure is an [*Error].
func (c *Client) MeetingsPage(ctx context.Context, appID string, pageNo, perPage int) (MeetingsPage, error) {
	if appID == "" || pageNo < 1 || perPage < 0 {
		return MeetingsPage{}, &Error{Kind: KindClient, Message: "empty app ID, or a page below 1"}
	}
	if perPage == 0 {
		perPage = MeetingsPerPage
	}
	var p realtime_kit.MeetingGetParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	p.PageNo.Value, p.PageNo.Present = float64(pageNo), true
	p.PerPage.Value, p.PerPage.Present = float64(perPage), true
	appID = url.PathEscape(appID)
	r := c.call(ctx, viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.meetings.Get(ctx, appID, p, opts...)
		return err
	}))
	if r.err != nil {
		return MeetingsPage{}, r.err
	}
	var b meetingsBody
	if e := unmarshal(r.status, r.body, &b); e != nil {
		return MeetingsPage{}, e
	}
	if b.Success == nil || !*b.Success {
		return MeetingsPage{}, decodeError(r.status, "success is not true")
	}
	page := MeetingsPage{Entries: len(b.Data), IDs: make([]string, 0, len(b.Data))}
	if b.Paging != nil {
		pg, problem := b.Paging.paging()
		if problem != "" {
			return MeetingsPage{}, decodeError(r.status, "paging."+problem)
		}
		page.Paging = &pg
	}
	for i := range b.Data {
		if b.Data[i].ID.check("id", true) == "" {
			page.IDs = append(page.IDs, b.Data[i].ID.v)
		}
	}
	return page, nil
}
