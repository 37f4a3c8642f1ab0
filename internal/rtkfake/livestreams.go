package rtkfake

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Livestream statuses, as the API reports them.
const (
	LivestreamLive    = "LIVE"
	LivestreamIdle    = "IDLE"
	LivestreamErrored = "ERRORED"
	LivestreamInvoked = "INVOKED"
)

// Livestream is one livestream of an app, as tests script it. The fake
// serves it in the shape of the SDK's
// LivestreamGetAllLivestreamsResponseData; meeting_id is null when
// MeetingID is empty (a livestream of the app's own, not of a meeting).
type Livestream struct {
	ID, MeetingID, Name, Status string
	// CreatedAt and UpdatedAt are timestamps in TimeFormat.
	CreatedAt, UpdatedAt string
	Disabled             string
	IngestServer         string
	StreamKey            string // a secret of the real API; made up here
	PlaybackURL          string
}

// livestreamWire is the JSON of a Livestream.
type livestreamWire struct {
	ID           string  `json:"id"`
	CreatedAt    string  `json:"created_at"`
	Disabled     string  `json:"disabled"`
	IngestServer string  `json:"ingest_server"`
	MeetingID    *string `json:"meeting_id"`
	Name         string  `json:"name"`
	PlaybackURL  string  `json:"playback_url"`
	Status       string  `json:"status"`
	StreamKey    string  `json:"stream_key"`
	UpdatedAt    string  `json:"updated_at"`
}

func (l *Livestream) wire() livestreamWire {
	return livestreamWire{
		ID: l.ID, CreatedAt: l.CreatedAt, Disabled: l.Disabled, IngestServer: l.IngestServer, MeetingID: nullable(l.MeetingID),
		Name: l.Name, PlaybackURL: l.PlaybackURL, Status: l.Status, StreamKey: l.StreamKey, UpdatedAt: l.UpdatedAt,
	}
}

// livestreamsBody is the livestreams route's answer. The SDK (v6.10.0)
// declares "data" as one livestream object with a "paging" object inside;
// a list cannot be that, and the fake serves what the recordings list
// serves instead: "data" an array of livestream objects, "paging" beside
// it. The SDK's GetAllLivestreams call succeeds on it, and each element
// decodes as a LivestreamGetAllLivestreamsResponseData; read the array
// from the raw body.
type livestreamsBody struct {
	Success bool             `json:"success"`
	Data    []livestreamWire `json:"data"`
	Paging  paging           `json:"paging"`
}

// AddLivestream adds a livestream to an app and returns its id. It fills in
// what the API would: an id when l.ID is empty, status INVOKED when
// l.Status is empty, created_at and updated_at (now), the ingest server,
// stream key and playback URL. A livestream already added under that id is
// replaced.
func (s *Server) AddLivestream(appID string, l Livestream) string {
	now := s.now().UTC().Format(TimeFormat)
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.ID == "" {
		l.ID = s.newIDLocked()
	}
	if l.Status == "" {
		l.Status = LivestreamInvoked
	}
	if l.CreatedAt == "" {
		l.CreatedAt = now
	}
	if l.UpdatedAt == "" {
		l.UpdatedAt = now
	}
	if l.IngestServer == "" {
		l.IngestServer = "rtmps://ingest.example.com:443/live"
	}
	if l.StreamKey == "" {
		l.StreamKey = "sk-fake-" + l.ID
	}
	if l.PlaybackURL == "" {
		l.PlaybackURL = "https://playback.example.com/" + l.ID + "/index.m3u8"
	}
	if l.Disabled == "" {
		l.Disabled = "false"
	}
	a := s.app(appID)
	if a.livestreams == nil {
		a.livestreams = make(map[string]*Livestream)
	}
	a.livestreams[l.ID] = &l
	return l.ID
}

