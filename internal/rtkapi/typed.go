package rtkapi

import "encoding/json"

// typedSession is a session decoded into the Go types the SDK documents:
// encoding/json itself refuses a value of another JSON type (a string for
// a count, a number for an ID) or a number beyond a float64, and null or
// absent is nil. It is the fast way to read an answer that is what it
// should be; wire converts it to the wireSession that session checks, so
// that both ways check alike. An answer it cannot take is read again as a
// wireSession, whose fields never fail, for a message that names the
// field and its value.
type typedSession struct {
	ID                        *string  `json:"id"`
	AssociatedID              *string  `json:"associated_id"`
	MeetingDisplayName        *string  `json:"meeting_display_name"`
	Type                      *string  `json:"type"`
	Status                    *string  `json:"status"`
	LiveParticipants          *float64 `json:"live_participants"`
	MaxConcurrentParticipants *float64 `json:"max_concurrent_participants"`
	MinutesConsumed           *float64 `json:"minutes_consumed"`
	OrganizationID            *string  `json:"organization_id"`
	StartedAt                 *string  `json:"started_at"`
	CreatedAt                 *string  `json:"created_at"`
	UpdatedAt                 *string  `json:"updated_at"`
	EndedAt                   *string  `json:"ended_at"`
	BreakoutRooms             rawJSON  `json:"breakout_rooms"`
	Meta                      rawJSON  `json:"meta"`
}

// typedActiveBody is activeBody with a typedSession.
type typedActiveBody struct {
	Success *bool         `json:"success"`
	Data    *typedSession `json:"data"`
}

// wire returns t as the wireSession that holds the same values.
func (t *typedSession) wire() wireSession {
	str := func(p *string) text {
		if p == nil {
			return text{}
		}
		return text{v: *p}
	}
	num := func(p *float64) number {
		if p == nil {
			return number{}
		}
		return number{v: *p, set: true}
	}
	return wireSession{
		ID: str(t.ID), AssociatedID: str(t.AssociatedID), MeetingDisplayName: str(t.MeetingDisplayName),
		Type: str(t.Type), Status: str(t.Status),
		LiveParticipants: num(t.LiveParticipants), MaxConcurrentParticipants: num(t.MaxConcurrentParticipants),
		MinutesConsumed: num(t.MinutesConsumed), OrganizationID: str(t.OrganizationID),
		StartedAt: str(t.StartedAt), CreatedAt: str(t.CreatedAt), UpdatedAt: str(t.UpdatedAt), EndedAt: str(t.EndedAt),
		BreakoutRooms: t.BreakoutRooms, Meta: t.Meta,
	}
}

// decodeTypedActiveSession is decodeActiveSession's fast way: the session
// of a body that decodes into typedActiveBody and passes every check, or
// false.
func decodeTypedActiveSession(body []byte) (*Session, bool) {
	var r typedActiveBody
	if json.Unmarshal(body, &r) != nil || r.Success == nil || !*r.Success || r.Data == nil {
		return nil, false
	}
	w := r.Data.wire()
	s, problem := w.session(false)
	if problem != "" {
		return nil, false
	}
	return &s, true
}
