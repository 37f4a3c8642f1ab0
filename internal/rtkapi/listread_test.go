package rtkapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestReadListModes reads 250 live sessions, 100 a page, from the fake
// paging each way a server may: every session is read, in at most the
// pages needed plus one, or the read fails; it never ends early in
// silence (but for the one case no answer can tell, named below).
func TestReadListModes(t *testing.T) {
	tests := []struct {
		name     string
		mode     rtkfake.PagingMode
		requests int
		missing  int    // sessions the read cannot see
		settled  bool   // the read says it saw the list at one instant
		failure  string // the read fails with this message
	}{
		{name: "as documented", requests: 3, settled: true},
		{name: "per_page capped at 25", mode: rtkfake.PagingMode{MaxPerPage: 25}, requests: 10, settled: true},
		{name: "page_no from 0", mode: rtkfake.PagingMode{ZeroBased: true}, requests: 3, settled: true},
		{name: "page_no from 0, capped at 25", mode: rtkfake.PagingMode{ZeroBased: true, MaxPerPage: 25}, requests: 10, settled: true},
		{name: "no paging object", mode: rtkfake.PagingMode{NoPagingObject: true}, requests: 3},
		{name: "no paging object, capped at 25", mode: rtkfake.PagingMode{NoPagingObject: true, MaxPerPage: 25}, requests: 11},
		{name: "page_no ignored", mode: rtkfake.PagingMode{IgnorePageNo: true}, requests: 2,
			failure: "page_no 2 began at entry 0, not 100: the API does not page as asked"},
		{name: "page_no ignored, no paging object", mode: rtkfake.PagingMode{IgnorePageNo: true, NoPagingObject: true}, requests: 2,
			failure: "page_no 2 holds only sessions already read: the API seems to ignore page_no"},
		{name: "no order without a sort", mode: rtkfake.PagingMode{ShuffleUnsorted: true}, requests: 3, settled: true},
		{name: "no order without a sort, no paging object", mode: rtkfake.PagingMode{ShuffleUnsorted: true, NoPagingObject: true}, requests: 3},
		// Nothing tells page_no 1 from the second page without a paging
		// object: the first page goes unread. The poller asks each meeting
		// whose session leaves the list, so no session is called ended.
		{name: "page_no from 0, no paging object", mode: rtkfake.PagingMode{ZeroBased: true, NoPagingObject: true}, requests: 2, missing: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, rtkfake.Options{})
			var want []string
			for i := range 250 {
				want = append(want, srv.StartSession(testApp, fmt.Sprintf("m-%03d", i), rtkfake.Session{}))
			}
			srv.SetPaging(tt.mode)
			c := newTestClient(t, srv.URL(), nil)
			r, err := readAll(t, c, LiveList(100), PageHint{})
			if got := srv.SessionsRequests(testApp); got != tt.requests || r.Requests() != tt.requests {
				t.Errorf("%d requests (the read counted %d); want %d", got, r.Requests(), tt.requests)
			}
			if tt.failure != "" {
				if e := asError(t, err); e.Kind != KindDecode || e.Message != tt.failure {
					t.Errorf("error %+v; want a decode failure %q", e, tt.failure)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := r.Sessions()
			ids := make(map[string]bool, len(got))
			for _, s := range got {
				if ids[s.ID] {
					t.Errorf("session %s read twice", s.ID)
				}
				ids[s.ID] = true
			}
			missing := 0
			for _, id := range want {
				if !ids[id] {
					missing++
				}
			}
			if missing != tt.missing || len(got) != 250-tt.missing {
				t.Errorf("%d sessions read, %d missing; want %d missing", len(got), missing, tt.missing)
			}
			if r.Settled() != tt.settled {
				t.Errorf("settled %v; want %v", r.Settled(), tt.settled)
			}
		})
	}
}

