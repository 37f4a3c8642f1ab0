package rtkfake

import (
	"net/http"
	"strconv"
)

// FaultKind is a way for the API to fail.
type FaultKind int

// The kinds of fault.
const (
	// Unauthorized answers 401 with the v4 envelope, code 10000.
	Unauthorized FaultKind = iota + 1
	// Forbidden answers 403 with the v4 envelope, code 10000.
	Forbidden
	// RateLimited answers 429 with the v4 envelope, code 971, and a
	// Retry-After header of Fault.RetryAfter seconds (omitted when 0).
	RateLimited
	// ServerError answers 500 with a RealtimeKit JSON error body.
	ServerError
	// BadGatewayHTML answers 502 with the gateway's text/html page.
	BadGatewayHTML
	// TruncatedJSON answers 200 with a JSON body cut in half; the HTTP
	// response itself is complete.
	TruncatedJSON
	// Garbage answers 200 with a body that is not JSON.
	Garbage
	// Hang never answers: the request is held until the client gives up
	// or the server closes, and its connection is then dropped.
	Hang
	// UnroutedNotFound answers 404 with the v4 envelope, code 7003, as the
	// gateway does for a path it cannot route.
	UnroutedNotFound
	// Body answers 200 with Fault.Body as application/json, whatever it
	// holds: a test scripts values the API should never send.
	Body
)

var faultNames = map[FaultKind]string{
	Unauthorized: "Unauthorized", Forbidden: "Forbidden", RateLimited: "RateLimited",
	ServerError: "ServerError", BadGatewayHTML: "BadGatewayHTML", TruncatedJSON: "TruncatedJSON",
	Garbage: "Garbage", Hang: "Hang", UnroutedNotFound: "UnroutedNotFound", Body: "Body",
}

// String returns the kind's name.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault makes matching requests fail instead of being answered.
type Fault struct {
	Kind FaultKind
	// RetryAfter is the Retry-After of a RateLimited fault, in seconds.
	RetryAfter int
	// Times is how many requests fail before the fault clears itself;
	// 0 means until [Server.ClearFault].
	Times int
	// Body is the answer of a Body fault.
	Body string
}

// Route names one of the routes the fake serves, for faults and counts.
type Route string

// The routes.
const (
	RouteActiveSession Route = "active-session"
	RouteMeeting       Route = "meeting"
	RouteMeetings      Route = "meetings"
	RouteSessions      Route = "sessions"
	RouteRecordings    Route = "recordings"
	RouteLivestreams   Route = "livestreams"
	RouteAnalytics     Route = "analytics/daywise"
)

// faultScope names what a fault applies to; empty fields are wildcards.
type faultScope struct {
	route        Route
	app, meeting string
}

// SetFault makes requests fail, on every route. The scope is an app and a
// meeting: active-session and meeting requests for that meeting, sessions
// requests whose associated_id is that meeting, and recordings requests
// whose meeting_id is. An empty meetingID covers every request of the app,
// and an empty appID every request. When several faults match, the narrowest
// wins (see [Server.SetRouteFault]). Faults apply before the token is
// checked, as a failing gateway would.
func (s *Server) SetFault(appID, meetingID string, f Fault) {
	s.setFault(faultScope{"", appID, meetingID}, f)
}

// ClearFault removes the fault set by SetFault for exactly this scope.
func (s *Server) ClearFault(appID, meetingID string) {
	s.clearFault(faultScope{"", appID, meetingID})
}

// SetRouteFault makes the requests of one route fail: those of an app, or
// of every app when appID is empty. A route's fault is narrower than any
// fault SetFault sets, so it wins over them.
func (s *Server) SetRouteFault(route Route, appID string, f Fault) {
	s.setFault(faultScope{route, appID, ""}, f)
}

// ClearRouteFault removes the fault set by SetRouteFault for exactly this
// route and app.
func (s *Server) ClearRouteFault(route Route, appID string) {
	s.clearFault(faultScope{route, appID, ""})
}

func (s *Server) setFault(sc faultScope, f Fault) {
	if sc.app == "" {
		sc.meeting = ""
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults[sc] = &f
}

func (s *Server) clearFault(sc faultScope) {
	if sc.app == "" {
		sc.meeting = ""
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	delete(s.faults, sc)
}

// takeFault returns the fault that applies to a request, counting it
// against the fault's Times.
func (s *Server) takeFault(route Route, appID, meetingID string) (Fault, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	for _, sc := range [...]faultScope{
		{route, appID, ""}, {route, "", ""},
		{"", appID, meetingID}, {"", appID, ""}, {},
	} {
		f, ok := s.faults[sc]
		if !ok {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				delete(s.faults, sc)
			}
		}
		return *f, true
	}
	return Fault{}, false
}

// badGatewayPage is what the gateway sends when the origin fails.
const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"

// serveFault answers a request with fault f; sample is the body that
// TruncatedJSON cuts.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault, sample func() []byte) {
	switch f.Kind {
	case Unauthorized:
		writeJSON(w, http.StatusUnauthorized, envelopeError(10000, "Authentication error"))
	case Forbidden:
		writeJSON(w, http.StatusForbidden, envelopeError(10000, "Authentication error"))
	case RateLimited:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeJSON(w, http.StatusTooManyRequests, envelopeError(971, "Please wait and consider throttling your request speed"))
	case ServerError:
		writeJSON(w, http.StatusInternalServerError, rtkError(500, "Internal Server Error"))
	case BadGatewayHTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(badGatewayPage))
	case TruncatedJSON:
		body := sample()
		writeJSON(w, http.StatusOK, body[:len(body)/2])
	case Garbage:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Under maintenance</body></html>"))
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		// Drop the connection without a response; net/http recovers this
		// panic quietly.
		panic(http.ErrAbortHandler)
	case UnroutedNotFound:
		writeJSON(w, http.StatusNotFound, unrouted(r.URL.Path))
	case Body:
		writeJSON(w, http.StatusOK, []byte(f.Body))
	default:
		writeJSON(w, http.StatusInternalServerError, rtkError(500, "rtkfake: unknown fault kind "+f.Kind.String()))
	}
}

// sampleBody returns the meeting's live-session response, or a made-up one
// when it has none, for TruncatedJSON to cut.
func (s *Server) sampleBody(appID, meetingID string) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.apps[appID]; a != nil {
		if m := a.meetings[meetingID]; m != nil && m.body != nil {
			return m.body
		}
	}
	return mustMarshal(sessionBody{Success: true, Data: &Session{
		ID: "00000000-0000-4000-8000-000000000000", AssociatedID: meetingID, Status: StatusLive, Type: "meeting",
	}})
}
