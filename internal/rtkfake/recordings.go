package rtkfake

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Recording statuses, as the API reports them.
const (
	RecordingInvoked   = "INVOKED"
	RecordingRecording = "RECORDING"
	RecordingPaused    = "PAUSED"
	RecordingUploading = "UPLOADING"
	RecordingUploaded  = "UPLOADED"
	RecordingErrored   = "ERRORED"
)

// Recording is one recording of an app, as tests script it. The fake
// serves it in the shape of the SDK's RecordingGetRecordingsResponseData:
// empty optional fields are null, and the meeting is an object (absent
// when MeetingID is empty: a recording without a meeting).
type Recording struct {
	ID           string
	MeetingID    string
	MeetingTitle string
	SessionID    string
	Status       string
	// InvokedTime, StartedTime and StoppedTime are timestamps in
	// TimeFormat; empty means null (InvokedTime is filled in when added).
	InvokedTime, StartedTime, StoppedTime string
	DownloadURL                           string
	FileSize                              float64
	OutputFileName                        string
	RecordingDuration                     int64 // seconds
}

// recordingWire is the JSON of a Recording.
type recordingWire struct {
	ID                string          `json:"id"`
	AudioDownloadURL  *string         `json:"audio_download_url"`
	DownloadURL       *string         `json:"download_url"`
	DownloadURLExpiry *string         `json:"download_url_expiry"`
	FileSize          *float64        `json:"file_size"`
	InvokedTime       string          `json:"invoked_time"`
	OutputFileName    string          `json:"output_file_name"`
	SessionID         *string         `json:"session_id"`
	StartedTime       *string         `json:"started_time"`
	Status            string          `json:"status"`
	StoppedTime       *string         `json:"stopped_time"`
	Meeting           *recordingOwner `json:"meeting,omitempty"`
	RecordingDuration int64           `json:"recording_duration"`
	StorageConfig     *struct{}       `json:"storage_config"`
}

// recordingOwner is the "meeting" object of a recording.
type recordingOwner struct {
	ID                         string  `json:"id"`
	CreatedAt                  string  `json:"created_at"`
	UpdatedAt                  string  `json:"updated_at"`
	LiveStreamOnStart          bool    `json:"live_stream_on_start"`
	PersistChat                bool    `json:"persist_chat"`
	RecordOnStart              bool    `json:"record_on_start"`
	SessionKeepAliveTimeInSecs float64 `json:"session_keep_alive_time_in_secs"`
	Status                     string  `json:"status"`
	SummarizeOnEnd             bool    `json:"summarize_on_end"`
	Title                      string  `json:"title"`
}

func (r *Recording) wire() recordingWire {
	w := recordingWire{
		ID: r.ID, DownloadURL: nullable(r.DownloadURL), InvokedTime: r.InvokedTime, OutputFileName: r.OutputFileName,
		SessionID: nullable(r.SessionID), StartedTime: nullable(r.StartedTime), Status: r.Status,
		StoppedTime: nullable(r.StoppedTime), RecordingDuration: r.RecordingDuration,
	}
	if r.DownloadURL != "" && r.StoppedTime != "" {
		if t, err := time.Parse(TimeFormat, r.StoppedTime); err == nil {
			w.DownloadURLExpiry = nullable(t.Add(7 * 24 * time.Hour).Format(TimeFormat))
		}
	}
	if r.FileSize != 0 {
		w.FileSize = &r.FileSize
	}
	if r.MeetingID != "" {
		w.Meeting = &recordingOwner{
			ID: r.MeetingID, CreatedAt: r.InvokedTime, UpdatedAt: r.InvokedTime, Status: "ACTIVE",
			SessionKeepAliveTimeInSecs: 60, Title: r.MeetingTitle,
		}
	}
	return w
}

// nullable returns nil for "", else a pointer to s.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// recordingsBody is the recordings route's answer.
type recordingsBody struct {
	Success bool            `json:"success"`
	Data    []recordingWire `json:"data"`
	Paging  paging          `json:"paging"`
}

// AddRecording adds a recording to an app and returns its id. It fills in
// what the API would: an id when r.ID is empty, status INVOKED when
// r.Status is empty, invoked_time (now) and output_file_name. A recording
// already added under that id is replaced.
func (s *Server) AddRecording(appID string, r Recording) string {
	now := s.now().UTC().Format(TimeFormat)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == "" {
		r.ID = s.newIDLocked()
	}
	if r.Status == "" {
		r.Status = RecordingInvoked
	}
	if r.InvokedTime == "" {
		r.InvokedTime = now
	}
	if r.OutputFileName == "" {
		r.OutputFileName = r.ID + ".mp4"
	}
	a := s.app(appID)
	if a.recordings == nil {
		a.recordings = make(map[string]*Recording)
	}
	a.recordings[r.ID] = &r
	return r.ID
}

// SetRecordingStatus moves a recording to status, setting what the API
// would with it: started_time on RECORDING, stopped_time and
// recording_duration on UPLOADING, UPLOADED or ERRORED (when not set yet),
// and on UPLOADED a download URL and a file size. It reports whether the
// app has the recording.
func (s *Server) SetRecordingStatus(appID, recordingID, status string) bool {
	now := s.now().UTC()
	return s.UpdateRecording(appID, recordingID, func(r *Recording) {
		r.Status = status
		switch status {
		case RecordingRecording:
			if r.StartedTime == "" {
				r.StartedTime = now.Format(TimeFormat)
			}
		case RecordingUploading, RecordingUploaded, RecordingErrored:
			if r.StoppedTime == "" {
				r.StoppedTime = now.Format(TimeFormat)
				if t, err := time.Parse(TimeFormat, r.StartedTime); err == nil {
					r.RecordingDuration = int64(now.Sub(t) / time.Second)
				}
			}
			if status == RecordingUploaded && r.DownloadURL == "" {
				r.DownloadURL = "https://recordings.example.com/" + r.OutputFileName
				r.FileSize = 1 << 20
			}
		}
	})
}

