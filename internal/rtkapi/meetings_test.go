package rtkapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestMeetingsPage reads an app's meetings page by page from the fake.
func TestMeetingsPage(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("m-%d", i))
		srv.CreateMeeting(testApp, want[i])
	}
	c := newTestClient(t, srv.URL(), nil)
	var got []string
	for page := 1; page <= 3; page++ {
		p, err := c.MeetingsPage(t.Context(), testApp, page, 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.Paging == nil || p.Paging.TotalCount != 5 || p.Entries != len(p.IDs) {
			t.Fatalf("page %d: %+v; want the paging object, total 5", page, p)
		}
		got = append(got, p.IDs...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("meetings (-want +got):\n%s", diff)
	}
	if n := srv.RouteRequests(rtkfake.RouteMeetings, testApp); n != 3 {
		t.Errorf("%d requests; want 3", n)
	}
}

// TestMeetingsPageBad: answers that are not a meetings page, and requests
// that cannot be made, are errors that say why; an entry without an id is
// left out but counted.
func TestMeetingsPageBad(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantIDs []string
		entries int
		problem string
	}{
		{name: "an entry without an id", body: `{"success":true,"data":[{"id":"m-1"},{"title":"x"},{"id":7}]}`, wantIDs: []string{"m-1"}, entries: 3},
		{name: "no data", body: `{"success":true}`, wantIDs: []string{}},
		{name: "not a success", body: `{"success":false,"data":[]}`, problem: "success is not true"},
		{name: "data not a list", body: `{"success":true,"data":{"id":"m-1"}}`, problem: "data is an object, not an array"},
		{name: "bad paging", body: `{"success":true,"data":[],"paging":{"total_count":-1,"start_offset":0}}`, problem: "paging.total_count is -1, below 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			p, err := newTestClient(t, srv.URL+"/client/v4/", nil).MeetingsPage(t.Context(), testApp, 1, 0)
			if tt.problem != "" {
				if e := asError(t, err); e.Kind != KindDecode || e.Message != "200 OK with an unexpected body: "+tt.problem {
					t.Errorf("error %+v; want a decode failure naming %q", e, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantIDs, p.IDs); diff != "" || p.Entries != tt.entries {
				t.Errorf("ids (-want +got):\n%s; %d entries, want %d", diff, p.Entries, tt.entries)
			}
		})
	}
	c := newTestClient(t, "http://127.0.0.1:1/client/v4/", nil)
	for _, page := range []int{0, -1} {
		if _, err := c.MeetingsPage(t.Context(), testApp, page, 0); asError(t, err).Kind != KindClient {
			t.Errorf("page %d: %v; want a client error", page, err)
		}
	}
	if _, err := c.MeetingsPage(t.Context(), "", 1, 0); asError(t, err).Kind != KindClient {
		t.Errorf("no app: %v; want a client error", err)
	}
}
