package poller

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// decodeActiveSession decodes a 2xx active-session body with the SDK's own
// types. The SDK's decoder is lenient (it skips what it cannot read), so
// the JSON is validated first and the fields rtkwatchd relies on are
// checked after: success, data.id, status, live_participants and
// minutes_consumed.
func decodeActiveSession(status int, body []byte) (*diff.Session, *diff.Failure) {
	if f := checkJSON(status, body); f != nil {
		return nil, f
	}
	var r realtime_kit.ActiveSessionGetActiveSessionResponse
	if err := r.UnmarshalJSON(body); err != nil {
		return nil, decodeFailure(status, "unreadable body")
	}
	if !r.Success {
		return nil, decodeFailure(status, "success is not true")
	}
	if r.JSON.Data.IsNull() || r.JSON.Data.IsInvalid() {
		return nil, decodeFailure(status, "no data object")
	}
	s, problem := fromActive(&r.Data).session()
	if problem != "" {
		return nil, decodeFailure(status, "data."+problem)
	}
	return &s, nil
}

// sessionsPage is one decoded page of the sessions list.
type sessionsPage struct {
	sessions []diff.Session
	// entries is how many sessions the page held, decodable or not: the
	// list goes on while pages are full.
	entries int
	// problem names the first entry that did not decode; "" when none.
	problem string
}

// decodeSessions decodes one page of GET …/sessions, checking every session
// as decodeActiveSession does. One odd entry must not blind a watch to
// every other session, so it is left out and named in problem: its meeting
// then looks absent from the list, and the poller asks that meeting
// directly before it believes a session ended.
func decodeSessions(status int, body []byte) (sessionsPage, *diff.Failure) {
	if f := checkJSON(status, body); f != nil {
		return sessionsPage{}, f
	}
	var r realtime_kit.SessionGetSessionsResponse
	if err := r.UnmarshalJSON(body); err != nil {
		return sessionsPage{}, decodeFailure(status, "unreadable body")
	}
	if !r.Success {
		return sessionsPage{}, decodeFailure(status, "success is not true")
	}
	if r.JSON.Data.IsNull() || r.JSON.Data.IsInvalid() || r.Data.JSON.Sessions.IsInvalid() {
		return sessionsPage{}, decodeFailure(status, "no data.sessions list")
	}
	if r.Data.JSON.Sessions.IsMissing() {
		return sessionsPage{}, decodeFailure(status, "no data.sessions list")
	}
	page := sessionsPage{sessions: make([]diff.Session, 0, len(r.Data.Sessions)), entries: len(r.Data.Sessions)}
	for i := range r.Data.Sessions {
		s, problem := fromListed(&r.Data.Sessions[i]).session()
		if problem != "" {
			if page.problem == "" {
				page.problem = "data.sessions[" + strconv.Itoa(i) + "]." + problem
			}
			continue
		}
		page.sessions = append(page.sessions, s)
	}
	return page, nil
}

// checkJSON rejects an empty or malformed body, saying where the JSON
// broke but quoting none of it.
func checkJSON(status int, body []byte) *diff.Failure {
	if len(body) == 0 {
		return decodeFailure(status, "empty body")
	}
	if json.Valid(body) {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return decodeFailure(status, "invalid JSON: "+err.Error())
	}
	return decodeFailure(status, "invalid JSON")
}

func decodeFailure(status int, what string) *diff.Failure {
	return &diff.Failure{Kind: diff.FailureDecode, StatusCode: status, Message: statusLine(status) + " with an unexpected body: " + what}
}

// wireSession is what both SDK session types carry, with the validity of
// the fields that rtkwatchd cannot do without.
type wireSession struct {
	id, associatedID, displayName, typ, status      string
	orgID, startedAt, createdAt, updatedAt, endedAt string
	live, maxConcurrent, minutes                    float64
	liveOK, minutesOK, statusOK                     bool
	breakoutRooms, meta                             string // raw JSON; empty when absent or null
}

