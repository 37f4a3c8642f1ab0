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

func TestDecodeActiveSession(t *testing.T) {
	minimal := func(mod func(s *Session)) *Session {
		s := &Session{ID: "s-1", Status: "ENDED", LiveParticipants: 3, MinutesConsumed: 1, EndedAt: "2026-03-01T10:00:00.000Z"}
		if mod != nil {
			mod(s)
		}
		return s
	}
	tests := []struct {
		name    string
		body    string
		want    *Session
		problem string // in the failure message; "" when want is set
	}{
		{name: "full", body: `{"success":true,"data":` + fullSessionJSON + `}`, want: fullSession()},
		{
			name: "ended, null extras, float counts",
			body: `{"success":true,"data":{"id":"s-1","status":"ENDED","live_participants":2.6,"max_concurrent_participants":null,` +
				`"minutes_consumed":1,"ended_at":"2026-03-01T10:00:00.000Z","breakout_rooms":null,"meta":null}}`,
			want: minimal(nil),
		},
		{
			name: "negative count",
			body: `{"success":true,"data":{"id":"s-1","status":"ENDED","live_participants":-4,"minutes_consumed":1,"ended_at":"2026-03-01T10:00:00.000Z"}}`,
			want: minimal(func(s *Session) { s.LiveParticipants = 0 }),
		},
		{
			name: "unknown fields",
			body: `{"success":true,"result":null,"data":{"id":"s-1","status":"ENDED","live_participants":3,"minutes_consumed":1,` +
				`"ended_at":"2026-03-01T10:00:00.000Z","recording":{"on":true}}}`,
			want: minimal(nil),
		},
		{name: "empty", body: ``, problem: "empty body"},
		{name: "truncated", body: `{"success":true,"data":{"id":"s-`, problem: "invalid JSON: unexpected end of JSON input"},
		{name: "trailing garbage", body: `{"success":true} x`, problem: "invalid JSON"},
		{name: "not an object", body: `[1,2]`, problem: "success is not true"},
		{name: "success false", body: `{"success":false,"data":` + fullSessionJSON + `}`, problem: "success is not true"},
		{name: "no data", body: `{"success":true}`, problem: "no data object"},
		{name: "null data", body: `{"success":true,"data":null}`, problem: "no data object"},
		{name: "data not an object", body: `{"success":true,"data":"s-1"}`, problem: "data"},
		{name: "no id", body: `{"success":true,"data":{"status":"LIVE","live_participants":1,"minutes_consumed":1}}`, problem: "data.id is missing"},
		{name: "unknown status", body: `{"success":true,"data":{"id":"s","status":"PAUSED","live_participants":1,"minutes_consumed":1}}`, problem: "data.status"},
		{name: "no status", body: `{"success":true,"data":{"id":"s","live_participants":1,"minutes_consumed":1}}`, problem: "data.status"},
		{name: "count not a number", body: `{"success":true,"data":{"id":"s","status":"LIVE","live_participants":"many","minutes_consumed":1}}`, problem: "data.live_participants"},
		{name: "null count", body: `{"success":true,"data":{"id":"s","status":"LIVE","live_participants":null,"minutes_consumed":1}}`, problem: "data.live_participants"},
		{name: "no minutes", body: `{"success":true,"data":{"id":"s","status":"LIVE","live_participants":1}}`, problem: "data.minutes_consumed"},
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
			if f == nil || f.Kind != KindDecode || f.StatusCode != 200 || !strings.Contains(f.Message, tt.problem) {
				t.Errorf("failure = %+v, want a decode failure mentioning %q", f, tt.problem)
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
		paging      string // the page's raw paging object
		failureText string
	}{
		{name: "one", body: `{"success":true,"data":{"sessions":[` + fullSessionJSON + `]}}`, want: []Session{*fullSession()}, entries: 1},
		{name: "empty", body: `{"success":true,"data":{"sessions":[]}}`, want: []Session{}},
		{name: "null list", body: `{"success":true,"data":{"sessions":null}}`, want: []Session{}},
		{name: "no list", body: `{"success":true,"data":{}}`, failureText: "no data.sessions list"},
		{name: "list not an array", body: `{"success":true,"data":{"sessions":{}}}`, failureText: "no data.sessions list"},
		{name: "an odd session is left out but counted", body: `{"success":true,"data":{"sessions":[` + fullSessionJSON + `,{"status":"LIVE"}]}}`,
			want: []Session{*fullSession()}, entries: 2, oddEntry: "data.sessions[1].id is missing"},
		{name: "nothing but odd sessions", body: `{"success":true,"data":{"sessions":[{"status":"LIVE"},{"id":"x"}]}}`,
			want: []Session{}, entries: 2, oddEntry: "data.sessions[0].id is missing"},
		{name: "paging kept as sent", body: `{"success":true,"data":{"sessions":[]},"paging":{"total_count":0, "start_offset":1}}`,
			want: []Session{}, paging: `{"total_count":0, "start_offset":1}`},
		{name: "null paging", body: `{"success":true,"data":{"sessions":[]},"paging":null}`, want: []Session{}},
		{name: "success false", body: `{"success":false,"data":{"sessions":[]}}`, failureText: "success is not true"},
		{name: "garbage", body: `<html>`, failureText: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f := decodePage(200, []byte(tt.body))
			if tt.failureText != "" {
				if f == nil || f.Kind != KindDecode || !strings.Contains(f.Message, tt.failureText) {
					t.Errorf("failure = %+v, want a decode failure mentioning %q", f, tt.failureText)
				}
				return
			}
			if f != nil {
				t.Fatalf("unexpected failure %+v", f)
			}
			if diff := cmp.Diff(tt.want, got.Sessions); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
			if got.Entries != tt.entries || got.Problem != tt.oddEntry || string(got.Paging) != tt.paging {
				t.Errorf("entries %d, problem %q, paging %s; want %d, %q, %s", got.Entries, got.Problem, got.Paging, tt.entries, tt.oddEntry, tt.paging)
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
		if s.ID == "" || (s.Status != StatusLive && s.Status != StatusEnded) || s.LiveParticipants < 0 {
			t.Fatalf("unusable session %+v", s)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("session does not marshal: %v", err)
		}
		page, fail := decodePage(200, body)
		if fail == nil && page.Sessions == nil {
			t.Fatal("no sessions and no failure")
		}
	})
}
