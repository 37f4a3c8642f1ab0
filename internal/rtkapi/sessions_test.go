package rtkapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

func TestReadListPaging(t *testing.T) {
	tests := []struct {
		sessions, perPage, wantRequests int
	}{
		{sessions: 0, perPage: 20, wantRequests: 1},
		{sessions: 19, perPage: 20, wantRequests: 1},
		{sessions: 20, perPage: 20, wantRequests: 1}, // total_count says it is all
		{sessions: 40, perPage: 20, wantRequests: 2},
		{sessions: 45, perPage: 20, wantRequests: 3},
		{sessions: 45, perPage: 0, wantRequests: 1}, // the default page size, 100
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d sessions per %d", tt.sessions, tt.perPage), func(t *testing.T) {
			srv := newFake(t, rtkfake.Options{})
			var want []Session
			for i := range tt.sessions {
				m := fmt.Sprintf("m-%03d", i)
				srv.StartSession(testApp, m, rtkfake.Session{LiveParticipants: i})
				live, _ := srv.LiveSession(testApp, m)
				want = append(want, *wantSession(t, live))
			}
			// Sessions of another app and ended ones are not listed.
			srv.StartSession("app-2", "other", rtkfake.Session{LiveParticipants: 1})
			srv.StartSession(testApp, "gone", rtkfake.Session{LiveParticipants: 1})
			srv.EndSession(testApp, "gone")

			c := newTestClient(t, srv.URL(), nil)
			got, requests, err := c.readList(t.Context(), testApp, LiveList(tt.perPage))
			if err != nil {
				t.Fatal(err)
			}
			if requests != tt.wantRequests || srv.SessionsRequests(testApp) != tt.wantRequests {
				t.Errorf("requests = %d (fake saw %d), want %d", requests, srv.SessionsRequests(testApp), tt.wantRequests)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// faultAfter is a transport that scripts a fault once n responses have
// passed through it.
type faultAfter struct {
	rt    http.RoundTripper
	n     int
	apply func()
	mu    sync.Mutex
	seen  int
}

func (f *faultAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := f.rt.RoundTrip(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen++; f.seen == f.n {
		f.apply()
	}
	return res, err
}

func TestReadListFailingPage(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	for i := range 45 {
		srv.StartSession(testApp, fmt.Sprintf("m-%03d", i), rtkfake.Session{})
	}
	rt := &faultAfter{rt: srv.Client().Transport, n: 1, apply: func() {
		srv.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 30})
	}}
	c := newTestClient(t, srv.URL(), func(o *Options) { o.HTTPClient = &http.Client{Transport: rt} })
	got, requests, err := c.readList(t.Context(), testApp, LiveList(20))
	if got != nil || requests != 2 || err == nil {
		t.Fatalf("got %d sessions, %d requests, error %v; want none, 2, an error", len(got), requests, err)
	}
	f := asError(t, err)
	checkMessage(t, f)
	if f.Kind != KindRateLimited || f.RetryAfter != 30*time.Second {
		t.Errorf("error = %+v, want rate_limited after 30s", f)
	}
}

func TestReadListBadPage(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.TruncatedJSON})
	c := newTestClient(t, srv.URL(), nil)
	got, requests, err := c.readList(t.Context(), testApp, LiveList(20))
	if got != nil || requests != 1 || err == nil || asError(t, err).Kind != KindDecode {
		t.Fatalf("got %d sessions, %d requests, error %v; want a decode failure", len(got), requests, err)
	}
	checkMessage(t, asError(t, err))
}

