package rtkfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listed returns the IDs of the sessions a sessions response lists.
func listed(t *testing.T, r response) []string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var body struct {
		Success bool
		Data    struct{ Sessions []Session }
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || !body.Success || body.Data.Sessions == nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	ids := []string{}
	for _, s := range body.Data.Sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestSessionsList(t *testing.T) {
	s := newServer(t, Options{})
	// Started in this order, one second apart: a1 (ended), b1, c1, a2, d1;
	// e1 belongs to another app.
	s.StartSession("app", "a", Session{ID: "a1", MinutesConsumed: 9})
	s.StartSession("app", "b", Session{ID: "b1", MinutesConsumed: 1})
	s.StartSession("app", "c", Session{ID: "c1", MinutesConsumed: 5})
	s.StartSession("app", "a", Session{ID: "a2", MinutesConsumed: 3}) // ends a1
	s.StartSession("app", "d", Session{ID: "d1", MinutesConsumed: 7, CreatedAt: "2026-01-01T00:00:00.000Z"})
	s.StartSession("other", "e", Session{ID: "e1"})

	tests := []struct {
		query string
		want  []string
	}{
		{"?status=LIVE", []string{"b1", "c1", "a2", "d1"}},
		{"?status=ENDED", []string{"a1"}},
		{"", []string{"a1", "b1", "c1", "a2", "d1"}},
		{"?associated_id=a", []string{"a1", "a2"}},
		{"?associated_id=a&status=ENDED", []string{"a1"}},
		{"?associated_id=zz", []string{}},
		{"?status=LIVE&per_page=3", []string{"b1", "c1", "a2"}},
		{"?status=LIVE&per_page=3&page_no=2", []string{"d1"}},
		{"?status=LIVE&per_page=3&page_no=3", []string{}},
		{"?status=LIVE&per_page=2.0&page_no=0", []string{"b1", "c1"}},
		{"?status=LIVE&sort_order=DESC", []string{"d1", "a2", "c1", "b1"}},
		{"?status=LIVE&sort_by=minutesConsumed", []string{"b1", "a2", "c1", "d1"}},
		{"?status=LIVE&sort_by=createdAt&sort_order=DESC", []string{"a2", "c1", "b1", "d1"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, listed(t, get(t, s, sessionsPath("app", tt.query), ""))); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := s.SessionsRequests("app"); got != len(tests) {
		t.Errorf("SessionsRequests = %d, want %d", got, len(tests))
	}
}

func TestSessionsListDefaultPage(t *testing.T) {
	s := newServer(t, Options{})
	for i := range DefaultPerPage + 5 {
		s.StartSession("app", fmt.Sprintf("m-%03d", i), Session{})
	}
	if got := listed(t, get(t, s, sessionsPath("app", "?status=LIVE"), "")); len(got) != DefaultPerPage {
		t.Errorf("listed %d sessions, want %d", len(got), DefaultPerPage)
	}
	if got := listed(t, get(t, s, sessionsPath("app", "?status=LIVE&page_no=2"), "")); len(got) != 5 {
		t.Errorf("page 2 lists %d sessions, want 5", len(got))
	}
}

func TestSessionsListBadQuery(t *testing.T) {
	s := newServer(t, Options{})
	for _, q := range []string{"?status=live", "?per_page=-1", "?per_page=2.5", "?page_no=x", "?sort_by=id", "?sort_order=up"} {
		t.Run(q, func(t *testing.T) {
			got := get(t, s, sessionsPath("app", q), "")
			var body struct {
				Success bool
				Error   struct {
					Code    int
					Message string
				}
			}
			if err := json.Unmarshal([]byte(got.Body), &body); err != nil || got.Status != 400 || body.Error.Code != 400 || body.Error.Message == "" {
				t.Errorf("status %d, body %s, want a 400 RealtimeKit error", got.Status, got.Body)
			}
		})
	}
}

// BenchmarkListLive measures listing one page of 100 out of 3,000 live
// sessions.
func BenchmarkListLive(b *testing.B) {
	s := New(Options{Token: testToken})
	defer s.Close()
	for i := range 3000 {
		s.StartSession("app", fmt.Sprintf("m-%04d", i), Session{LiveParticipants: i % 50})
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+sessionsPath("app", "?status=LIVE&per_page=100&page_no=7"), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatal(res.Status)
		}
	}
}