func fromActive(d *realtime_kit.ActiveSessionGetActiveSessionResponseData) wireSession {
	w := wireSession{
		id: d.ID, associatedID: d.AssociatedID, displayName: d.MeetingDisplayName,
		typ: string(d.Type), status: string(d.Status), statusOK: d.Status.IsKnown(),
		orgID: d.OrganizationID, startedAt: d.StartedAt, createdAt: d.CreatedAt,
		updatedAt: d.UpdatedAt, endedAt: d.EndedAt,
		live: d.LiveParticipants, maxConcurrent: d.MaxConcurrentParticipants, minutes: d.MinutesConsumed,
		liveOK:    !d.JSON.LiveParticipants.IsNull() && !d.JSON.LiveParticipants.IsInvalid(),
		minutesOK: !d.JSON.MinutesConsumed.IsNull() && !d.JSON.MinutesConsumed.IsInvalid(),
	}
	if !d.JSON.BreakoutRooms.IsNull() {
		w.breakoutRooms = d.JSON.BreakoutRooms.Raw()
	}
	if !d.JSON.Meta.IsNull() {
		w.meta = d.JSON.Meta.Raw()
	}
	return w
}

func fromListed(d *realtime_kit.SessionGetSessionsResponseDataSession) wireSession {
	w := wireSession{
		id: d.ID, associatedID: d.AssociatedID, displayName: d.MeetingDisplayName,
		typ: string(d.Type), status: string(d.Status), statusOK: d.Status.IsKnown(),
		orgID: d.OrganizationID, startedAt: d.StartedAt, createdAt: d.CreatedAt,
		updatedAt: d.UpdatedAt, endedAt: d.EndedAt,
		live: d.LiveParticipants, maxConcurrent: d.MaxConcurrentParticipants, minutes: d.MinutesConsumed,
		liveOK:    !d.JSON.LiveParticipants.IsNull() && !d.JSON.LiveParticipants.IsInvalid(),
		minutesOK: !d.JSON.MinutesConsumed.IsNull() && !d.JSON.MinutesConsumed.IsInvalid(),
	}
	if !d.JSON.BreakoutRooms.IsNull() {
		w.breakoutRooms = d.JSON.BreakoutRooms.Raw()
	}
	if !d.JSON.Meta.IsNull() {
		w.meta = d.JSON.Meta.Raw()
	}
	return w
}

// session converts to rtkwatchd's type, or names the field that is
// missing or unusable.
func (w wireSession) session() (diff.Session, string) {
	switch {
	case w.id == "":
		return diff.Session{}, "id is missing"
	case !w.statusOK:
		return diff.Session{}, "status is not LIVE or ENDED"
	case !w.liveOK:
		return diff.Session{}, "live_participants is not a number"
	case !w.minutesOK:
		return diff.Session{}, "minutes_consumed is not a number"
	}
	s := diff.Session{
		ID:                        w.id,
		AssociatedID:              w.associatedID,
		MeetingDisplayName:        w.displayName,
		Type:                      w.typ,
		Status:                    w.status,
		LiveParticipants:          count(w.live),
		MaxConcurrentParticipants: count(w.maxConcurrent),
		MinutesConsumed:           w.minutes,
		OrganizationID:            w.orgID,
		StartedAt:                 w.startedAt,
		CreatedAt:                 w.createdAt,
		UpdatedAt:                 w.updatedAt,
		EndedAt:                   w.endedAt,
	}
	if w.breakoutRooms != "" {
		s.BreakoutRooms = json.RawMessage(w.breakoutRooms)
	}
	if w.meta != "" {
		s.Meta = json.RawMessage(w.meta)
	}
	return s, ""
}

// count converts an API count, a JSON number, to an int.
func count(f float64) int {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return int(math.Round(min(f, math.MaxInt32)))
}
