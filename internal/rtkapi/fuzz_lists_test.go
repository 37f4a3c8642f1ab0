package rtkapi

import (
	"math"
	"testing"
)

// FuzzDecodeLists feeds any body to the decoders of the recordings and
// livestreams lists and of the daywise analytics: each either fails with a
// short decode error or returns entries that are fully decoded, every
// entry that is not accounted for by one problem.
func FuzzDecodeLists(f *testing.F) {
	f.Add([]byte(`{"success":true,"data":[` + recordingEntry(1) + `],"paging":{"total_count":1,"start_offset":0,"end_offset":0}}`))
	f.Add([]byte(`{"success":true,"data":[{"id":"l","meeting_id":null,"status":"LIVE","created_at":"2026-03-01T09:00:00Z"},{"id":3}]}`))
	f.Add([]byte(`{"success":true,"data":{"session_stats":{"day_stats":[{"day":"2026-03-01","total_session_minutes":1.5},{"day":1}]}}}`))
	f.Add([]byte(`{"success":true,"data":null,"paging":{"total_count":1e9,"start_offset":0,"end_offset":0}}`))
	f.Add([]byte(`{"success":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		short := func(e *Error) {
			if e.Kind != KindDecode || len(e.Message) > 300 {
				t.Fatalf("failure %+v", e)
			}
		}
		if pg, e := decodeAppPage(200, body, recordingsList); e != nil {
			short(e)
		} else if len(pg.items)+len(pg.problems) != pg.entries {
			t.Fatalf("recordings: %d entries, %d items, %d problems", pg.entries, len(pg.items), len(pg.problems))
		}
		if pg, e := decodeAppPage(200, body, livestreamsList); e != nil {
			short(e)
		} else if len(pg.items)+len(pg.problems) != pg.entries {
			t.Fatalf("livestreams: %d entries, %d items, %d problems", pg.entries, len(pg.items), len(pg.problems))
		} else if p := pg.paging; p != nil && (p.TotalCount < 0 || p.StartOffset < 0 || p.EndOffset < -1) {
			t.Fatalf("paging %+v", p)
		}
		if u, e := decodeUsage(200, body); e != nil {
			short(e)
		} else {
			for _, d := range u.Days {
				if math.IsNaN(d.Minutes) || math.IsInf(d.Minutes, 0) {
					t.Fatalf("day %+v", d)
				}
			}
		}
	})
}
