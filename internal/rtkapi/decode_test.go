package rtkapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fullSessionJSON = `{"id":"s-1","associated_id":"m-1","meeting_display_name":"Standup","type":"meeting",` +
	`"status":"LIVE","live_participants":7,"max_concurrent_participants":9,"minutes_consumed":12.5,` +
	`"organization_id":"app-1","started_at":"2026-03-01T09:00:00.000Z","created_at":"2026-03-01T09:00:00.000Z",` +
	`"updated_at":"2026-03-01T09:05:00.000Z","breakout_rooms":[{"id":"a"}],"meta":{"k":"v"}}`

func fullSession() *Session {
	return &Session{
		ID: "s-1", AssociatedID: "m-1", MeetingDisplayName: "Standup", Type: "meeting", Status: "LIVE",
		LiveParticipants: 7, MaxConcurrentParticipants: 9, MinutesConsumed: 12.5, OrganizationID: "app-1",
		StartedAt: "2026-03-01T09:00:00.000Z", CreatedAt: "2026-03-01T09:00:00.000Z", UpdatedAt: "2026-03-01T09:05:00.000Z",
		BreakoutRooms: json.RawMessage(`[{"id":"a"}]`), Meta: json.RawMessage(`{"k":"v"}`),
	}
}

// liveWith is a LIVE session body whose fields are those of
// minimalLiveJSON with field set to value (raw JSON); "" leaves it out.
func liveWith(field, value string) string {
	fields := [][2]string{
		{"id", `"s-1"`}, {"associated_id", `"m-1"`}, {"status", `"LIVE"`}, {"live_participants", "60"},
		{"max_concurrent_participants", "61"}, {"minutes_consumed", "1"}, {"started_at", `"2026-03-01T09:00:00.000Z"`},
	}
	var parts []string
	done := false
	for _, f := range fields {
		if f[0] == field {
			f[1], done = value, true
		}
		if f[1] != "" {
			parts = append(parts, `"`+f[0]+`":`+f[1])
		}
	}
	if !done && value != "" {
		parts = append(parts, `"`+field+`":`+value)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func minimalLive(mod func(s *Session)) *Session {
	s := &Session{ID: "s-1", AssociatedID: "m-1", Status: "LIVE", LiveParticipants: 60, MaxConcurrentParticipants: 61,
		MinutesConsumed: 1, StartedAt: "2026-03-01T09:00:00.000Z"}
	if mod != nil {
		mod(s)
	}
	return s
}

func TestDecodeActiveSession(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    *Session
		problem string // the failure message after "200 OK with an unexpected body: "; "" when want is set
	}{
		{name: "full", body: `{"success":true,"data":` + fullSessionJSON + `}`, want: fullSession()},
		{name: "minimal", body: `{"success":true,"data":` + liveWith("", "") + `}`, want: minimalLive(nil)},
		{
			name: "ended, null extras",
			body: `{"success":true,"data":{"id":"s-1","status":"ENDED","live_participants":0,"max_concurrent_participants":null,` +
				`"minutes_consumed":1,"started_at":"2026-03-01T09:00:00Z","ended_at":"2026-03-01T10:00:00.000Z",` +
				`"breakout_rooms":null,"meta":null,"meeting_display_name":null}}`,
			want: &Session{ID: "s-1", Status: "ENDED", MinutesConsumed: 1, StartedAt: "2026-03-01T09:00:00Z", EndedAt: "2026-03-01T10:00:00.000Z"},
		},
		{name: "zero and the bounds", body: `{"success":true,"data":` + liveWith("live_participants", "1e6") + `}`,
			want: minimalLive(func(s *Session) { s.LiveParticipants = MaxParticipants })},
		{name: "minutes at the bound", body: `{"success":true,"data":` + liveWith("minutes_consumed", "1e12") + `}`,
			want: minimalLive(func(s *Session) { s.MinutesConsumed = MaxMinutesConsumed })},
		{name: "no participants yet", body: `{"success":true,"data":` + liveWith("live_participants", "0") + `}`,
			want: minimalLive(func(s *Session) { s.LiveParticipants = 0 })},
		{name: "escaped strings", body: `{"success":true,"data":` + liveWith("meeting_display_name", `"Town \"Hall\" \u00e9"`) + `}`,
			want: minimalLive(func(s *Session) { s.MeetingDisplayName = `Town "Hall" é` })},
		{name: "unknown fields", body: `{"success":true,"result":null,"data":` + liveWith("recording", `{"on":true}`) + `}`, want: minimalLive(nil)},

		// What the API should never send, each a failure that names the field and the value.
		{name: "participants as a string", body: `{"success":true,"data":` + liveWith("live_participants", `"60"`) + `}`,
			problem: `data.live_participants is "60", not a number`},
		{name: "participants as a bool", body: `{"success":true,"data":` + liveWith("live_participants", `true`) + `}`,
			problem: `data.live_participants is true, not a number`},
		{name: "participants below 0", body: `{"success":true,"data":` + liveWith("live_participants", `-5`) + `}`,
			problem: `data.live_participants is -5, below 0`},
		{name: "participants above the bound", body: `{"success":true,"data":` + liveWith("live_participants", `1000001`) + `}`,
			problem: `data.live_participants is 1000001, above 1000000`},
		{name: "participants 1e308", body: `{"success":true,"data":` + liveWith("live_participants", `1e308`) + `}`,
			problem: `data.live_participants is 1e+308, above 1000000`},
		{name: "participants beyond float64", body: `{"success":true,"data":` + liveWith("live_participants", `1e400`) + `}`,
			problem: `data.live_participants is 1e400, beyond any float64`},
		{name: "participants a fraction", body: `{"success":true,"data":` + liveWith("live_participants", `2.5`) + `}`,
			problem: `data.live_participants is 2.5, not a whole number`},
		{name: "participants null", body: `{"success":true,"data":` + liveWith("live_participants", `null`) + `}`,
			problem: `data.live_participants is missing`},
		{name: "no participants", body: `{"success":true,"data":` + liveWith("live_participants", ``) + `}`,
			problem: `data.live_participants is missing`},
		{name: "max concurrent as a string", body: `{"success":true,"data":` + liveWith("max_concurrent_participants", `"x"`) + `}`,
			problem: `data.max_concurrent_participants is "x", not a number`},
		{name: "max concurrent below 0", body: `{"success":true,"data":` + liveWith("max_concurrent_participants", `-1`) + `}`,
			problem: `data.max_concurrent_participants is -1, below 0`},
		{name: "minutes 1e308", body: `{"success":true,"data":` + liveWith("minutes_consumed", `1e308`) + `}`,
			problem: `data.minutes_consumed is 1e+308, above 1000000000000`},
		{name: "minutes above the bound", body: `{"success":true,"data":` + liveWith("minutes_consumed", `1000000000000.5`) + `}`,
			problem: `data.minutes_consumed is 1000000000000.5, above 1000000000000`},
		{name: "minutes below 0", body: `{"success":true,"data":` + liveWith("minutes_consumed", `-0.5`) + `}`,
			problem: `data.minutes_consumed is -0.5, below 0`},
		{name: "minutes as a string", body: `{"success":true,"data":` + liveWith("minutes_consumed", `"12"`) + `}`,
			problem: `data.minutes_consumed is "12", not a number`},
		{name: "no minutes", body: `{"success":true,"data":` + liveWith("minutes_consumed", ``) + `}`,
			problem: `data.minutes_consumed is missing`},
		{name: "numeric id", body: `{"success":true,"data":` + liveWith("id", `12345`) + `}`,
			problem: `data.id is 12345, not a string`},
		{name: "empty id", body: `{"success":true,"data":` + liveWith("id", `""`) + `}`, problem: `data.id is missing`},
		{name: "no id", body: `{"success":true,"data":` + liveWith("id", ``) + `}`, problem: `data.id is missing`},
		{name: "unknown status", body: `{"success":true,"data":` + liveWith("status", `"PAUSED"`) + `}`,
			problem: `data.status is "PAUSED", not LIVE or ENDED`},
		{name: "status in lower case", body: `{"success":true,"data":` + liveWith("status", `"live"`) + `}`,
			problem: `data.status is "live", not LIVE or ENDED`},
		{name: "no status", body: `{"success":true,"data":` + liveWith("status", ``) + `}`, problem: `data.status is missing`},
		{name: "status as an object", body: `{"success":true,"data":` + liveWith("status", `{"v": "LIVE"}`) + `}`,
			problem: `data.status is {"v": "LIVE"}, not a string`},
		{name: "no started_at", body: `{"success":true,"data":` + liveWith("started_at", ``) + `}`, problem: `data.started_at is missing`},
		{name: "started_at not a time", body: `{"success":true,"data":` + liveWith("started_at", `"yesterday"`) + `}`,
			problem: `data.started_at is "yesterday", not an RFC 3339 time`},
		{name: "ended_at not a time", body: `{"success":true,"data":` + liveWith("ended_at", `"2026-03-01 10:00"`) + `}`,
			problem: `data.ended_at is "2026-03-01 10:00", not an RFC 3339 time`},
		{name: "type as a number", body: `{"success":true,"data":` + liveWith("type", `5`) + `}`, problem: `data.type is 5, not a string`},
		{name: "breakout rooms not a list", body: `{"success":true,"data":` + liveWith("breakout_rooms", `{"a":1}`) + `}`,
			problem: `data.breakout_rooms is {"a":1}, not a list`},
		{name: "a long value is clipped", body: `{"success":true,"data":` + liveWith("id", `["`+strings.Repeat("é", 30)+`"]`) + `}`,
			problem: `data.id is ["` + strings.Repeat("é", 19) + `…, not a string`},

		{name: "empty", body: ``, problem: "empty body"},
		{name: "truncated", body: `{"success":true,"data":{"id":"s-`, problem: "invalid JSON: unexpected end of JSON input"},
		{name: "trailing garbage", body: `{"success":true} x`, problem: "invalid JSON: invalid character 'x' after top-level value"},
		{name: "not an object", body: `[1,2]`, problem: "the body is an array, not an object"},
		{name: "success false", body: `{"success":false,"data":` + fullSessionJSON + `}`, problem: "success is not true"},
		{name: "success a string", body: `{"success":"true","data":` + fullSessionJSON + `}`, problem: "success is a string, not a bool"},
		{name: "no data", body: `{"success":true}`, problem: "no data object"},
		{name: "null data", body: `{"success":true,"data":null}`, problem: "no data object"},
		{name: "data not an object", body: `{"success":true,"data":"s-1"}`, problem: "data is a string, not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f := decodeActiveSession(200, []byte(tt.body))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("session mismatch (-want +got):\n%s", diff)
			}
			if tt.problem == "" {
				if f != nil {
					t.Errorf("unexpected failure %+v", f)
				}
				return
			}
			want := &Error{Kind: KindDecode, StatusCode: 200, Message: "200 OK with an unexpected body: " + tt.problem}
			if diff := cmp.Diff(want, f); diff != "" {
				t.Errorf("failure mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        []Session
		entries     int
		oddEntry    string // the page's problem
		paging      *Paging
		failureText string
	}{
		{name: "one", body: `{"success":true,"data":{"sessions":[` + fullSessionJSON + `]}}`, want: []Session{*fullSession()}, entries: 1},
		{name: "empty", body: `{"success":true,"data":{"sessions":[]}}`, want: []Session{}},
		{name: "null list", body: `{"success":true,"data":{"sessions":null}}`, want: []Session{}},
		{name: "no list", body: `{"success":true,"data":{}}`, want: []Session{}},
		{name: "no data", body: `{"success":true}`, want: []Session{}},
		{name: "null data", body: `{"success":true,"data":null}`, want: []Session{}},
		{name: "list not an array", body: `{"success":true,"data":{"sessions":{}}}`, failureText: "data.sessions is an object, not an array"},
		{name: "list a string", body: `{"success":true,"data":{"sessions":"x"}}`, failureText: "data.sessions is a string, not an array"},
		{name: "data not an object", body: `{"success":true,"data":[]}`, failureText: "data is an array, not an object"},
		{name: "an odd session is left out but counted", body: `{"success":true,"data":{"sessions":[` + fullSessionJSON + `,{"status":"LIVE"}]}}`,
			want: []Session{*fullSession()}, entries: 2, oddEntry: "data.sessions[1].id is missing"},
		{name: "an entry that is not an object", body: `{"success":true,"data":{"sessions":[7,` + fullSessionJSON + `]}}`,
			want: []Session{*fullSession()}, entries: 2, oddEntry: "data.sessions[0].id is missing"},
		{name: "a listed session names its meeting", body: `{"success":true,"data":{"sessions":[` + liveWith("associated_id", "") + `]}}`,
			want: []Session{}, entries: 1, oddEntry: "data.sessions[0].associated_id is missing"},
		{name: "a value out of bounds", body: `{"success":true,"data":{"sessions":[` + liveWith("live_participants", "-5") + `]}}`,
			want: []Session{}, entries: 1, oddEntry: "data.sessions[0].live_participants is -5, below 0"},
		{name: "nothing but odd sessions", body: `{"success":true,"data":{"sessions":[{"status":"LIVE"},{"id":"x"}]}}`,
			want: []Session{}, entries: 2, oddEntry: "data.sessions[0].id is missing"},
		{name: "paging", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":0, "start_offset":0, "end_offset":-1}}`,
			want: []Session{}, paging: &Paging{TotalCount: 0, StartOffset: 0, EndOffset: -1}},
		{name: "paging without end_offset", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":250, "start_offset":100}}`,
			want: []Session{}, paging: &Paging{TotalCount: 250, StartOffset: 100, EndOffset: -1}},
		{name: "null paging", body: `{"success":true,"data":{"sessions":[]},"paging":null}`, want: []Session{}},
		{name: "paging without total", body: `{"success":true,"data":{"sessions":[]},"paging":{"start_offset":0}}`,
			failureText: "paging.total_count is missing"},
		{name: "paging total a string", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":"3","start_offset":0}}`,
			failureText: `paging.total_count is "3", not a number`},
		{name: "paging offset below 0", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":3,"start_offset":-1}}`,
			failureText: `paging.start_offset is -1, below 0`},
		{name: "paging end below -1", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":3,"start_offset":0,"end_offset":-2}}`,
			failureText: `paging.end_offset is -2, not a whole number from -1`},
		{name: "paging a fraction", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":3.5,"start_offset":0}}`,
			failureText: `paging.total_count is 3.5, not a whole number`},
		{name: "paging not an object", body: `{"success":true,"data":{"sessions":[]},"paging":7}`,
			failureText: `paging is a number, not an object`},
		{name: "success false", body: `{"success":false,"data":{"sessions":[]}}`, failureText: "success is not true"},
		{name: "garbage", body: `<html>`, failureText: "invalid JSON: invalid character '<' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f := decodePage(200, []byte(tt.body))
			if tt.failureText != "" {
				if f == nil || f.Kind != KindDecode || !strings.HasSuffix(f.Message, ": "+tt.failureText) {
					t.Errorf("failure = %+v, want a decode failure ending in %q", f, tt.failureText)
				}
				return
			}
			if f != nil {
				t.Fatalf("unexpected failure %+v", f)
			}
			if diff := cmp.Diff(tt.want, got.Sessions); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
			if got.Entries != tt.entries || got.Problem != tt.oddEntry {
				t.Errorf("entries %d, problem %q; want %d, %q", got.Entries, got.Problem, tt.entries, tt.oddEntry)
			}
			if diff := cmp.Diff(tt.paging, got.Paging); diff != "" {
				t.Errorf("paging mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeActiveSession checks that any body yields either a usable
// session or a short decode failure, and never a panic.
func FuzzDecodeActiveSession(f *testing.F) {
	f.Add([]byte(`{"success":true,"data":` + fullSessionJSON + `}`))
	f.Add([]byte(`{"success":true,"data":{"id":"s","status":"LIVE","live_participants":1e300,"minutes_consumed":-0}}`))
	f.Add([]byte(`{"success":true,"data":{"id":"s","status":"LIVE","live_participants":1,"minutes_consumed":1,"meta":"x","breakout_rooms":{}}}`))
	f.Add([]byte(`{"success":false,"error":{"code":404,"message":"No active session"}}`))
	f.Add([]byte(`{"success":true,"data":{"sessions":[]}}`))
	f.Add([]byte("\xff\xfe{}"))
	// A key sent twice, the second time null: absent, both ways.
	f.Add([]byte(`{"success":true,"data":{"id":"s","status":"LIVE","live_participants":1,"minutes_consumed":1,"started_at":"2026-03-01T09:00:01Z","ended_at":"2026-03-01T09:00:01Z","ended_at":null,"id":null}}`))
	f.Add([]byte(`{"success":true,"data":{"id":"s","status":"LIVE","live_participants":1,"live_participants":null,"minutes_consumed":1,"started_at":"2026-03-01T09:00:01Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, fail := decodeActiveSession(200, body)
		if (s == nil) == (fail == nil) {
			t.Fatalf("session %v and failure %v: want exactly one", s, fail)
		}
		if fail != nil {
			if fail.Kind != KindDecode || len(fail.Message) > 300 {
				t.Fatalf("failure %+v", fail)
			}
			return
		}
		if s.ID == "" || (s.Status != StatusLive && s.Status != StatusEnded) || s.LiveParticipants < 0 ||
			s.LiveParticipants > MaxParticipants || s.MinutesConsumed < 0 || s.MinutesConsumed > MaxMinutesConsumed {
			t.Fatalf("unusable session %+v", s)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("session does not marshal: %v", err)
		}
		// The fast way takes only what the careful way takes, alike.
		if careful, fail := decodeWireActiveSession(200, body); fail != nil || !cmp.Equal(s, careful) {
			t.Fatalf("fast way %+v, careful way %+v, %v", s, careful, fail)
		}
		page, fail := decodePage(200, body)
		if fail == nil && page.Sessions == nil {
			t.Fatal("no sessions and no failure")
		}
	})
}
