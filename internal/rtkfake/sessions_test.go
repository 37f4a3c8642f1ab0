package rtkfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSessionLifecycle(t *testing.T) {
	s := newServer(t, Options{})
	// Clock: each StartSession, UpdateSession and EndSession reads it once
	// (t0, t1, …).
	id := s.StartSession("app", "m", Session{ID: "s-1", LiveParticipants: 5, MeetingDisplayName: "Daily", Type: "livestream"}) // t0
	if id != "s-1" {
		t.Errorf("id = %q, want the one given", id)
	}
	steps := []struct {
		name string
		f    func(*Session)
	}{
		{"rise", func(x *Session) { x.LiveParticipants = 10; x.MinutesConsumed = 4 }},                       // t1
		{"fall", func(x *Session) { x.LiveParticipants = 3 }},                                               // t2
		{"tamper", func(x *Session) { x.ID, x.Status, x.AssociatedID, x.EndedAt = "x", "ENDED", "y", "z" }}, // t3
		{"own timestamp", func(x *Session) { x.UpdatedAt = "custom" }},                                      // t4, unused
	}
	for _, st := range steps {
		if !s.UpdateSession("app", "m", st.f) {
			t.Fatalf("%s: no live session", st.name)
		}
	}
	got, ok := s.LiveSession("app", "m")
	want := Session{
		ID: "s-1", AssociatedID: "m", MeetingDisplayName: "Daily", Type: "livestream", Status: StatusLive,
		LiveParticipants: 3, MaxConcurrentParticipants: 10, MinutesConsumed: 4, OrganizationID: "app",
		StartedAt: "2026-03-01T09:00:00.000Z", CreatedAt: "2026-03-01T09:00:00.000Z", UpdatedAt: "custom",
	}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("live session (ok %v) (-want +got):\n%s", ok, diff)
	}

	if !s.EndSession("app", "m") { // t5
		t.Fatal("EndSession found no session")
	}
	if _, ok := s.LiveSession("app", "m"); ok {
		t.Error("session still live after EndSession")
	}
	want.Status, want.LiveParticipants = StatusEnded, 0
	want.EndedAt, want.UpdatedAt = "2026-03-01T09:00:05.000Z", "2026-03-01T09:00:05.000Z"
	if diff := cmp.Diff([]Session{want}, s.EndedSessions("app", "m")); diff != "" {
		t.Errorf("ended sessions (-want +got):\n%s", diff)
	}
	if s.EndSession("app", "m") || s.UpdateSession("app", "m", func(*Session) { t.Error("f called") }) {
		t.Error("EndSession or UpdateSession reported a session that is not live")
	}
}

func TestStartSessionEndsThePrevious(t *testing.T) {
	s := newServer(t, Options{})
	first := s.StartSession("app", "m", Session{LiveParticipants: 2})
	second := s.StartSession("app", "m", Session{})
	if first == second || first == "" || second == "" {
		t.Fatalf("ids %q and %q", first, second)
	}
	ended := s.EndedSessions("app", "m")
	if len(ended) != 1 || ended[0].ID != first || ended[0].Status != StatusEnded || ended[0].MaxConcurrentParticipants != 2 {
		t.Errorf("ended = %+v, want the first session", ended)
	}
	if live, _ := s.LiveSession("app", "m"); live.ID != second {
		t.Errorf("live session %q, want %q", live.ID, second)
	}
}

func TestServeEndedStatus(t *testing.T) {
	s := newServer(t, Options{ServeEndedStatus: true})
	id := s.StartSession("app", "m", Session{LiveParticipants: 2})
	s.EndSession("app", "m")
	got := get(t, s, activePath("app", "m"), "")
	var body struct{ Data Session }
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil || got.Status != 200 {
		t.Fatalf("status %d, body %s: %v", got.Status, got.Body, err)
	}
	if body.Data.ID != id || body.Data.Status != StatusEnded || body.Data.EndedAt == "" {
		t.Errorf("served %+v, want the ended session", body.Data)
	}
	s.StartSession("app", "m", Session{})
	if got := get(t, s, activePath("app", "m"), ""); got.Status != 200 || !json.Valid([]byte(got.Body)) {
		t.Errorf("next session: %+v", got)
	}
}

func TestStoredSessionsAreCopies(t *testing.T) {
	s := newServer(t, Options{})
	rooms := json.RawMessage(`[{"id":"a"}]`)
	s.StartSession("app", "m", Session{BreakoutRooms: rooms})
	rooms[3] = 'X' // the caller's slice changes; the stored session must not
	got, _ := s.LiveSession("app", "m")
	got.BreakoutRooms[3] = 'Y'
	again, _ := s.LiveSession("app", "m")
	if string(again.BreakoutRooms) != `[{"id":"a"}]` {
		t.Errorf("breakout_rooms = %s", again.BreakoutRooms)
	}
}

func TestInvalidRawJSONPanics(t *testing.T) {
	s := newServer(t, Options{})
	defer func() {
		if recover() == nil {
			t.Error("StartSession with invalid meta did not panic")
		}
	}()
	s.StartSession("app", "m", Session{Meta: json.RawMessage(`{`)})
}

// TestConcurrentUse runs pollers against sessions that change under them;
// run with -race.
func TestConcurrentUse(t *testing.T) {
	s := newServer(t, Options{})
	const meetings = 20
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 50 {
				path := activePath("app", fmt.Sprintf("m-%d", (p+i)%meetings))
				if i%10 == 0 {
					path = sessionsPath("app", "?status=LIVE&per_page=7")
				}
				got, err := fetch(t.Context(), s, path, "")
				if err != nil {
					t.Error(err)
					return
				}
				if got.Status != http.StatusOK && got.Status != http.StatusNotFound && got.Status != http.StatusInternalServerError {
					t.Errorf("status %d: %s", got.Status, got.Body)
				}
				if !json.Valid([]byte(got.Body)) {
					t.Errorf("invalid JSON: %s", got.Body)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			m := fmt.Sprintf("m-%d", i%meetings)
			switch i % 3 {
			case 0:
				s.StartSession("app", m, Session{LiveParticipants: i})
			case 1:
				s.UpdateSession("app", m, func(x *Session) { x.LiveParticipants++ })
			case 2:
				s.EndSession("app", m)
			}
			if i%50 == 0 {
				s.SetFault("app", m, Fault{Kind: ServerError, Times: 1})
			}
		}
	})
	wg.Wait()
}
