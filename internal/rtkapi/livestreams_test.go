package rtkapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestLivestreams reads the fake's livestreams (an array under "data",
// where the SDK declares an object) over two pages.
func TestLivestreams(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	var want []Livestream
	for i := range 25 {
		l := rtkfake.Livestream{ID: fmt.Sprintf("l-%02d", i), MeetingID: "m-1", Name: "Town Hall"}
		if i == 3 {
			l.MeetingID = "" // the app's own
		}
		srv.AddLivestream(testApp, l)
	}
	srv.SetLivestreamStatus(testApp, "l-07", rtkfake.LivestreamLive)
	for _, l := range srv.Livestreams(testApp) {
		want = append(want, Livestream{ID: l.ID, MeetingID: l.MeetingID, Name: l.Name, Status: l.Status,
			CreatedAt: fakeTime(t, l.CreatedAt), UpdatedAt: fakeTime(t, l.UpdatedAt)})
	}
	c := newTestClient(t, srv.URL(), nil)
	got, err := c.Livestreams(t.Context(), testApp, ListOptions{PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Livestreams); diff != "" {
		t.Errorf("livestreams (-want +got):\n%s", diff)
	}
	if got.Pages != 2 || len(got.Problems) != 0 {
		t.Errorf("pages %d, problems %q; want 2 and none", got.Pages, got.Problems)
	}
	for _, l := range got.Livestreams {
		if strings.Contains(fmt.Sprintf("%+v", l), "sk-fake") {
			t.Errorf("livestream %+v keeps its stream key", l)
		}
	}
}

// TestLivestreamsOddEntries checks that bad entries are left out and named,
// once however many pages repeat them.
func TestLivestreamsOddEntries(t *testing.T) {
	body := `{"success":true,"data":[
		{"id":"ok","meeting_id":"m","name":"N","status":"LIVE","created_at":"2026-03-01T09:00:00Z","updated_at":"2026-03-01T09:00:05.5Z"},
		{"id":"x","meeting_id":12},
		{"id":"y","status":"LIVE","updated_at":"soon"},
		{"id":"z","status":"SOMETHING","meeting_id":null}
	]}`
	srv := serveBody(t, body)
	got, err := newTestClient(t, srv.URL, nil).Livestreams(t.Context(), testApp, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := LivestreamList{
		Livestreams: []Livestream{
			{ID: "ok", MeetingID: "m", Name: "N", Status: "LIVE", CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
				UpdatedAt: time.Date(2026, 3, 1, 9, 0, 5, 500_000_000, time.UTC)},
			{ID: "z", Status: "SOMETHING"},
		},
		Problems: []string{"data[1].meeting_id is 12, not a string", `data[2].updated_at is "soon", not an RFC 3339 time`},
		Pages:    2, // without a paging object, a short page may be a capped one: the next tells

	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
}

// TestLivestreamsQuery checks the order and filter the request asks for.
func TestLivestreamsQuery(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		_, _ = w.Write([]byte(`{"success":true,"data":[]}`))
	}))
	t.Cleanup(srv.Close)
	since := time.Date(2026, 2, 26, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	if _, err := newTestClient(t, srv.URL, nil).Livestreams(t.Context(), testApp, ListOptions{Since: since, PerPage: 50}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sort_order=ASC", "page_no=1", "per_page=50", "start_time=2026-02-26T08%3A00%3A00Z"} {
		if !strings.Contains(query, p) {
			t.Errorf("query %q lacks %s", query, p)
		}
	}
}
