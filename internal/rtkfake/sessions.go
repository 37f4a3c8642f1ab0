package rtkfake

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Session is one RealtimeKit session exactly as the API serialises it.
//
// The fake keeps its own type, rather than rtkwatchd's diff.Session, so that
// it describes the wire and nothing else; the two happen to share field
// names. The API declares the counts as JSON numbers; they are whole
// numbers in practice, so the fake holds them as ints.
type Session struct {
	ID                        string          `json:"id"`
	AssociatedID              string          `json:"associated_id"`
	MeetingDisplayName        string          `json:"meeting_display_name"`
	Type                      string          `json:"type"`
	Status                    string          `json:"status"`
	LiveParticipants          int             `json:"live_participants"`
	MaxConcurrentParticipants int             `json:"max_concurrent_participants"`
	MinutesConsumed           float64         `json:"minutes_consumed"`
	OrganizationID            string          `json:"organization_id"`
	StartedAt                 string          `json:"started_at"`
	CreatedAt                 string          `json:"created_at"`
	UpdatedAt                 string          `json:"updated_at"`
	EndedAt                   string          `json:"ended_at,omitempty"`
	BreakoutRooms             json.RawMessage `json:"breakout_rooms,omitempty"`
	Meta                      json.RawMessage `json:"meta,omitempty"`
}

// Session statuses.
const (
	StatusLive  = "LIVE"
	StatusEnded = "ENDED"
)

// TimeFormat is the layout of the timestamps the fake fills in (UTC,
// milliseconds), as the API writes them.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// appState holds the meetings of one app, and its recordings, livestreams
// and daily usage. Sessions, recordings and livestreams stored here are
// never modified in place: every change stores a new value, so a handler
// may encode a pointer it read under the lock after releasing the lock.
type appState struct {
	meetings    map[string]*meetingState
	recordings  map[string]*Recording
	livestreams map[string]*Livestream
	usage       map[string]DailyUsage // by day, 2006-01-02
}

type meetingState struct {
	live  *Session // nil when the meeting has no active session
	body  []byte   // the encoded 200 response for live
	ended []*Session
}

// app returns an app's state, creating it. The caller holds s.mu.
func (s *Server) app(appID string) *appState {
	a := s.apps[appID]
	if a == nil {
		a = &appState{meetings: make(map[string]*meetingState)}
		s.apps[appID] = a
	}
	return a
}

func (s *Server) meeting(appID, meetingID string) *meetingState {
	a := s.app(appID)
	m := a.meetings[meetingID]
	if m == nil {
		m = &meetingState{}
		a.meetings[meetingID] = m
	}
	return m
}

// StartSession makes sess the live session of a meeting and returns its ID.
// It fills in what the API would: an ID when sess.ID is empty,
// associated_id (always meetingID), status LIVE, type "meeting",
// organization_id (the app), meeting_display_name (the meeting ID), the
// timestamps, and max_concurrent_participants of at least
// live_participants. A session already live for the meeting ends first.
// It panics when BreakoutRooms or Meta is not valid JSON.
func (s *Server) StartSession(appID, meetingID string, sess Session) string {
	now := s.now().UTC().Format(TimeFormat)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meeting(appID, meetingID)
	if m.live != nil {
		s.endLocked(m)
	}
	if sess.ID == "" {
		sess.ID = s.newIDLocked()
	}
	sess.AssociatedID = meetingID
	sess.Status = StatusLive
	sess.EndedAt = ""
	if sess.Type == "" {
		sess.Type = "meeting"
	}
	if sess.OrganizationID == "" {
		sess.OrganizationID = appID
	}
	if sess.MeetingDisplayName == "" {
		sess.MeetingDisplayName = meetingID
	}
	if sess.StartedAt == "" {
		sess.StartedAt = now
	}
	if sess.CreatedAt == "" {
		sess.CreatedAt = sess.StartedAt
	}
	if sess.UpdatedAt == "" {
		sess.UpdatedAt = now
	}
	s.storeLive(m, sess)
	return sess.ID
}

