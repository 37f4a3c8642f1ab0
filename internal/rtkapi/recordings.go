package rtkapi

import (
	"context"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// Recording is one entry of an app's recordings list
// (realtime_kit.RecordingGetRecordingsResponseData), reduced to what
// rtkwatchd reads. Its download URLs and storage settings, which may grant
// access to the files, are never kept. Status is as the API sent it: the
// caller judges whether it knows it.
type Recording struct {
	ID           string
	MeetingID    string // meeting.id; "" when the entry has no meeting
	MeetingTitle string // meeting.title
	SessionID    string
	Status       string
	// InvokedAt, StartedAt and StoppedAt are zero when the API sent none.
	InvokedAt, StartedAt, StoppedAt time.Time
}

// recordingWire is the JSON of one recording, each field as the SDK
// types it; fields rtkwatchd does not read are left out.
type recordingWire struct {
	ID          text `json:"id"`
	SessionID   text `json:"session_id"`
	Status      text `json:"status"`
	InvokedTime text `json:"invoked_time"`
	StartedTime text `json:"started_time"`
	StoppedTime text `json:"stopped_time"`
	Meeting     *struct {
		ID    text `json:"id"`
		Title text `json:"title"`
	} `json:"meeting"`
}

// RecordingList is what [Client.Recordings] read.
type RecordingList struct {
	// Recordings are the entries that decoded, oldest invoked first.
	Recordings []Recording
	// Problems name the entries that did not decode, which are left out:
	// "data[3].status is a JSON number, not a string".
	Problems []string
	// Pages is how many requests the read made.
	Pages int
}

// Recordings reads an app's recordings list, every page of it, sorted by
// invoked_time, oldest first (see ListOptions and readList for how the
// pages are followed). An entry that does not decode is left out and named
// in Problems; a page that fails fails the whole read, with an [*Error].
func (c *Client) Recordings(ctx context.Context, appID string, o ListOptions) (RecordingList, error) {
	items, problems, pages, err := readAppList(ctx, c, appID, o, recordingsList)
	if err != nil {
		return RecordingList{Pages: pages}, err
	}
	return RecordingList{Recordings: items, Problems: problems, Pages: pages}, nil
}

// recordingsList reads GET …/recordings.
var recordingsList = appList[recordingWire, Recording]{
	send: func(c *Client, ctx context.Context, appID string, o ListOptions, pageNo, perPage int, opts ...option.RequestOption) error {
		var p realtime_kit.RecordingGetRecordingsParams
		p.AccountID.Value, p.AccountID.Present = c.accountID, true
		p.SortBy.Value, p.SortBy.Present = realtime_kit.RecordingGetRecordingsParamsSortByInvokedTime, true
		p.SortOrder.Value, p.SortOrder.Present = realtime_kit.RecordingGetRecordingsParamsSortOrderAsc, true
		p.StartTime.Value, p.StartTime.Present = o.Since.UTC(), !o.Since.IsZero()
		p.PageNo.Value, p.PageNo.Present = float64(pageNo), true
		p.PerPage.Value, p.PerPage.Present = float64(perPage), true
		_, err := c.recordings.GetRecordings(ctx, appID, p, opts...)
		return err
	},
	entry: func(at string, w *recordingWire) (Recording, string, string) {
		r := Recording{ID: w.ID.v, SessionID: w.SessionID.v, Status: w.Status.v}
		fields := []textField{{"id", &w.ID}, {"session_id", &w.SessionID}, {"status", &w.Status}}
		if m := w.Meeting; m != nil {
			r.MeetingID, r.MeetingTitle = m.ID.v, m.Title.v
			fields = append(fields, textField{"meeting.id", &m.ID}, textField{"meeting.title", &m.Title})
		}
		problem := checkTexts(at, fields)
		if problem == "" {
			r.InvokedAt, problem = timeField(at, "invoked_time", &w.InvokedTime)
		}
		if problem == "" {
			r.StartedAt, problem = timeField(at, "started_time", &w.StartedTime)
		}
		if problem == "" {
			r.StoppedAt, problem = timeField(at, "stopped_time", &w.StoppedTime)
		}
		return r, w.ID.v, problem
	},
}
