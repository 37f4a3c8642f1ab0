package rtkfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testToken   = "tok-fake-123"
	testAccount = "acc-1"
)

// fixedClock returns a clock that advances one second per call from a
// fixed instant.
func fixedClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.AccountID == "" {
		opts.AccountID = testAccount
	}
	if opts.Now == nil {
		opts.Now = fixedClock()
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

type response struct {
	Status      int
	ContentType string
	Body        string
	RetryAfter  string
}

// get requests path (relative to the base URL) with the test token, or
// with auth when it is not empty ("-" sends no Authorization header).
func get(t *testing.T, s *Server, path, auth string) response {
	t.Helper()
	r, err := fetch(t.Context(), s, path, auth)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fetch is get for goroutines other than the test's.
func fetch(ctx context.Context, s *Server, path, auth string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+path, nil)
	if err != nil {
		return response{}, err
	}
	switch auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+testToken)
	case "-":
	default:
		req.Header.Set("Authorization", auth)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{res.StatusCode, res.Header.Get("Content-Type"), string(body), res.Header.Get("Retry-After")}, nil
}

func activePath(app, meeting string) string {
	return "accounts/" + testAccount + "/realtime/kit/" + app + "/meetings/" + meeting + "/active-session"
}

func sessionsPath(app, query string) string {
	return "accounts/" + testAccount + "/realtime/kit/" + app + "/sessions" + query
}

func TestActiveSessionWire(t *testing.T) {
	s := newServer(t, Options{})
	id := s.StartSession("app", "m-1", Session{LiveParticipants: 3, MinutesConsumed: 1.5, Meta: json.RawMessage(`{"k":"v"}`)})
	live := `{"success":true,"data":{"id":"` + id + `","associated_id":"m-1","meeting_display_name":"m-1","type":"meeting",` +
		`"status":"LIVE","live_participants":3,"max_concurrent_participants":3,"minutes_consumed":1.5,"organization_id":"app",` +
		`"started_at":"2026-03-01T09:00:00.000Z","created_at":"2026-03-01T09:00:00.000Z","updated_at":"2026-03-01T09:00:00.000Z",` +
		`"meta":{"k":"v"}}}`
	if diff := cmp.Diff(response{200, "application/json", live, ""}, get(t, s, activePath("app", "m-1"), "")); diff != "" {
		t.Errorf("live session (-want +got):\n%s", diff)
	}
	s.EndSession("app", "m-1")
	none := `{"success":false,"error":{"code":404,"message":"No active session found for meeting_id m-1"}}`
	if diff := cmp.Diff(response{404, "application/json", none, ""}, get(t, s, activePath("app", "m-1"), "")); diff != "" {
		t.Errorf("after the end (-want +got):\n%s", diff)
	}
	none2 := `{"success":false,"error":{"code":404,"message":"No active session found for meeting_id m-2"}}`
	if diff := cmp.Diff(response{404, "application/json", none2, ""}, get(t, s, activePath("other-app", "m-2"), "")); diff != "" {
		t.Errorf("unknown meeting (-want +got):\n%s", diff)
	}
}

func TestRejections(t *testing.T) {
	s := newServer(t, Options{})
	s.StartSession("app", "m-1", Session{})
	auth := `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`
	unrouted := func(path string) string {
		return `{"success":false,"errors":[{"code":7003,"message":"Could not route to /client/v4/` + path +
			`, perhaps your object identifier is invalid?"}],"messages":[],"result":null}`
	}
	tests := []struct {
		name, path, auth string
		want             response
	}{
		{"no token", activePath("app", "m-1"), "-", response{401, "application/json", auth, ""}},
		{"wrong token", activePath("app", "m-1"), "Bearer nope", response{401, "application/json", auth, ""}},
		{"token without Bearer", activePath("app", "m-1"), testToken, response{401, "application/json", auth, ""}},
		{"wrong account", "accounts/acc-2/realtime/kit/app/meetings/m-1/active-session", "", response{403, "application/json", auth, ""}},
		{"wrong account on sessions", "accounts/acc-2/realtime/kit/app/sessions", "", response{403, "application/json", auth, ""}},
		{"unknown path", "accounts/" + testAccount + "/realtime/kit/app/meetings/m-1/participants", "", response{404, "application/json", unrouted("accounts/" + testAccount + "/realtime/kit/app/meetings/m-1/participants"), ""}},
		{"unknown path without token", "zones", "-", response{404, "application/json", unrouted("zones"), ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, get(t, s, tt.path, tt.auth)); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
	want := Counts{Total: 7, ActiveSession: 4, Sessions: 1, Unrouted: 2, Rejected: 5}
	if diff := cmp.Diff(want, s.Counts()); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
	if got := s.ActiveSessionRequests("app", "m-1"); got != 4 {
		t.Errorf("ActiveSessionRequests = %d, want 4", got)
	}
	if got := s.Requests(); got != 7 {
		t.Errorf("Requests = %d, want 7", got)
	}
}

func TestAnyAccount(t *testing.T) {
	s := New(Options{Token: testToken})
	defer s.Close()
	if got := get(t, s, "accounts/whatever/realtime/kit/app/meetings/m/active-session", ""); got.Status != 404 {
		t.Errorf("status = %d, want 404 (no session, any account accepted)", got.Status)
	}
}

func TestNewWithoutToken(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without a token did not panic")
		}
	}()
	New(Options{})
}

// TestCloseReleasesHang checks that Close returns while a request hangs,
// and that the hanging request then fails.
func TestCloseReleasesHang(t *testing.T) {
	s := New(Options{Token: testToken})
	s.SetFault("", "", Fault{Kind: Hang})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+activePath("app", "m"), nil)
		res, err := s.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, func() bool { return s.Counts().Faulted == 1 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	if err := <-errc; err == nil {
		t.Error("the hanging request succeeded")
	}
	s.Close() // twice is fine
}

// TestClientGivesUpOnHang checks that a hanging handler ends when the
// client does, so Close does not wait for it.
func TestClientGivesUpOnHang(t *testing.T) {
	s := New(Options{Token: testToken})
	s.SetFault("app", "m", Fault{Kind: Hang, Times: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+activePath("app", "m"), nil)
	if res, err := s.Client().Do(req); err == nil {
		res.Body.Close()
		t.Fatal("the hanging request succeeded")
	}
	// The fault was used up: the next request is answered.
	if got := get(t, s, activePath("app", "m"), ""); got.Status != 404 {
		t.Errorf("status after the hang = %d, want 404", got.Status)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked")
	}
}

// waitFor polls cond until it holds, failing the test after 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
