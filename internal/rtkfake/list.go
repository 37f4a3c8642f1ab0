package rtkfake

import (
	"cmp"
	"math"
	"net/http"
	"strconv"
)

// DefaultPerPage is the page size of the list routes (sessions,
// recordings, livestreams) when the request names none.
const DefaultPerPage = 20

// serveSessions answers GET …/sessions with the query parameters
// rtkwatchd uses: status (LIVE or ENDED; absent means both),
// associated_id, page_no (1-based; 0 means 1), per_page, sort_by
// (createdAt or minutesConsumed; by default started_at) and sort_order
// (ASC or DESC). Ties are broken by session ID (in DESC too), so pages
// are stable. The
// answer carries the top-level "paging" object of the API's newer schema.
// [Server.SetPaging] changes all of this into what other servers do.
func (s *Server) serveSessions(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("app_id")
	q := r.URL.Query()
	meetingID := q.Get("associated_id")
	s.counts.sessions.Add(1)
	s.counts.mu.Lock()
	s.counts.perApp[appID]++
	s.counts.mu.Unlock()
	if !s.admit(w, r, RouteSessions, appID, meetingID, func() []byte { return s.sampleBody(appID, meetingID) }) {
		return
	}

	status := q.Get("status")
	if status != "" && status != StatusLive && status != StatusEnded {
		writeJSON(w, http.StatusBadRequest, rtkError(400, "status must be one of LIVE, ENDED"))
		return
	}
	pageNo, perPage, problem := pageParams(q)
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, rtkError(400, problem))
		return
	}
	mode, seed := s.pagingMode()
	tie := 1
	if mode.ShuffleTies {
		tie = 0
	}
	order, ok := sessionOrder(q.Get("sort_by"), q.Get("sort_order"), tie)
	if !ok {
		writeJSON(w, http.StatusBadRequest, rtkError(400, "sort_by must be createdAt or minutesConsumed and sort_order ASC or DESC"))
		return
	}

	var found []*Session
	s.mu.RLock()
	if a := s.apps[appID]; a != nil {
		collect := func(m *meetingState) {
			if m.live != nil && status != StatusEnded {
				found = append(found, m.live)
			}
			if status != StatusLive {
				found = append(found, m.ended...)
			}
		}
		if meetingID != "" {
			if m := a.meetings[meetingID]; m != nil {
				collect(m)
			}
		} else {
			for _, m := range a.meetings {
				collect(m)
			}
		}
	}
	s.mu.RUnlock()

	sortSessions(found, order, mode, seed)
	rawPageNo, _ := wholeNumber(q.Get("page_no")) // checked by pageParams
	page, paging := sessionsPage(found, rawPageNo, perPage, mode, seed, q.Get("sort_by") != "")
	body := mustMarshal(sessionsBody{Success: true, Data: sessionsData{Sessions: page}, Paging: paging})
	if mode.AfterPage != nil {
		mode.AfterPage(appID, pageNo)
	}
	writeJSON(w, http.StatusOK, body)
}

// wholeNumber parses an optional non-negative whole number, which the SDK
// may send in float notation ("20" or "20.0"). An empty value is 0.
func wholeNumber(v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// sessionOrder returns the comparison for the sort_by and sort_order
// parameters. It breaks ties by session ID when tie is 1, and leaves them
// when it is 0 (see [sortSessions]).
func sessionOrder(sortBy, sortOrder string, tie int) (func(a, b *Session) int, bool) {
	var key func(a, b *Session) int
	switch sortBy {
	case "":
		key = func(a, b *Session) int { return cmp.Compare(a.StartedAt, b.StartedAt) }
	case "createdAt":
		key = func(a, b *Session) int { return cmp.Compare(a.CreatedAt, b.CreatedAt) }
	case "minutesConsumed":
		key = func(a, b *Session) int { return cmp.Compare(a.MinutesConsumed, b.MinutesConsumed) }
	default:
		return nil, false
	}
	asc := func(a, b *Session) int { return cmp.Or(key(a, b), tie*cmp.Compare(a.ID, b.ID)) }
	switch sortOrder {
	case "", "ASC":
		return asc, true
	case "DESC":
		return func(a, b *Session) int { return asc(b, a) }, true
	}
	return nil, false
}