// UpdateSession applies f to a copy of a meeting's live session and stores
// the result, keeping id, associated_id and status, raising
// max_concurrent_participants to live_participants and setting updated_at
// to now unless f changed it. It reports whether the meeting had a live
// session (f is not called otherwise).
func (s *Server) UpdateSession(appID, meetingID string, f func(*Session)) bool {
	now := s.now().UTC().Format(TimeFormat)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.meetings[meetingID] == nil || a.meetings[meetingID].live == nil {
		return false
	}
	m := a.meetings[meetingID]
	old := m.live
	sess := cloneSession(old)
	f(&sess)
	sess.ID, sess.AssociatedID, sess.Status, sess.EndedAt = old.ID, old.AssociatedID, StatusLive, ""
	if sess.UpdatedAt == old.UpdatedAt {
		sess.UpdatedAt = now
	}
	s.storeLive(m, sess)
	return true
}

// EndSession ends a meeting's live session: from now on the active-session
// route answers 404 (but see Options.ServeEndedStatus), and the session is listed with status ENDED,
// ended_at and updated_at set to now and live_participants 0. It reports
// whether the meeting had a live session.
func (s *Server) EndSession(appID, meetingID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.meetings[meetingID] == nil || a.meetings[meetingID].live == nil {
		return false
	}
	s.endLocked(a.meetings[meetingID])
	return true
}

// LiveSession returns a copy of a meeting's live session.
func (s *Server) LiveSession(appID, meetingID string) (Session, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.apps[appID]; a != nil {
		if m := a.meetings[meetingID]; m != nil && m.live != nil {
			return cloneSession(m.live), true
		}
	}
	return Session{}, false
}

// EndedSessions returns copies of a meeting's ended sessions, oldest
// first.
func (s *Server) EndedSessions(appID, meetingID string) []Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Session
	if a := s.apps[appID]; a != nil {
		if m := a.meetings[meetingID]; m != nil {
			for _, e := range m.ended {
				out = append(out, cloneSession(e))
			}
		}
	}
	return out
}

// storeLive validates sess, stores it as m's live session and encodes the
// active-session response once, so that polls cost a map lookup and a
// write. The caller holds s.mu.
func (s *Server) storeLive(m *meetingState, sess Session) {
	if sess.BreakoutRooms != nil && !json.Valid(sess.BreakoutRooms) {
		panic(fmt.Sprintf("rtkfake: session %s: breakout_rooms is not valid JSON", sess.ID))
	}
	if sess.Meta != nil && !json.Valid(sess.Meta) {
		panic(fmt.Sprintf("rtkfake: session %s: meta is not valid JSON", sess.ID))
	}
	sess.MaxConcurrentParticipants = max(sess.MaxConcurrentParticipants, sess.LiveParticipants)
	stored := cloneSession(&sess)
	m.live = &stored
	m.body = mustMarshal(sessionBody{Success: true, Data: m.live})
}

// endLocked moves m's live session to its ended list. The caller holds
// s.mu.
func (s *Server) endLocked(m *meetingState) {
	now := s.now().UTC().Format(TimeFormat)
	ended := cloneSession(m.live)
	ended.Status = StatusEnded
	ended.EndedAt = now
	ended.UpdatedAt = now
	ended.LiveParticipants = 0
	m.ended = append(m.ended, &ended)
	m.live, m.body = nil, nil
	if s.keepEnded {
		m.body = mustMarshal(sessionBody{Success: true, Data: &ended})
	}
}

func cloneSession(p *Session) Session {
	c := *p
	if p.BreakoutRooms != nil {
		c.BreakoutRooms = append(json.RawMessage(nil), p.BreakoutRooms...)
	}
	if p.Meta != nil {
		c.Meta = append(json.RawMessage(nil), p.Meta...)
	}
	return c
}

func (s *Server) serveActiveSession(w http.ResponseWriter, r *http.Request) {
	appID, meetingID := r.PathValue("app_id"), r.PathValue("meeting_id")
	s.counts.active.Add(1)
	s.counts.mu.Lock()
	s.counts.perMeeting[scope{appID, meetingID}]++
	s.counts.mu.Unlock()
	if !s.admit(w, r, RouteActiveSession, appID, meetingID, func() []byte { return s.sampleBody(appID, meetingID) }) {
		return
	}
	var body []byte
	s.mu.RLock()
	if a := s.apps[appID]; a != nil {
		if m := a.meetings[meetingID]; m != nil {
			body = m.body
		}
	}
	s.mu.RUnlock()
	if body == nil {
		writeJSON(w, http.StatusNotFound, noActiveSession(meetingID))
		return
	}
	writeJSON(w, http.StatusOK, body)
}
