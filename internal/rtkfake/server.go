// Package rtkfake is an in-process fake of the Cloudflare RealtimeKit API,
// served over net/http/httptest, for tests, load tests and `rtkwatchd demo`.
//
// It serves the routes rtkwatchd uses, with the bodies and status codes
// the real API sends (or, where nobody has seen them, the shapes of the
// SDK's types):
//
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/sessions
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/recordings
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/livestreams
//	GET /client/v4/accounts/{account_id}/realtime/kit/{app_id}/analytics/daywise
//
// The sessions list pages as the API's published schema says; tests make
// it page as other servers do with [Server.SetPaging].
//
// Tests script it meeting by meeting ([Server.CreateMeeting],
// [Server.StartSession], [Server.UpdateSession], [Server.EndSession]),
// recording by recording ([Server.AddRecording],
// [Server.SetRecordingStatus]), livestream by livestream
// ([Server.AddLivestream], [Server.SetLivestreamStatus]) and day by day
// ([Server.SetDailyUsage]), and inject failures ([Server.SetFault],
// [Server.SetRouteFault]). Every method is safe to call while clients poll.
//
// Requests are checked in this order: routing (anything else is a 404 with
// the v4 envelope and code 7003), scripted faults, the bearer token (401,
// code 10000), the account ID (403, code 10000, as the real API answers a
// valid token used on an account it may not read), and finally the route
// itself.
package rtkfake

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a fake server.
type Options struct {
	// Token is the API token every request must carry as
	// "Authorization: Bearer <Token>". It is required.
	Token string
	// AccountID is the only account the token may read; requests for any
	// other account get a 403. Empty accepts every account.
	AccountID string
	// Now is the fake's clock for timestamps; nil means time.Now.
	Now func() time.Time
	// ServeEndedStatus makes [Server.EndSession] leave the ended session
	// on the active-session route, answered 200 with status ENDED, until
	// the meeting's next session starts. The schema allows this answer;
	// the real API has not been seen giving it (it answers 404).
	ServeEndedStatus bool
}

// Server is a running fake RealtimeKit API. Create it with [New] and stop
// it with [Server.Close].
type Server struct {
	ts        *httptest.Server
	auth      []byte // "Bearer <token>"
	accountID string
	now       func() time.Time
	keepEnded bool // Options.ServeEndedStatus

	closing   chan struct{} // closed by Close; releases hanging requests
	closeOnce sync.Once

	mu     sync.RWMutex
	apps   map[string]*appState
	nextID uint64

	faultMu sync.Mutex
	faults  map[faultScope]*Fault

	pagingMu sync.Mutex
	listMode PagingMode
	shuffles uint64 // sessions requests since SetPaging, the seed of ShuffleUnsorted

	counts counters
}

// scope names what a fault or counter applies to; empty fields are
// wildcards.
type scope struct{ app, meeting string }

// counters are the request counts reported by [Server.Counts].
type counters struct {
	total, active, sessions, meetings, unrouted, rejected, faulted atomic.Int64
	recordings, livestreams, analytics                             atomic.Int64
	conns                                                          atomic.Int64 // connections accepted

	mu         sync.Mutex
	perMeeting map[scope]int
	perApp     map[string]int // sessions requests
	perRoute   map[routeApp]int
}

// routeApp names the requests of one route for one app.
type routeApp struct {
	route Route
	app   string
}

// Counts reports how many requests the fake has received.
type Counts struct {
	// Total counts every request, routed or not.
	Total int
	// ActiveSession counts requests to the active-session route.
	ActiveSession int
	// Sessions counts requests to the sessions route.
	Sessions int
	// Meetings counts requests to the meeting route (GET …/meetings/{id}).
	Meetings int
	// Unrouted counts requests to any other path (answered 404, code 7003).
	Unrouted int
	// Rejected counts requests refused for their token or account (401/403).
	Rejected int
	// Faulted counts requests answered by a scripted [Fault].
	Faulted int
	// Recordings, Livestreams and Analytics count requests to the
	// recordings, livestreams and analytics/daywise routes.
	Recordings, Livestreams, Analytics int
}

