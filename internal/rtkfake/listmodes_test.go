package rtkfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pageAnswer is what one sessions page says: its session IDs and its
// paging object (nil when absent).
type pageAnswer struct {
	IDs    []string
	Paging *paging
}

func answer(t *testing.T, r response) pageAnswer {
	t.Helper()
	var body struct {
		Data   struct{ Sessions []Session }
		Paging *paging
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	a := pageAnswer{IDs: listed(t, r), Paging: body.Paging}
	return a
}

// fiveLive starts s1…s5, one a second, in five meetings of "app".
func fiveLive(t *testing.T) *Server {
	t.Helper()
	s := newServer(t, Options{})
	for i := 1; i <= 5; i++ {
		s.StartSession("app", fmt.Sprintf("m%d", i), Session{ID: fmt.Sprintf("s%d", i)})
	}
	return s
}

func TestPagingModes(t *testing.T) {
	pg := func(total, start, n int) *paging {
		end := start + n - 1
		if n == 0 {
			end = start // an empty page ends where it starts
		}
		return &paging{TotalCount: total, StartOffset: start, EndOffset: end}
	}
	tests := []struct {
		name  string
		mode  PagingMode
		query string
		want  pageAnswer
	}{
		{"default, page 1", PagingMode{}, "per_page=2&page_no=1", pageAnswer{[]string{"s1", "s2"}, pg(5, 0, 2)}},
		{"default, page 3", PagingMode{}, "per_page=2&page_no=3", pageAnswer{[]string{"s5"}, pg(5, 4, 1)}},
		{"default, past the end", PagingMode{}, "per_page=2&page_no=4", pageAnswer{[]string{}, pg(5, 6, 0)}},
		{"default, page 0 is page 1", PagingMode{}, "per_page=2&page_no=0", pageAnswer{[]string{"s1", "s2"}, pg(5, 0, 2)}},
		{"cap at 2", PagingMode{MaxPerPage: 2}, "per_page=4&page_no=2", pageAnswer{[]string{"s3", "s4"}, pg(5, 2, 2)}},
		{"cap above the ask", PagingMode{MaxPerPage: 9}, "per_page=4&page_no=2", pageAnswer{[]string{"s5"}, pg(5, 4, 1)}},
		{"zero-based, page 0", PagingMode{ZeroBased: true}, "per_page=2&page_no=0", pageAnswer{[]string{"s1", "s2"}, pg(5, 0, 2)}},
		{"zero-based, page 1", PagingMode{ZeroBased: true}, "per_page=2&page_no=1", pageAnswer{[]string{"s3", "s4"}, pg(5, 2, 2)}},
		{"no paging object", PagingMode{NoPagingObject: true}, "per_page=2&page_no=2", pageAnswer{[]string{"s3", "s4"}, nil}},
		{"page_no ignored", PagingMode{IgnorePageNo: true}, "per_page=2&page_no=3", pageAnswer{[]string{"s1", "s2"}, pg(5, 0, 2)}},
		{"shuffled, but sorted when asked", PagingMode{ShuffleUnsorted: true}, "per_page=5&sort_by=createdAt", pageAnswer{[]string{"s1", "s2", "s3", "s4", "s5"}, pg(5, 0, 5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fiveLive(t)
			s.SetPaging(tt.mode)
			got := answer(t, get(t, s, sessionsPath("app", "?status=LIVE&"+tt.query), ""))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("page mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPagingShuffleUnsorted: without sort_by the order changes from one
// request to the next, but every page still comes from one list.
func TestPagingShuffleUnsorted(t *testing.T) {
	s := fiveLive(t)
	s.SetPaging(PagingMode{ShuffleUnsorted: true})
	orders := map[string]bool{}
	for range 10 {
		ids := answer(t, get(t, s, sessionsPath("app", "?status=LIVE&per_page=5"), "")).IDs
		sorted := slices.Sorted(slices.Values(ids))
		if diff := cmp.Diff([]string{"s1", "s2", "s3", "s4", "s5"}, sorted); diff != "" {
			t.Fatalf("listed sessions (-want +got):\n%s", diff)
		}
		orders[fmt.Sprint(ids)] = true
	}
	if len(orders) < 2 {
		t.Errorf("10 unsorted requests gave %d order(s); want them to differ", len(orders))
	}
	s.SetPaging(PagingMode{})
	if got := answer(t, get(t, s, sessionsPath("app", "?status=LIVE&per_page=5"), "")).IDs; !slices.Equal(got, []string{"s1", "s2", "s3", "s4", "s5"}) {
		t.Errorf("default order %v; want by started_at", got)
	}
}

// TestPagingAfterPage: a session that ends between two page reads shifts
// the later ones back, so the next page misses one: exactly what a reader
// must survive.
func TestPagingAfterPage(t *testing.T) {
	s := fiveLive(t)
	var calls []string
	s.SetPaging(PagingMode{AfterPage: func(app string, page int) {
		calls = append(calls, fmt.Sprint(app, " ", page))
		if page == 1 {
			s.EndSession("app", "m1")
		}
	}})
	first := answer(t, get(t, s, sessionsPath("app", "?status=LIVE&per_page=2&page_no=1"), ""))
	second := answer(t, get(t, s, sessionsPath("app", "?status=LIVE&per_page=2&page_no=2"), ""))
	if diff := cmp.Diff([]pageAnswer{
		{[]string{"s1", "s2"}, &paging{TotalCount: 5, StartOffset: 0, EndOffset: 1}},
		{[]string{"s4", "s5"}, &paging{TotalCount: 4, StartOffset: 2, EndOffset: 3}},
	}, []pageAnswer{first, second}); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"app 1", "app 2"}, calls); diff != "" {
		t.Errorf("AfterPage calls (-want +got):\n%s", diff)
	}
}

func TestMeetingRoute(t *testing.T) {
	s := newServer(t, Options{})
	s.StartSession("app", "live", Session{})
	if !s.CreateMeeting("app", "idle") || s.CreateMeeting("app", "idle") || s.CreateMeeting("app", "live") {
		t.Error("CreateMeeting does not report new meetings alone as new")
	}
	path := func(m string) string { return "accounts/" + testAccount + "/realtime/kit/app/meetings/" + m }
	for _, m := range []string{"live", "idle"} {
		got := get(t, s, path(m), "")
		var body struct {
			Success bool
			Data    struct{ ID string }
		}
		if err := json.Unmarshal([]byte(got.Body), &body); err != nil || got.Status != 200 || !body.Success || body.Data.ID != m {
			t.Errorf("%s: status %d, body %s; want the meeting", m, got.Status, got.Body)
		}
	}
	got := get(t, s, path("nope"), "")
	if got.Status != 404 || got.Body != `{"success":false,"error":{"code":404,"message":"Meeting not found"}}` {
		t.Errorf("unknown meeting: status %d, body %s; want RealtimeKit's 404", got.Status, got.Body)
	}
	if got := get(t, s, path("nope"), "Bearer wrong"); got.Status != 401 {
		t.Errorf("bad token: status %d, want 401", got.Status)
	}
	if c := s.Counts(); c.Meetings != 4 || c.ActiveSession != 0 {
		t.Errorf("counts %+v; want 4 meeting requests", c)
	}
}
