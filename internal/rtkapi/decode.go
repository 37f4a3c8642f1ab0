package rtkapi

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// Session statuses as the API reports them.
const (
	StatusLive  = "LIVE"
	StatusEnded = "ENDED"
)

// Session is one RealtimeKit session as the API describes it: every
// session the package returns has an ID, a status of [StatusLive] or
// [StatusEnded], and counts that are whole and not negative.
// BreakoutRooms and Meta are the API's JSON as sent, nil when absent or
// null.
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

// decodeActiveSession decodes a 2xx active-session body with the SDK's own
// types. The SDK's decoder is lenient (it skips what it cannot read), so
// the JSON is validated first and the fields rtkwatchd relies on are
// checked after: success, data.id, status, live_participants and
// minutes_consumed.
func decodeActiveSession(status int, body []byte) (*Session, *Error) {
	if f := checkJSON(status, body); f != nil {
		return nil, f
	}
	var r realtime_kit.ActiveSessionGetActiveSessionResponse
	if err := r.UnmarshalJSON(body); err != nil {
		return nil, decodeError(status, "unreadable body")
	}
	if !r.Success {
		return nil, decodeError(status, "success is not true")
	}
	if r.JSON.Data.IsNull() || r.JSON.Data.IsInvalid() {
		return nil, decodeError(status, "no data object")
	}
	s, problem := fromActive(&r.Data).session()
	if problem != "" {
		return nil, decodeError(status, "data."+problem)
	}
	return &s, nil
}

// decodePage decodes one page of GET …/sessions, checking every session as
// decodeActiveSession does. One odd entry must not blind a watch to every
// other session, so it is left out and named in Problem: its meeting then
// looks absent from the list, and a caller asks that meeting directly
// before it believes a session ended.
func decodePage(status int, body []byte) (Page, *Error) {
	if e := checkJSON(status, body); e != nil {
		return Page{}, e
	}
	var r realtime_kit.SessionGetSessionsResponse
	if err := r.UnmarshalJSON(body); err != nil {
		return Page{}, decodeError(status, "unreadable body")
	}
	if !r.Success {
		return Page{}, decodeError(status, "success is not true")
	}
	if r.JSON.Data.IsNull() || r.JSON.Data.IsInvalid() || r.Data.JSON.Sessions.IsInvalid() {
		return Page{}, decodeError(status, "no data.sessions list")
	}
	if r.Data.JSON.Sessions.IsMissing() {
		return Page{}, decodeError(status, "no data.sessions list")
	}
	page := Page{Sessions: make([]Session, 0, len(r.Data.Sessions)), Entries: len(r.Data.Sessions)}
	if p, ok := r.JSON.ExtraFields["paging"]; ok && !p.IsNull() {
		page.Paging = json.RawMessage(p.Raw())
	}
	for i := range r.Data.Sessions {
		s, problem := fromListed(&r.Data.Sessions[i]).session()
		if problem != "" {
			if page.Problem == "" {
				page.Problem = "data.sessions[" + strconv.Itoa(i) + "]." + problem
			}
			continue
		}
		page.Sessions = append(page.Sessions, s)
	}
	return page, nil
}

// checkJSON rejects an empty or malformed body, saying where the JSON
// broke but quoting none of it.
func checkJSON(status int, body []byte) *Error {
	if len(body) == 0 {
		return decodeError(status, "empty body")
	}
	if json.Valid(body) {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return decodeError(status, "invalid JSON: "+err.Error())
	}
	return decodeError(status, "invalid JSON")
}

// decodeError reports a response whose body is not what was expected.
func decodeError(status int, what string) *Error {
	return &Error{Kind: KindDecode, StatusCode: status, Message: statusLine(status) + " with an unexpected body: " + what}
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

// session converts to the package's type, or names the field that is
// missing or unusable.
func (w wireSession) session() (Session, string) {
	switch {
	case w.id == "":
		return Session{}, "id is missing"
	case !w.statusOK:
		return Session{}, "status is not LIVE or ENDED"
	case !w.liveOK:
		return Session{}, "live_participants is not a number"
	case !w.minutesOK:
		return Session{}, "minutes_consumed is not a number"
	}
	s := Session{
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