// TestEndedList: a meeting's ended sessions, newest first, with their
// final numbers.
func TestEndedList(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	first := srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 4})
	srv.UpdateSession(testApp, "m-1", func(s *rtkfake.Session) { s.LiveParticipants, s.MinutesConsumed = 9, 31.5 })
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 2}) // ends the first
	srv.EndSession(testApp, "m-1")
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 1})
	srv.StartSession(testApp, "m-2", rtkfake.Session{LiveParticipants: 1})
	srv.EndSession(testApp, "m-2")
	ended := srv.EndedSessions(testApp, "m-1")
	c := newTestClient(t, srv.URL(), nil)

	got, requests, err := c.readList(t.Context(), testApp, EndedList("m-1"))
	if err != nil || requests != 1 {
		t.Fatalf("%d requests, error %v", requests, err)
	}
	if diff := cmp.Diff([]Session{*wantSession(t, ended[1]), *wantSession(t, ended[0])}, got); diff != "" {
		t.Errorf("sessions mismatch (-want +got):\n%s", diff)
	}
	if ended[0].ID != first || ended[0].MaxConcurrentParticipants != 9 || ended[0].Status != StatusEnded || ended[0].EndedAt == "" {
		t.Errorf("the fake's first ended session is %+v", ended[0])
	}

	srv.SetFault(testApp, "m-1", rtkfake.Fault{Kind: rtkfake.BadGatewayHTML})
	got, _, err = c.readList(t.Context(), testApp, EndedList("m-1"))
	if got != nil || err == nil || asError(t, err).Kind != KindServer {
		t.Fatalf("got %+v, error %v; want a server failure", got, err)
	}
	checkMessage(t, asError(t, err))
}

// recorder is a transport that remembers the requests it carries.
type recorder struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(req.Context()))
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

// count returns how many requests the recorder carried.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func TestClientRequests(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	rec := &recorder{rt: srv.Client().Transport}
	c := newTestClient(t, srv.URL(), func(o *Options) { o.HTTPClient = &http.Client{Transport: rec} })
	_, _ = c.ActiveSession(t.Context(), testApp, "m-1")
	_, _, _ = c.readList(t.Context(), testApp, LiveList(50))
	_, _, _ = c.readList(t.Context(), testApp, EndedList("m-1"))
	_ = c.Meeting(t.Context(), testApp, "m 1")
	_, _ = c.SessionsPage(t.Context(), testApp, ListQuery{PageNo: 0})
	_, _ = c.SessionsPage(t.Context(), testApp, ListQuery{Status: StatusLive, MeetingID: "m/2", SortBy: SortByCreatedAt, PageNo: 3, PerPage: 7})

	type request struct{ Method, Path, Query, Auth, UserAgent string }
	var got []request
	for _, r := range rec.reqs {
		got = append(got, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("User-Agent")})
	}
	prefix := "/client/v4/accounts/" + testAccount + "/realtime/kit/" + testApp
	want := []request{
		{"GET", prefix + "/meetings/m-1/active-session", "", "Bearer " + testToken, "rtkwatchd/test"},
		{"GET", prefix + "/sessions", "page_no=1&per_page=50&sort_by=createdAt&sort_order=ASC&status=LIVE", "Bearer " + testToken, "rtkwatchd/test"},
		{"GET", prefix + "/sessions", "associated_id=m-1&page_no=1&per_page=20&sort_by=createdAt&sort_order=DESC&status=ENDED", "Bearer " + testToken, "rtkwatchd/test"},
		{"GET", prefix + "/meetings/m%201", "", "Bearer " + testToken, "rtkwatchd/test"},
		{"GET", prefix + "/sessions", "page_no=0", "Bearer " + testToken, "rtkwatchd/test"},
		{"GET", prefix + "/sessions", "associated_id=m%2F2&page_no=3&per_page=7&sort_by=createdAt&status=LIVE", "Bearer " + testToken, "rtkwatchd/test"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

func TestClientDefaultHTTPClient(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 2})
	c := New(Options{BaseURL: srv.URL(), AccountID: testAccount, Token: testToken})
	if s, err := c.ActiveSession(t.Context(), testApp, "m-1"); err != nil || s.LiveParticipants != 2 {
		t.Fatalf("got %+v, %v", s, err)
	}
}

