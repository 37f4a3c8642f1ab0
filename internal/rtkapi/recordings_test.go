package rtkapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

func fakeTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(rtkfake.TimeFormat, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRecordings reads the fake's recordings through the SDK: every field
// rtkwatchd reads, oldest first, over pages that the paging object ends.
func TestRecordings(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	var want []Recording
	for i := range 45 {
		id := srv.AddRecording(testApp, rtkfake.Recording{
			ID: fmt.Sprintf("r-%02d", i), MeetingID: "m-1", MeetingTitle: "Town Hall", SessionID: "s-1",
		})
		r := srv.Recordings(testApp)[i]
		want = append(want, Recording{ID: id, MeetingID: "m-1", MeetingTitle: "Town Hall", SessionID: "s-1",
			Status: rtkfake.RecordingInvoked, InvokedAt: fakeTime(t, r.InvokedTime)})
	}
	srv.SetRecordingStatus(testApp, "r-44", rtkfake.RecordingRecording)
	srv.SetRecordingStatus(testApp, "r-44", rtkfake.RecordingUploaded)
	r := srv.Recordings(testApp)[44]
	want[44].Status, want[44].StartedAt, want[44].StoppedAt = rtkfake.RecordingUploaded, fakeTime(t, r.StartedTime), fakeTime(t, r.StoppedTime)
	srv.AddRecording("app-2", rtkfake.Recording{ID: "elsewhere", MeetingID: "m-9"})

	c := newTestClient(t, srv.URL(), nil)
	var waits int
	got, err := c.Recordings(t.Context(), testApp, ListOptions{PerPage: 20, BeforePage: func(context.Context) error { waits++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Recordings); diff != "" {
		t.Errorf("recordings (-want +got):\n%s", diff)
	}
	if got.Pages != 3 || waits != 3 || srv.RouteRequests(rtkfake.RouteRecordings, testApp) != 3 || len(got.Problems) != 0 {
		t.Errorf("pages %d, waits %d, requests %d, problems %q; want 3 pages, each waited for, and no problem",
			got.Pages, waits, srv.RouteRequests(rtkfake.RouteRecordings, testApp), got.Problems)
	}
}

// TestRecordingsSince checks that Since reaches the API as start_time, and
// leaves out what was invoked before it.
func TestRecordingsSince(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	srv.AddRecording(testApp, rtkfake.Recording{ID: "old", MeetingID: "m"})
	srv.AddRecording(testApp, rtkfake.Recording{ID: "new", MeetingID: "m"})
	since := fakeTime(t, srv.Recordings(testApp)[1].InvokedTime)
	var query string
	c := newTestClient(t, srv.URL(), func(o *Options) {
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			query = r.URL.RawQuery
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	got, err := c.Recordings(t.Context(), testApp, ListOptions{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Recordings) != 1 || got.Recordings[0].ID != "new" {
		t.Errorf("recordings %+v, want only the one invoked since", got.Recordings)
	}
	for _, p := range []string{"sort_by=invokedTime", "sort_order=ASC", "page_no=1", "per_page=100", "start_time=2026-03-01T09%3A00%3A02Z"} {
		if !strings.Contains(query, p) {
			t.Errorf("query %q lacks %s", query, p)
		}
	}
}

// serveBody starts a server that answers every request with body.
func serveBody(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
	t.Cleanup(srv.Close)
	return srv
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pagedServer serves a list of n entries (made by entry) under route,
// in pages as the mode says, and counts the requests.
type pagedServer struct {
	mu       sync.Mutex
	requests int
}

type pageMode struct {
	cap        int  // the server's own maximum per_page; 0: none
	zeroBased  bool // page_no counts from 0
	noPaging   bool // no paging object
	ignorePage bool // every request gets the first page
}

func (ps *pagedServer) serve(t *testing.T, n int, mode pageMode, entry func(i int) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.serveOnce(t, w, r, n, mode, entry)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveOnce answers one request with a page of n entries, as mode says.
func (ps *pagedServer) serveOnce(t *testing.T, w http.ResponseWriter, r *http.Request, n int, mode pageMode, entry func(i int) string) {
	ps.mu.Lock()
	ps.requests++
	ps.mu.Unlock()
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
	if mode.cap > 0 {
		perPage = min(perPage, mode.cap)
	}
	if !mode.zeroBased {
		pageNo--
	}
	if mode.ignorePage {
		pageNo = 0
	}
	start := max(pageNo*perPage, 0)
	var b strings.Builder
	b.WriteString(`{"success":true,"data":[`)
	end := min(start+perPage, n)
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		b.WriteString(entry(i))
	}
	b.WriteString("]")
	if !mode.noPaging {
		last := max(end-1, start)
		fmt.Fprintf(&b, `,"paging":{"total_count":%d,"start_offset":%d,"end_offset":%d}`, n, start, last)
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}

// count returns the requests served.
func (ps *pagedServer) count() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.requests
}

func recordingEntry(i int) string {
	return fmt.Sprintf(`{"id":"r-%03d","status":"RECORDING","invoked_time":"2026-03-01T09:00:00Z","session_id":null,"started_time":null,"stopped_time":null,"meeting":{"id":"m","title":"T"}}`, i)
}

// TestRecordingsPagingModes reads lists of every shape the paging rules
// meet: no entry is missed, and the requests are the pages needed.
func TestRecordingsPagingModes(t *testing.T) {
	tests := []struct {
		name         string
		n, perPage   int
		mode         pageMode
		wantRequests int
		wantErr      string
	}{
		{name: "empty", n: 0, perPage: 20, wantRequests: 1},
		{name: "exact pages, paging object", n: 40, perPage: 20, wantRequests: 2},
		{name: "exact pages, no paging object", n: 40, perPage: 20, mode: pageMode{noPaging: true}, wantRequests: 3},
		{name: "server caps per_page", n: 60, perPage: 20, mode: pageMode{cap: 15}, wantRequests: 4},
		{name: "zero-based page_no", n: 45, perPage: 20, mode: pageMode{zeroBased: true}, wantRequests: 3},
		{name: "zero-based, one page", n: 5, perPage: 20, mode: pageMode{zeroBased: true}, wantRequests: 2},
		{name: "ignored page_no", n: 45, perPage: 20, mode: pageMode{ignorePage: true}, wantRequests: 2,
			wantErr: "page_no 2 began at entry 0, not 20: the API does not page as asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps pagedServer
			srv := ps.serve(t, tt.n, tt.mode, recordingEntry)
			c := newTestClient(t, srv.URL, nil)
			got, err := c.Recordings(t.Context(), testApp, ListOptions{PerPage: tt.perPage})
			if ps.requests != tt.wantRequests {
				t.Errorf("requests = %d, want %d", ps.requests, tt.wantRequests)
			}
			if tt.wantErr != "" {
				if e := asError(t, err); e.Kind != KindDecode || e.Message != tt.wantErr {
					t.Errorf("error %+v, want a decode error %q", e, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got.Recordings {
				ids = append(ids, r.ID)
			}
			var want []string
			for i := range tt.n {
				want = append(want, fmt.Sprintf("r-%03d", i))
			}
			if diff := cmp.Diff(want, ids, cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordingsOddEntries checks that an entry that does not decode is
// left out and named, and the others are read.
func TestRecordingsOddEntries(t *testing.T) {
	body := `{"success":true,"data":[
		{"id":"ok","status":"RECORDING","invoked_time":"2026-03-01T09:00:00Z","meeting":{"id":"m","title":"T"}},
		{"id":"n","status":3},
		{"id":"t","status":"RECORDING","invoked_time":"yesterday"},
		{"id":"s","status":"RECORDING","started_time":17},
		"not an object",
		{"status":"WHATEVER"}
	],"paging":{"total_count":6,"start_offset":0,"end_offset":5}}`
	srv := serveBody(t, body)
	got, err := newTestClient(t, srv.URL, nil).Recordings(t.Context(), testApp, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := RecordingList{
		Recordings: []Recording{
			{ID: "ok", MeetingID: "m", MeetingTitle: "T", Status: "RECORDING", InvokedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
			{Status: "WHATEVER"}, // judged by the rules: no id, an unknown status
		},
		Problems: []string{
			"data[1].status is 3, not a string",
			`data[2].invoked_time is "yesterday", not an RFC 3339 time`,
			"data[3].started_time is 17, not a string",
			`data[4] is "not an object", not an object`,
		},
		Pages: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
}

// TestListBodies checks the answers that fail a whole read of a list, each
// with a decode error that says why.
func TestListBodies(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{`{"success":false,"data":[]}`, "success is not true"},
		{`{"data":[]}`, "success is not true"},
		{`{"success":"yes","data":[]}`, "success is a string, not a bool"},
		{`{"success":true,"data":[1,2}`, "invalid JSON"},
		{``, "empty body"},
		{`{"success":true,"data":{"id":"x"}}`, "data is an object, not an array"},
		{`{"success":true,"data":"x"}`, "data is a string, not an array"},
		{`{"success":true,"data":[],"paging":{"total_count":-1,"start_offset":0,"end_offset":0}}`, "paging.total_count is -1, below 0"},
		{`{"success":true,"data":[],"paging":{"total_count":1.5,"start_offset":0,"end_offset":0}}`, "paging.total_count is 1.5, not a whole number"},
		{`{"success":true,"data":[],"paging":{"start_offset":0,"end_offset":0}}`, "paging.total_count is missing"},
		{`{"success":true,"data":[],"paging":"all"}`, "paging is a string, not an object"},
		{`[1,2]`, "the body is an array, not an object"},
		{`{"success":true,"data":[`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			srv := serveBody(t, tt.body)
			c := newTestClient(t, srv.URL, nil)
			_, rerr := c.Recordings(t.Context(), testApp, ListOptions{})
			_, lerr := c.Livestreams(t.Context(), testApp, ListOptions{})
			for _, err := range []error{rerr, lerr} {
				e := asError(t, err)
				if e.Kind != KindDecode || e.StatusCode != 200 || !strings.Contains(e.Message, tt.want) {
					t.Errorf("error %+v, want a decode error with %q", e, tt.want)
				}
				checkMessage(t, e)
			}
		})
	}
}

// TestListFailures checks that a failing page fails the read with the
// typed error of the sessions calls, and that BeforePage's error stops it
// before any request.
func TestListFailures(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	for i := range 30 {
		srv.AddRecording(testApp, rtkfake.Recording{ID: fmt.Sprintf("r-%02d", i), MeetingID: "m"})
	}
	c := newTestClient(t, srv.URL(), nil)

	srv.SetRouteFault(rtkfake.RouteRecordings, testApp, rtkfake.Fault{Kind: rtkfake.RateLimited, RetryAfter: 7})
	_, err := c.Recordings(t.Context(), testApp, ListOptions{PerPage: 20})
	if e := asError(t, err); e.Kind != KindRateLimited || e.RetryAfter != 7*time.Second {
		t.Errorf("429: %+v", e)
	}
	srv.ClearRouteFault(rtkfake.RouteRecordings, testApp)

	// The second page fails: nothing of the first is returned.
	rt := &faultAfter{rt: http.DefaultTransport, n: 1, apply: func() {
		srv.SetRouteFault(rtkfake.RouteRecordings, testApp, rtkfake.Fault{Kind: rtkfake.ServerError})
	}}
	c2 := newTestClient(t, srv.URL(), func(o *Options) { o.HTTPClient = &http.Client{Transport: rt} })
	got, err := c2.Recordings(t.Context(), testApp, ListOptions{PerPage: 20})
	if e := asError(t, err); e.Kind != KindServer || len(got.Recordings) != 0 || got.Pages != 2 {
		t.Errorf("failing page 2: %+v, %+v", got, e)
	}

	stop := errors.New("budget: context canceled")
	before := srv.Counts().Recordings
	_, err = c.Recordings(t.Context(), testApp, ListOptions{BeforePage: func(context.Context) error { return stop }})
	if !errors.Is(err, stop) || srv.Counts().Recordings != before {
		t.Errorf("BeforePage's error: %v, %d requests made", err, srv.Counts().Recordings-before)
	}
	if _, err := c.Recordings(t.Context(), "", ListOptions{}); asError(t, err).Kind != KindClient {
		t.Errorf("empty app: %v", err)
	}
}

// TestRecordingsHint checks that a read keeps what it learned of an API
// without paging objects: once a page held 20 entries, a page of 5 is the
// end, where a read that knows nothing asks for one more page to be sure.
func TestRecordingsHint(t *testing.T) {
	var ps pagedServer
	var n atomic.Int64
	n.Store(25)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.serveOnce(t, w, r, int(n.Load()), pageMode{noPaging: true}, recordingEntry)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, nil)
	var hint PageHint
	read := func(h *PageHint) int {
		t.Helper()
		before := ps.count()
		if _, err := c.Recordings(t.Context(), testApp, ListOptions{PerPage: 20, Hint: h}); err != nil {
			t.Fatal(err)
		}
		return ps.count() - before
	}
	if got := read(&hint); got != 2 || hint.Fill != 20 {
		t.Errorf("25 entries: %d requests, hint %+v; want 2 and a fill of 20", got, hint)
	}
	n.Store(5)
	if got := read(&hint); got != 1 {
		t.Errorf("5 entries with the hint: %d requests, want 1", got)
	}
	if got := read(nil); got != 2 {
		t.Errorf("5 entries without a hint: %d requests, want 2", got)
	}
}
