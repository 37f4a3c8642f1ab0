package rtkapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestReadListTies: the list can be sorted by createdAt only, and the API
// may order sessions that share a createdAt differently on every request.
// Ties within a page change nothing. Ties across a page boundary may show
// a session on two pages (it is read once) and another on none: the read
// then is not settled, so the poller asks those meetings directly.
func TestReadListTies(t *testing.T) {
	tests := []struct {
		name     string
		group    int // sessions that share each createdAt, in order
		noPaging bool
		requests int
		missing  bool // whether some session must go unseen
		settled  bool
	}{
		{name: "pairs, within pages", group: 2, requests: 3, settled: true},
		{name: "pairs, within pages, no paging object", group: 2, noPaging: true, requests: 3},
		{name: "all at one instant", group: 250, requests: 3, missing: true},
		{name: "all at one instant, no paging object", group: 250, noPaging: true, requests: 3, missing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, rtkfake.Options{})
			live := make(map[string]bool)
			start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			for i := range 250 {
				created := start.Add(time.Duration(i/tt.group) * time.Second).Format(rtkfake.TimeFormat)
				live[srv.StartSession(testApp, fmt.Sprintf("m-%03d", i), rtkfake.Session{CreatedAt: created})] = true
			}
			srv.SetPaging(rtkfake.PagingMode{ShuffleTies: true, NoPagingObject: tt.noPaging})
			c := newTestClient(t, srv.URL(), nil)
			r, err := readAll(t, c, LiveList(100), PageHint{})
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.SessionsRequests(testApp); got != tt.requests {
				t.Errorf("%d requests; want %d", got, tt.requests)
			}
			got, _ := r.Sessions()
			read := make(map[string]bool, len(got))
			for _, s := range got {
				if read[s.ID] || !live[s.ID] {
					t.Errorf("session %s read twice, or not live", s.ID)
				}
				read[s.ID] = true
			}
			missing := 250 - len(read)
			t.Logf("%d sessions read, %d unseen", len(read), missing)
			if (missing > 0) != tt.missing {
				t.Errorf("%d sessions unseen; want some: %v", missing, tt.missing)
			}
			if r.Settled() != tt.settled {
				t.Errorf("settled %v; want %v", r.Settled(), tt.settled)
			}
		})
	}
}