// UpdateRecording applies f to a copy of a recording and stores the result
// (its id stays). It reports whether the app has the recording; f is not
// called otherwise.
func (s *Server) UpdateRecording(appID, recordingID string, f func(*Recording)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.recordings[recordingID] == nil {
		return false
	}
	r := *a.recordings[recordingID]
	f(&r)
	r.ID = recordingID
	a.recordings[recordingID] = &r
	return true
}

// Recordings returns copies of an app's recordings, by invoked_time, then
// id.
func (s *Server) Recordings(appID string) []Recording {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Recording
	if a := s.apps[appID]; a != nil {
		for _, r := range a.recordings {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Recording) int {
		return cmp.Or(cmp.Compare(a.InvokedTime, b.InvokedTime), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// serveRecordings answers GET …/recordings with the query parameters the
// SDK sends: meeting_id, status (repeated, or comma-separated), start_time
// and end_time (RFC 3339; invoked_time within them, both ends included),
// search (a substring of the meeting id or title), sort_by (invokedTime,
// the default), sort_order (DESC, the default, or ASC), page_no and
// per_page. expired is accepted and ignored. Ties sort by id.
func (s *Server) serveRecordings(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("app_id")
	q := r.URL.Query()
	meetingID := q.Get("meeting_id")
	s.countList(RouteRecordings, appID)
	if !s.admit(w, r, RouteRecordings, appID, meetingID, func() []byte { return s.recordingsPage(appID, recordingQuery{perPage: 1, pageNo: 1}) }) {
		return
	}
	rq, problem := parseRecordingQuery(q)
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, rtkError(400, problem))
		return
	}
	writeJSON(w, http.StatusOK, s.recordingsPage(appID, rq))
}

// recordingQuery is a parsed recordings request.
type recordingQuery struct {
	meetingID, search string
	statuses          []string
	start, end        time.Time
	asc               bool
	pageNo, perPage   int
}

func parseRecordingQuery(q map[string][]string) (recordingQuery, string) {
	v := func(k string) string {
		if len(q[k]) == 0 {
			return ""
		}
		return q[k][0]
	}
	rq := recordingQuery{meetingID: v("meeting_id"), search: v("search")}
	for _, st := range q["status"] {
		for part := range strings.SplitSeq(st, ",") {
			switch part {
			case RecordingInvoked, RecordingRecording, RecordingPaused, RecordingUploading, RecordingUploaded, RecordingErrored:
				rq.statuses = append(rq.statuses, part)
			default:
				return rq, "status must be one of INVOKED, RECORDING, PAUSED, UPLOADING, UPLOADED, ERRORED"
			}
		}
	}
	var problem string
	if rq.start, rq.end, problem = timeRange(v("start_time"), v("end_time")); problem != "" {
		return rq, problem
	}
	if sb := v("sort_by"); sb != "" && sb != "invokedTime" {
		return rq, "sort_by must be invokedTime"
	}
	switch v("sort_order") {
	case "", "DESC":
	case "ASC":
		rq.asc = true
	default:
		return rq, "sort_order must be ASC or DESC"
	}
	rq.pageNo, rq.perPage, problem = pageParams(q)
	return rq, problem
}

// timeRange parses optional RFC 3339 start and end times.
func timeRange(start, end string) (time.Time, time.Time, string) {
	var s, e time.Time
	var err error
	if start != "" {
		if s, err = time.Parse(time.RFC3339Nano, start); err != nil {
			return s, e, "start_time must be an ISO 8601 date-time"
		}
	}
	if end != "" {
		if e, err = time.Parse(time.RFC3339Nano, end); err != nil {
			return s, e, "end_time must be an ISO 8601 date-time"
		}
	}
	return s, e, ""
}

// within reports whether the timestamp ts lies in [start, end], an empty
// bound being open.
func within(ts string, start, end time.Time) bool {
	if start.IsZero() && end.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return err == nil && (start.IsZero() || !t.Before(start)) && (end.IsZero() || !t.After(end))
}

// recordingsPage encodes one page of an app's recordings.
func (s *Server) recordingsPage(appID string, rq recordingQuery) []byte {
	var found []recordingWire
	s.mu.RLock()
	if a := s.apps[appID]; a != nil {
		for _, r := range a.recordings {
			if (rq.meetingID == "" || r.MeetingID == rq.meetingID) &&
				(len(rq.statuses) == 0 || slices.Contains(rq.statuses, r.Status)) &&
				within(r.InvokedTime, rq.start, rq.end) &&
				(rq.search == "" || strings.Contains(r.MeetingID, rq.search) || strings.Contains(r.MeetingTitle, rq.search)) {
				found = append(found, r.wire())
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b recordingWire) int {
		c := cmp.Or(cmp.Compare(a.InvokedTime, b.InvokedTime), cmp.Compare(a.ID, b.ID))
		if rq.asc {
			return c
		}
		return -c
	})
	page, pg := pageOf(found, rq.pageNo, rq.perPage)
	return mustMarshal(recordingsBody{Success: true, Data: page, Paging: pg})
}

// newIDLocked returns a fresh UUID-shaped id. The caller holds s.mu.
func (s *Server) newIDLocked() string {
	s.nextID++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.nextID>>48, s.nextID&0xffffffffffff)
}