// New starts a fake server on a loopback port. It panics when
// opts.Token is empty, as a test without a token would prove nothing.
func New(opts Options) *Server {
	if opts.Token == "" {
		panic("rtkfake: Options.Token is required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		auth:      []byte("Bearer " + opts.Token),
		accountID: opts.AccountID,
		now:       now,
		keepEnded: opts.ServeEndedStatus,
		closing:   make(chan struct{}),
		apps:      make(map[string]*appState),
		faults:    make(map[faultScope]*Fault),
	}
	s.counts.perMeeting = make(map[scope]int)
	s.counts.perApp = make(map[string]int)
	s.counts.perRoute = make(map[routeApp]int)

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session", s.serveActiveSession)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/sessions", s.serveSessions)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/recordings", s.serveRecordings)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/livestreams", s.serveLivestreams)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/analytics/daywise", s.serveAnalytics)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", s.serveMeeting)
	mux.HandleFunc("GET "+apiPrefix+"accounts/{account_id}/realtime/kit/{app_id}/meetings", s.serveMeetings)
	mux.HandleFunc("/", s.serveUnrouted)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.counts.total.Add(1)
		mux.ServeHTTP(w, r)
	}))
	s.ts.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.counts.conns.Add(1)
		}
	}
	s.ts.Start()
	return s
}

// apiPrefix is the path every Cloudflare v4 API route starts with.
const apiPrefix = "/client/v4/"

// URL returns the base URL to configure as api.base_url; it ends in
// "/client/v4/".
func (s *Server) URL() string { return s.ts.URL + apiPrefix }

// Close releases requests held by a [Hang] fault and shuts the server
// down, waiting for every request in flight. It is safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.ts.Close()
}

// Client returns an *http.Client whose transport is closed with the
// server; handy for tests that talk to the fake directly.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Requests returns the total number of requests received.
func (s *Server) Requests() int { return int(s.counts.total.Load()) }

// Counts returns the request counters by kind.
func (s *Server) Counts() Counts {
	return Counts{
		Total:         int(s.counts.total.Load()),
		ActiveSession: int(s.counts.active.Load()),
		Sessions:      int(s.counts.sessions.Load()),
		Meetings:      int(s.counts.meetings.Load()),
		Unrouted:      int(s.counts.unrouted.Load()),
		Rejected:      int(s.counts.rejected.Load()),
		Faulted:       int(s.counts.faulted.Load()),
		Recordings:    int(s.counts.recordings.Load()),
		Livestreams:   int(s.counts.livestreams.Load()),
		Analytics:     int(s.counts.analytics.Load()),
	}
}

// RouteRequests returns how many requests to one of the app-wide routes
// (meetings, recordings, livestreams, analytics/daywise) reached the route for one
// app, whatever their outcome.
func (s *Server) RouteRequests(route Route, appID string) int {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	return s.counts.perRoute[routeApp{route, appID}]
}

// countList counts a request to one of the app-wide routes.
func (s *Server) countList(route Route, appID string) {
	switch route {
	case RouteRecordings:
		s.counts.recordings.Add(1)
	case RouteLivestreams:
		s.counts.livestreams.Add(1)
	case RouteAnalytics:
		s.counts.analytics.Add(1)
	}
	s.counts.mu.Lock()
	s.counts.perRoute[routeApp{route, appID}]++
	s.counts.mu.Unlock()
}

// Connections returns how many connections the server has accepted: a
// client that keeps its connections alive opens few, whatever the number
// of requests.
func (s *Server) Connections() int { return int(s.counts.conns.Load()) }

// ActiveSessionRequests returns how many active-session requests reached
// the route for one meeting, whatever their outcome.
func (s *Server) ActiveSessionRequests(appID, meetingID string) int {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	return s.counts.perMeeting[scope{appID, meetingID}]
}

// SessionsRequests returns how many sessions-list requests reached the
// route for one app, whatever their outcome.
func (s *Server) SessionsRequests(appID string) int {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	return s.counts.perApp[appID]
}

// admit runs the checks shared by every route: scripted faults, then the
// token and the account. It reports whether the request may proceed; when
// it returns false the response has been written. sample is the body a
// TruncatedJSON fault cuts.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, route Route, appID, meetingID string, sample func() []byte) bool {
	if f, ok := s.takeFault(route, appID, meetingID); ok {
		s.counts.faulted.Add(1)
		s.serveFault(w, r, f, sample)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), s.auth) != 1 {
		s.counts.rejected.Add(1)
		writeJSON(w, http.StatusUnauthorized, envelopeError(10000, "Authentication error"))
		return false
	}
	if s.accountID != "" && r.PathValue("account_id") != s.accountID {
		s.counts.rejected.Add(1)
		writeJSON(w, http.StatusForbidden, envelopeError(10000, "Authentication error"))
		return false
	}
	return true
}

func (s *Server) serveUnrouted(w http.ResponseWriter, r *http.Request) {
	s.counts.unrouted.Add(1)
	writeJSON(w, http.StatusNotFound, unrouted(r.URL.Path))
}

// writeJSON writes a complete JSON response.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