// TestReadListShift: a session that ends between two pages moves one from
// the page not yet read to the one read. The read does not see it and says
// that it is not settled.
func TestReadListShift(t *testing.T) {
	for _, mode := range []rtkfake.PagingMode{{}, {NoPagingObject: true}} {
		t.Run(fmt.Sprintf("paging object %v", !mode.NoPagingObject), func(t *testing.T) {
			srv := newFake(t, rtkfake.Options{})
			var ids []string
			for i := range 101 {
				ids = append(ids, srv.StartSession(testApp, fmt.Sprintf("m-%03d", i), rtkfake.Session{}))
			}
			mode.AfterPage = func(_ string, page int) {
				if page == 1 {
					srv.EndSession(testApp, "m-000")
				}
			}
			srv.SetPaging(mode)
			r, err := readAll(t, newTestClient(t, srv.URL(), nil), LiveList(100), PageHint{})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := r.Sessions()
			if len(got) != 100 || got[99].ID != ids[99] || r.Settled() || r.Requests() != 2 {
				t.Errorf("%d sessions (last %s) in %d requests, settled %v; want the first 100 in 2, not settled",
					len(got), got[len(got)-1].ID, r.Requests(), r.Settled())
			}
		})
	}
}

// TestReadListHint: without a paging object, a short page is the end when
// an earlier read showed that the API fills longer pages; otherwise one
// more page tells, and a cap once seen is remembered.
func TestReadListHint(t *testing.T) {
	tests := []struct {
		name     string
		mode     rtkfake.PagingMode
		live     int
		hint     PageHint
		requests int
		wantHint PageHint
	}{
		{name: "short, nothing known", live: 50, requests: 2, wantHint: PageHint{Fill: 50}},
		{name: "as short as the fullest page seen", live: 50, hint: PageHint{Fill: 50}, requests: 2, wantHint: PageHint{Fill: 50}},
		{name: "shorter than the fullest page seen", live: 49, hint: PageHint{Fill: 50}, requests: 1, wantHint: PageHint{Fill: 50}},
		{name: "full", live: 100, requests: 2, wantHint: PageHint{Fill: 100}},
		{name: "capped, learned", mode: rtkfake.PagingMode{MaxPerPage: 25}, live: 30, requests: 2, wantHint: PageHint{Cap: 25, Fill: 25}},
		{name: "capped, known", mode: rtkfake.PagingMode{MaxPerPage: 25}, live: 24, hint: PageHint{Cap: 25, Fill: 25}, requests: 1,
			wantHint: PageHint{Cap: 25, Fill: 25}},
		{name: "capped at the cap, known", mode: rtkfake.PagingMode{MaxPerPage: 25}, live: 25, hint: PageHint{Cap: 25, Fill: 25}, requests: 2,
			wantHint: PageHint{Cap: 25, Fill: 25}},
		{name: "a cap that went away", live: 60, hint: PageHint{Cap: 25, Fill: 25}, requests: 2, wantHint: PageHint{Fill: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, rtkfake.Options{})
			for i := range tt.live {
				srv.StartSession(testApp, fmt.Sprintf("m-%03d", i), rtkfake.Session{})
			}
			tt.mode.NoPagingObject = true
			srv.SetPaging(tt.mode)
			r, err := readAll(t, newTestClient(t, srv.URL(), nil), LiveList(100), tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := r.Sessions()
			if len(got) != tt.live || r.Requests() != tt.requests {
				t.Errorf("%d sessions in %d requests; want %d in %d", len(got), r.Requests(), tt.live, tt.requests)
			}
			if diff := cmp.Diff(tt.wantHint, r.Hint()); diff != "" {
				t.Errorf("hint mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// readAll reads the list that q selects through a ListRead, as the
// poller does, without a budget.
func readAll(t *testing.T, c *Client, q ListQuery, hint PageHint) (*ListRead, error) {
	t.Helper()
	r := NewListRead(q, hint)
	for {
		next, ok := r.Next()
		if !ok {
			_, err := r.Sessions()
			return r, err
		}
		page, err := c.SessionsPage(t.Context(), testApp, next)
		if err != nil {
			return r, err
		}
		if err := r.Add(page); err != nil {
			return r, err
		}
	}
}

// listed is a page of the given session IDs ("" is an entry that did not
// decode) with paging p (nil: none).
func listed(p *Paging, ids ...string) Page {
	pg := Page{Entries: len(ids), Paging: p, Sessions: []Session{}}
	for i, id := range ids {
		if id == "" {
			if pg.Problem == "" {
				pg.Problem = fmt.Sprintf("data.sessions[%d].id is missing", i)
			}
			continue
		}
		pg.Sessions = append(pg.Sessions, Session{ID: id, AssociatedID: "m-" + id, Status: StatusLive})
	}
	return pg
}

func paged(total, start int) *Paging {
	return &Paging{TotalCount: total, StartOffset: start, EndOffset: -1}
}

// TestListReadSteps drives the state machine page by page: which page it
// asks for after each answer, and where it stops.
func TestListReadSteps(t *testing.T) {
	type step struct {
		page Page
		next int // page_no asked for next; -1: the read ends
	}
	tests := []struct {
		name     string
		perPage  int
		hint     PageHint
		steps    []step
		want     []string
		settled  bool
		failure  string
		sessions string // the error of Sessions, when the read ends without one
	}{
		{name: "one page", perPage: 2, steps: []step{{listed(paged(2, 0), "a", "b"), -1}}, want: []string{"a", "b"}, settled: true},
		{name: "empty", perPage: 2, steps: []step{{listed(paged(0, 0)), -1}}, want: []string{}, settled: true},
		{name: "two pages, the second short", perPage: 2,
			steps: []step{{listed(paged(3, 0), "a", "b"), 2}, {listed(paged(3, 2), "c"), -1}}, want: []string{"a", "b", "c"}, settled: true},
		{name: "exactly two pages", perPage: 2,
			steps: []step{{listed(paged(4, 0), "a", "b"), 2}, {listed(paged(4, 2), "c", "d"), -1}}, want: []string{"a", "b", "c", "d"}, settled: true},
		{name: "capped: a short page is not the end while total_count says more", perPage: 5,
			steps: []step{{listed(paged(5, 0), "a", "b"), 2}, {listed(paged(5, 2), "c", "d"), 3}, {listed(paged(5, 4), "e"), -1}},
			want:  []string{"a", "b", "c", "d", "e"}, settled: true},
		{name: "page_no from 0", perPage: 2,
			steps: []step{{listed(paged(5, 2), "c", "d"), 0}, {listed(paged(5, 0), "a", "b"), 2}, {listed(paged(5, 4), "e"), -1}},
			want:  []string{"c", "d", "a", "b", "e"}, settled: true},
		{name: "page_no from 0, all on page 0", perPage: 2,
			steps: []step{{listed(paged(1, 0)), 0}, {listed(paged(1, 0), "a"), -1}}, want: []string{"a"}, settled: true},
		{name: "page_no from 0, empty", perPage: 2, steps: []step{{listed(paged(0, 2)), -1}}, want: []string{}, settled: true},
		{name: "pages 0 and 1 both empty", perPage: 2,
			steps:   []step{{listed(paged(1, 0)), 0}, {listed(paged(1, 0)), -1}},
			failure: "page_no 0 is empty, but total_count is 1"},
		{name: "an empty page where total_count says sessions are", perPage: 2,
			steps:   []step{{listed(paged(5, 0), "a", "b"), 2}, {listed(paged(5, 2)), -1}},
			failure: "page_no 2 is empty, but total_count is 5"},
		{name: "an empty page right at total_count", perPage: 2,
			steps: []step{{listed(paged(3, 0), "a", "b"), 2}, {listed(paged(2, 2)), -1}}, want: []string{"a", "b"}},
		{name: "page_no ignored", perPage: 2,
			steps:   []step{{listed(paged(3, 0), "a", "b"), 2}, {listed(paged(3, 0), "a", "b"), -1}},
			failure: "page_no 2 began at entry 0, not 2: the API does not page as asked"},
		{name: "a page of sessions already read", perPage: 2,
			steps:   []step{{listed(paged(4, 0), "a", "b"), 2}, {listed(paged(4, 2), "a", "b"), -1}},
			failure: "page_no 2 holds only sessions already read"},
		{name: "the list grows while read", perPage: 2,
			steps: []step{{listed(paged(3, 0), "a", "b"), 2}, {listed(paged(5, 2), "c", "d"), 3}, {listed(paged(5, 4), "e"), -1}},
			want:  []string{"a", "b", "c", "d", "e"}},
		{name: "odd entries", perPage: 2,
			steps: []step{{listed(paged(2, 0), "a", ""), -1}}, want: []string{"a"}},
		{name: "nothing decodes", perPage: 2,
			steps: []step{{listed(paged(2, 0), "", ""), -1}}, sessions: "200 OK with an unexpected body: data.sessions[0].id is missing"},

		{name: "unpaged: full, then short", perPage: 2,
			steps: []step{{listed(nil, "a", "b"), 2}, {listed(nil, "c"), -1}}, want: []string{"a", "b", "c"}},
		{name: "unpaged: full, then empty", perPage: 2,
			steps: []step{{listed(nil, "a", "b"), 2}, {listed(nil), -1}}, want: []string{"a", "b"}},
		{name: "unpaged: short, probed, the end", perPage: 3,
			steps: []step{{listed(nil, "a", "b"), 2}, {listed(nil), -1}}, want: []string{"a", "b"}, settled: true},
		{name: "unpaged: short, probed, page_no ignored", perPage: 3,
			steps: []step{{listed(nil, "a", "b"), 2}, {listed(nil, "a", "b"), -1}}, want: []string{"a", "b"}, settled: true},
		{name: "unpaged: short, probed, capped", perPage: 3,
			steps: []step{{listed(nil, "a", "b"), 2}, {listed(nil, "c", "d"), 3}, {listed(nil, "e"), -1}},
			want:  []string{"a", "b", "c", "d", "e"}},
		{name: "unpaged: shorter than seen", perPage: 3, hint: PageHint{Fill: 3},
			steps: []step{{listed(nil, "a", "b"), -1}}, want: []string{"a", "b"}, settled: true},
		{name: "unpaged: a full page of sessions already read", perPage: 2,
			steps:   []step{{listed(nil, "a", "b"), 2}, {listed(nil, "a", "b"), -1}},
			failure: "page_no 2 holds only sessions already read: the API seems to ignore page_no"},
		{name: "unpaged: empty", perPage: 2, steps: []step{{listed(nil), -1}}, want: []string{}, settled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewListRead(ListQuery{Status: StatusLive, PerPage: tt.perPage}, tt.hint)
			var err error
			for i, st := range tt.steps {
				q, ok := r.Next()
				if !ok {
					t.Fatalf("step %d: the read ended early", i)
				}
				if i == 0 && (q.PageNo != 1 || q.SortBy != SortByCreatedAt || q.SortOrder != SortAscending || q.PerPage != tt.perPage) {
					t.Errorf("first query %+v; want page 1, sorted by createdAt ASC", q)
				}
				if err = r.Add(st.page); err != nil {
					if i != len(tt.steps)-1 {
						t.Fatalf("step %d: %v", i, err)
					}
					break
				}
				q, ok = r.Next()
				if got := map[bool]int{false: -1, true: q.PageNo}[ok]; got != st.next {
					t.Fatalf("step %d: next page %d; want %d", i, got, st.next)
				}
			}
			if tt.failure != "" {
				if e := asError(t, err); e.Kind != KindDecode || e.Message != tt.failure {
					t.Fatalf("error %+v; want a decode failure %q", e, tt.failure)
				}
				if _, serr := r.Sessions(); serr != err {
					t.Errorf("Sessions returns %v; want the read's failure", serr)
				}
				return
			}
			got, err := r.Sessions()
			if tt.sessions != "" {
				if err == nil || err.Error() != tt.sessions {
					t.Fatalf("Sessions error %v; want %q", err, tt.sessions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
			if r.Settled() != tt.settled {
				t.Errorf("settled %v; want %v", r.Settled(), tt.settled)
			}
		})
	}
}

func TestListReadMisuse(t *testing.T) {
	r := NewListRead(LiveList(2), PageHint{})
	if _, err := r.Sessions(); err == nil || !strings.Contains(err.Error(), "not read to its end") {
		t.Errorf("Sessions before the end: %v", err)
	}
	if err := r.Add(listed(paged(1, 0), "a")); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(listed(paged(1, 0), "a")); err == nil {
		t.Error("a page added after the end was taken")
	}
}
