package rtkfake

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func livestreamsPath(app, query string) string {
	return "accounts/" + testAccount + "/realtime/kit/" + app + "/livestreams" + query
}

func TestLivestreamWire(t *testing.T) {
	s := newServer(t, Options{})
	id := s.AddLivestream("app", Livestream{MeetingID: "m-1", Name: "Town Hall"}) // t0
	s.AddLivestream("app", Livestream{ID: "l-own", Name: "Radio", Status: LivestreamIdle})
	s.SetLivestreamStatus("app", id, LivestreamLive) // t2
	got := get(t, s, livestreamsPath("app", "?sort_order=ASC"), "")
	want := `{"success":true,"data":[` +
		`{"id":"` + id + `","created_at":"2026-03-01T09:00:00.000Z","disabled":"false","ingest_server":"rtmps://ingest.example.com:443/live",` +
		`"meeting_id":"m-1","name":"Town Hall","playback_url":"https://playback.example.com/` + id + `/index.m3u8","status":"LIVE",` +
		`"stream_key":"sk-fake-` + id + `","updated_at":"2026-03-01T09:00:02.000Z"},` +
		`{"id":"l-own","created_at":"2026-03-01T09:00:01.000Z","disabled":"false","ingest_server":"rtmps://ingest.example.com:443/live",` +
		`"meeting_id":null,"name":"Radio","playback_url":"https://playback.example.com/l-own/index.m3u8","status":"IDLE",` +
		`"stream_key":"sk-fake-l-own","updated_at":"2026-03-01T09:00:01.000Z"}],` +
		`"paging":{"total_count":2,"start_offset":0,"end_offset":1}}`
	if diff := cmp.Diff(response{200, "application/json", want, ""}, got); diff != "" {
		t.Errorf("livestreams (-want +got):\n%s", diff)
	}
	if s.SetLivestreamStatus("app", "nope", LivestreamLive) || s.UpdateLivestream("other", id, func(*Livestream) { t.Error("f called") }) {
		t.Error("a livestream that does not exist was updated")
	}
	if ls := s.Livestreams("app"); len(ls) != 2 || ls[0].ID != id || ls[0].Status != LivestreamLive {
		t.Errorf("Livestreams = %+v", ls)
	}
}

func TestLivestreamsList(t *testing.T) {
	s := newServer(t, Options{})
	// Created one second apart from 09:00:00: l1 … l4.
	s.AddLivestream("app", Livestream{ID: "l1", MeetingID: "a", Status: LivestreamLive})
	s.AddLivestream("app", Livestream{ID: "l2", MeetingID: "b"})
	s.AddLivestream("app", Livestream{ID: "l3", Status: LivestreamIdle})
	s.AddLivestream("app", Livestream{ID: "l4", MeetingID: "a", Status: LivestreamErrored})
	tests := []struct {
		query string
		want  []string
		page  paging
	}{
		{"", []string{"l4", "l3", "l2", "l1"}, paging{4, 0, 3}},
		{"?sort_order=ASC", []string{"l1", "l2", "l3", "l4"}, paging{4, 0, 3}},
		{"?sort_order=DSC&status=INVOKED", []string{"l2"}, paging{1, 0, 0}},
		{"?exclude_meetings=true", []string{"l3"}, paging{1, 0, 0}},
		{"?exclude_meetings=false&start_time=2026-03-01T09:00:01Z&end_time=2026-03-01T09:00:02Z", []string{"l3", "l2"}, paging{2, 0, 1}},
		{"?per_page=3&page_no=2", []string{"l1"}, paging{4, 3, 3}},
		{"?per_page=3&page_no=9", []string{}, paging{4, 24, 24}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ids, pg := listedPage(t, get(t, s, livestreamsPath("app", tt.query), ""))
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("livestreams (-want +got):\n%s", diff)
			}
			if pg != tt.page {
				t.Errorf("paging %+v, want %+v", pg, tt.page)
			}
		})
	}
	if got := s.RouteRequests(RouteLivestreams, "app"); got != len(tests) {
		t.Errorf("RouteRequests = %d, want %d", got, len(tests))
	}
}
