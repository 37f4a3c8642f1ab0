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
	r := c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.meetings.GetMeetingByID(ctx, appID, meetingID, p, opts...)
		return err
	})
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