// TestReadListOddEntries: an entry that does not decode is left out,
// but still counts towards a full page, so paging goes on; a list of
// nothing but odd entries is a failure.
func TestReadListOddEntries(t *testing.T) {
	serve := func(total int, odd func(i int) bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			page, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
			per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
			var items []string
			for i := (page - 1) * per; i < min(page*per, total); i++ {
				id := fmt.Sprintf("s%d", i)
				if odd(i) {
					id = ""
				}
				items = append(items, fmt.Sprintf(`{"id":%q,"associated_id":"m%d","status":"LIVE","live_participants":1,"minutes_consumed":1,"started_at":"2026-03-01T09:00:00Z"}`, id, i))
			}
			w.Header().Set("content-type", "application/json")
			fmt.Fprintf(w, `{"success":true,"data":{"sessions":[%s]}}`, strings.Join(items, ","))
		}))
	}
	t.Run("one odd entry on a full page", func(t *testing.T) {
		srv := serve(150, func(i int) bool { return i == 5 })
		defer srv.Close()
		got, pages, err := newTestClient(t, srv.URL+"/client/v4/", nil).readList(t.Context(), "app", LiveList(100))
		if err != nil {
			t.Fatal(err)
		}
		// Without a paging object, the short second page is as long as
		// the first that was full: it ends the list.
		if len(got) != 149 || pages != 2 {
			t.Errorf("%d sessions in %d pages; want 149 in 2", len(got), pages)
		}
	})
	t.Run("nothing decodes", func(t *testing.T) {
		srv := serve(3, func(int) bool { return true })
		defer srv.Close()
		_, _, err := newTestClient(t, srv.URL+"/client/v4/", nil).readList(t.Context(), "app", LiveList(100))
		if f := asError(t, err); f.Kind != KindDecode || !strings.Contains(f.Message, "data.sessions[0].id is missing") {
			t.Errorf("error %+v; want a decode failure naming the first odd entry", f)
		}
	})
}

// TestReadListPageGuard: a list whose pages stay full and new fails after
// 1,000 pages instead of reading for ever; a list that ends on its
// 1,000th page is read whole.
func TestReadListPageGuard(t *testing.T) {
	serve := func(fullPages int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			page, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
			w.Header().Set("content-type", "application/json")
			if page > fullPages {
				fmt.Fprint(w, `{"success":true,"data":{"sessions":[]}}`)
				return
			}
			fmt.Fprintf(w, `{"success":true,"data":{"sessions":[{"id":"s%d","associated_id":"m%d","status":"LIVE","live_participants":1,"minutes_consumed":1,"started_at":"2026-03-01T09:00:00Z"}]}}`, page, page)
		}))
	}
	// A thousand requests on a busy machine: no one of them may hit the
	// test client's short timeout.
	slow := func(o *Options) { o.Timeout = 30 * time.Second }
	t.Run("ends on page 1000", func(t *testing.T) {
		srv := serve(999)
		defer srv.Close()
		got, pages, err := newTestClient(t, srv.URL+"/client/v4/", slow).readList(t.Context(), "app", LiveList(1))
		if err != nil || len(got) != 999 || pages != 1000 {
			t.Fatalf("%d sessions in %d pages, error %v; want 999 in 1000", len(got), pages, err)
		}
	})
	t.Run("never ends", func(t *testing.T) {
		srv := serve(1 << 30)
		defer srv.Close()
		got, pages, err := newTestClient(t, srv.URL+"/client/v4/", slow).readList(t.Context(), "app", LiveList(1))
		if got != nil || pages != 1000 {
			t.Fatalf("%d sessions in %d pages; want none after 1000", len(got), pages)
		}
		if f := asError(t, err); f.Kind != KindDecode || f.Message != "the sessions list did not end after 1000 pages" {
			t.Errorf("error %+v; want a decode failure saying the list did not end", f)
		}
	})
}
