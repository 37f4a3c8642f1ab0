package rtkfake

import (
	"net/http"
	"slices"
)

// CreateMeeting makes a meeting exist without a session, as creating it
// through the API would; a meeting also exists once a session of it has
// started ([Server.StartSession]). It reports whether the meeting is new.
func (s *Server) CreateMeeting(appID, meetingID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil && a.meetings[meetingID] != nil {
		return false
	}
	s.meeting(appID, meetingID)
	return true
}

// meetingBody is the part of a meeting the fake describes.
type meetingBody struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type meetingResponse struct {
	Success bool        `json:"success"`
	Data    meetingBody `json:"data"`
}

// serveMeeting answers GET …/meetings/{meeting_id}: the meeting, or
// RealtimeKit's own 404 for a meeting that does not exist.
func (s *Server) serveMeeting(w http.ResponseWriter, r *http.Request) {
	appID, meetingID := r.PathValue("app_id"), r.PathValue("meeting_id")
	s.counts.meetings.Add(1)
	body := func() []byte {
		now := s.now().UTC().Format(TimeFormat)
		return mustMarshal(meetingResponse{Success: true, Data: meetingBody{
			ID: meetingID, Title: meetingID, Status: "ACTIVE", CreatedAt: now, UpdatedAt: now,
		}})
	}
	if !s.admit(w, r, RouteMeeting, appID, meetingID, body) {
		return
	}
	s.mu.RLock()
	a := s.apps[appID]
	exists := a != nil && a.meetings[meetingID] != nil
	s.mu.RUnlock()
	if !exists {
		writeJSON(w, http.StatusNotFound, rtkError(404, "Meeting not found"))
		return
	}
	writeJSON(w, http.StatusOK, body())
}

type meetingsResponse struct {
	Success bool          `json:"success"`
	Data    []meetingBody `json:"data"`
	Paging  *paging       `json:"paging,omitempty"`
}

// serveMeetings answers GET …/meetings, the app's meetings (the SDK's
// Meetings.Get), page_no (1-based; 0 means 1) and per_page as asked, in
// the order of their IDs, with the "paging" object that the SDK models
// (unless [PagingMode].NoPagingObject).
// Requests count under [RouteMeetings] in [Server.RouteRequests].
func (s *Server) serveMeetings(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("app_id")
	s.countList(RouteMeetings, appID)
	if !s.admit(w, r, RouteMeetings, appID, "", func() []byte { return s.meetingsPage(appID, 1, 1) }) {
		return
	}
	pageNo, perPage, problem := pageParams(r.URL.Query())
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, rtkError(400, problem))
		return
	}
	writeJSON(w, http.StatusOK, s.meetingsPage(appID, pageNo, perPage))
}

// meetingsPage encodes one page of an app's meetings.
func (s *Server) meetingsPage(appID string, pageNo, perPage int) []byte {
	now := s.now().UTC().Format(TimeFormat)
	s.mu.RLock()
	var ids []string
	if a := s.apps[appID]; a != nil {
		for id := range a.meetings {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	slices.Sort(ids)
	page, p := pageOf(ids, pageNo, perPage)
	body := meetingsResponse{Success: true, Data: make([]meetingBody, 0, len(page)), Paging: &p}
	s.pagingMu.Lock()
	if s.listMode.NoPagingObject {
		body.Paging = nil
	}
	s.pagingMu.Unlock()
	for _, id := range page {
		body.Data = append(body.Data, meetingBody{ID: id, Title: id, Status: "ACTIVE", CreatedAt: now, UpdatedAt: now})
	}
	return mustMarshal(body)
}