// SetLivestreamStatus sets a livestream's status and its updated_at to
// now. It reports whether the app has the livestream.
func (s *Server) SetLivestreamStatus(appID, livestreamID, status string) bool {
	now := s.now().UTC().Format(TimeFormat)
	return s.UpdateLivestream(appID, livestreamID, func(l *Livestream) { l.Status, l.UpdatedAt = status, now })
}

// UpdateLivestream applies f to a copy of a livestream and stores the
// result (its id stays). It reports whether the app has the livestream; f
// is not called otherwise.
func (s *Server) UpdateLivestream(appID, livestreamID string, f func(*Livestream)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.livestreams[livestreamID] == nil {
		return false
	}
	l := *a.livestreams[livestreamID]
	f(&l)
	l.ID = livestreamID
	a.livestreams[livestreamID] = &l
	return true
}

// Livestreams returns copies of an app's livestreams, by created_at, then
// id.
func (s *Server) Livestreams(appID string) []Livestream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Livestream
	if a := s.apps[appID]; a != nil {
		for _, l := range a.livestreams {
			out = append(out, *l)
		}
	}
	slices.SortFunc(out, func(a, b Livestream) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// serveLivestreams answers GET …/livestreams with the query parameters the
// SDK sends: status (one of LIVE, IDLE, ERRORED, INVOKED), exclude_meetings
// (true leaves out the livestreams of meetings), start_time and end_time
// (RFC 3339; created_at within them), sort_order (DSC, the default, or
// ASC; by created_at, then id), page_no and per_page.
func (s *Server) serveLivestreams(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("app_id")
	s.countList(RouteLivestreams, appID)
	if !s.admit(w, r, RouteLivestreams, appID, "", func() []byte { return s.livestreamsPage(appID, livestreamQuery{pageNo: 1, perPage: 1}) }) {
		return
	}
	lq, problem := parseLivestreamQuery(r.URL.Query())
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, rtkError(400, problem))
		return
	}
	writeJSON(w, http.StatusOK, s.livestreamsPage(appID, lq))
}

// livestreamQuery is a parsed livestreams request.
type livestreamQuery struct {
	status          string
	excludeMeetings bool
	start, end      time.Time
	asc             bool
	pageNo, perPage int
}

func parseLivestreamQuery(q map[string][]string) (livestreamQuery, string) {
	v := func(k string) string {
		if len(q[k]) == 0 {
			return ""
		}
		return q[k][0]
	}
	var lq livestreamQuery
	switch lq.status = v("status"); lq.status {
	case "", LivestreamLive, LivestreamIdle, LivestreamErrored, LivestreamInvoked:
	default:
		return lq, "status must be one of LIVE, IDLE, ERRORED, INVOKED"
	}
	if e := v("exclude_meetings"); e != "" {
		b, err := strconv.ParseBool(e)
		if err != nil {
			return lq, "exclude_meetings must be true or false"
		}
		lq.excludeMeetings = b
	}
	var problem string
	if lq.start, lq.end, problem = timeRange(v("start_time"), v("end_time")); problem != "" {
		return lq, problem
	}
	switch v("sort_order") {
	case "", "DSC":
	case "ASC":
		lq.asc = true
	default:
		return lq, "sort_order must be ASC or DSC"
	}
	lq.pageNo, lq.perPage, problem = pageParams(q)
	return lq, problem
}

// livestreamsPage encodes one page of an app's livestreams.
func (s *Server) livestreamsPage(appID string, lq livestreamQuery) []byte {
	var found []livestreamWire
	s.mu.RLock()
	if a := s.apps[appID]; a != nil {
		for _, l := range a.livestreams {
			if (lq.status == "" || l.Status == lq.status) && !(lq.excludeMeetings && l.MeetingID != "") &&
				within(l.CreatedAt, lq.start, lq.end) {
				found = append(found, l.wire())
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b livestreamWire) int {
		c := cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
		if lq.asc {
			return c
		}
		return -c
	})
	page, pg := pageOf(found, lq.pageNo, lq.perPage)
	return mustMarshal(livestreamsBody{Success: true, Data: page, Paging: pg})
}
