package rtkapi

import (
	"context"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// Livestream is one entry of an app's livestreams list
// (realtime_kit.LivestreamGetAllLivestreamsResponseData), reduced to what
// rtkwatchd reads. Its stream key and ingest server, which let anyone
// broadcast on it, are never kept. Status is as the API sent it.
type Livestream struct {
	ID        string
	MeetingID string // "" (null) for a livestream of the app's own, not of a meeting
	Name      string
	Status    string
	// CreatedAt and UpdatedAt are zero when the API sent none.
	CreatedAt, UpdatedAt time.Time
}

// livestreamWire is the JSON of one livestream, each field as the SDK
// types it; fields rtkwatchd does not read are left out.
type livestreamWire struct {
	ID        text `json:"id"`
	MeetingID text `json:"meeting_id"`
	Name      text `json:"name"`
	Status    text `json:"status"`
	CreatedAt text `json:"created_at"`
	UpdatedAt text `json:"updated_at"`
}

// LivestreamList is what [Client.Livestreams] read.
type LivestreamList struct {
	// Livestreams are the entries that decoded, oldest created first.
	Livestreams []Livestream
	// Problems name the entries that did not decode, which are left out.
	Problems []string
	// Pages is how many requests the read made.
	Pages int
}

// Livestreams reads an app's livestreams list, every page of it, sorted by
// created_at, oldest first, as [Client.Recordings] reads recordings. SDK
// v6.10.0 declares the list's "data" as one livestream object; the API,
// like the recordings list, sends an array of them, so the body is read
// as it comes rather than through the SDK's type. A "data" that is not a
// list fails the read.
func (c *Client) Livestreams(ctx context.Context, appID string, o ListOptions) (LivestreamList, error) {
	items, problems, pages, err := readAppList(ctx, c, appID, o, livestreamsList)
	if err != nil {
		return LivestreamList{Pages: pages}, err
	}
	return LivestreamList{Livestreams: items, Problems: problems, Pages: pages}, nil
}

// livestreamsList reads GET …/livestreams.
var livestreamsList = appList[livestreamWire, Livestream]{
	send: func(c *Client, ctx context.Context, appID string, o ListOptions, pageNo, perPage int, opts ...option.RequestOption) error {
		var p realtime_kit.LivestreamGetAllLivestreamsParams
		p.AccountID.Value, p.AccountID.Present = c.accountID, true
		p.SortOrder.Value, p.SortOrder.Present = realtime_kit.LivestreamGetAllLivestreamsParamsSortOrderAsc, true
		p.StartTime.Value, p.StartTime.Present = o.Since.UTC(), !o.Since.IsZero()
		p.PageNo.Value, p.PageNo.Present = int64(pageNo), true
		p.PerPage.Value, p.PerPage.Present = int64(perPage), true
		_, err := c.livestreams.GetAllLivestreams(ctx, appID, p, opts...)
		return err
	},
	entry: func(at string, w *livestreamWire) (Livestream, string, string) {
		l := Livestream{ID: w.ID.v, MeetingID: w.MeetingID.v, Name: w.Name.v, Status: w.Status.v}
		problem := checkTexts(at, []textField{{"id", &w.ID}, {"meeting_id", &w.MeetingID}, {"name", &w.Name}, {"status", &w.Status}})
		if problem == "" {
			l.CreatedAt, problem = timeField(at, "created_at", &w.CreatedAt)
		}
		if problem == "" {
			l.UpdatedAt, problem = timeField(at, "updated_at", &w.UpdatedAt)
		}
		return l, w.ID.v, problem
	},
}
