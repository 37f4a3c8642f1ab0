package rtkfake

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func recordingsPath(app, query string) string {
	return "accounts/" + testAccount + "/realtime/kit/" + app + "/recordings" + query
}

// listedPage returns the ids and the paging object of a recordings or
// livestreams response.
func listedPage(t *testing.T, r response) ([]string, paging) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var body struct {
		Success bool
		Data    []struct{ ID string }
		Paging  *paging
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || !body.Success || body.Data == nil || body.Paging == nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	ids := []string{}
	for _, d := range body.Data {
		ids = append(ids, d.ID)
	}
	return ids, *body.Paging
}

func TestRecordingWire(t *testing.T) {
	s := newServer(t, Options{})
	// Clock: t0 for the first add, t1 for the second, t2 RECORDING, t3 UPLOADED.
	id := s.AddRecording("app", Recording{MeetingID: "m-1", MeetingTitle: "Town Hall", SessionID: "s-1"})
	s.AddRecording("app", Recording{ID: "r-orphan", Status: RecordingErrored})
	s.SetRecordingStatus("app", id, RecordingRecording)
	s.SetRecordingStatus("app", id, RecordingUploaded)
	got := get(t, s, recordingsPath("app", "?sort_order=ASC"), "")
	want := `{"success":true,"data":[` +
		`{"id":"` + id + `","audio_download_url":null,"download_url":"https://recordings.example.com/` + id + `.mp4",` +
		`"download_url_expiry":"2026-03-08T09:00:03.000Z","file_size":1048576,"invoked_time":"2026-03-01T09:00:00.000Z",` +
		`"output_file_name":"` + id + `.mp4","session_id":"s-1","started_time":"2026-03-01T09:00:02.000Z","status":"UPLOADED",` +
		`"stopped_time":"2026-03-01T09:00:03.000Z","meeting":{"id":"m-1","created_at":"2026-03-01T09:00:00.000Z",` +
		`"updated_at":"2026-03-01T09:00:00.000Z","live_stream_on_start":false,"persist_chat":false,"record_on_start":false,` +
		`"session_keep_alive_time_in_secs":60,"status":"ACTIVE","summarize_on_end":false,"title":"Town Hall"},` +
		`"recording_duration":1,"storage_config":null},` +
		`{"id":"r-orphan","audio_download_url":null,"download_url":null,"download_url_expiry":null,"file_size":null,` +
		`"invoked_time":"2026-03-01T09:00:01.000Z","output_file_name":"r-orphan.mp4","session_id":null,"started_time":null,` +
		`"status":"ERRORED","stopped_time":null,"recording_duration":0,"storage_config":null}],` +
		`"paging":{"total_count":2,"start_offset":0,"end_offset":1}}`
	if diff := cmp.Diff(response{200, "application/json", want, ""}, got); diff != "" {
		t.Errorf("recordings (-want +got):\n%s", diff)
	}
}

func TestRecordingScript(t *testing.T) {
	s := newServer(t, Options{})
	id := s.AddRecording("app", Recording{MeetingID: "m"}) // t0
	if !s.UpdateRecording("app", id, func(r *Recording) { r.ID, r.Status = "other", "WEIRD" }) {
		t.Fatal("UpdateRecording found no recording")
	}
	s.SetRecordingStatus("app", id, RecordingErrored) // t1: stopped, never started
	got := s.Recordings("app")
	want := []Recording{{
		ID: id, MeetingID: "m", Status: RecordingErrored, InvokedTime: "2026-03-01T09:00:00.000Z",
		StoppedTime: "2026-03-01T09:00:01.000Z", OutputFileName: id + ".mp4",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recordings (-want +got):\n%s", diff)
	}
	if s.SetRecordingStatus("app", "nope", RecordingRecording) || s.UpdateRecording("other", id, func(*Recording) { t.Error("f called") }) {
		t.Error("a recording that does not exist was updated")
	}
	if s.Recordings("nobody") != nil {
		t.Error("an unknown app has recordings")
	}
}

func TestRecordingsList(t *testing.T) {
	s := newServer(t, Options{})
	// Invoked one second apart from 09:00:00: r1 … r5.
	s.AddRecording("app", Recording{ID: "r1", MeetingID: "a", MeetingTitle: "Daily"})
	s.AddRecording("app", Recording{ID: "r2", MeetingID: "b", Status: RecordingRecording})
	s.AddRecording("app", Recording{ID: "r3", MeetingID: "a", Status: RecordingUploaded})
	s.AddRecording("app", Recording{ID: "r4", Status: RecordingErrored})
	s.AddRecording("app", Recording{ID: "r5", MeetingID: "b", Status: RecordingUploaded, InvokedTime: "2026-03-01T09:00:01.000Z"})
	s.AddRecording("other", Recording{ID: "x1", MeetingID: "a"})
	tests := []struct {
		query string
		want  []string
		page  paging
	}{
		{"", []string{"r4", "r3", "r5", "r2", "r1"}, paging{5, 0, 4}},
		{"?sort_order=ASC&sort_by=invokedTime", []string{"r1", "r2", "r5", "r3", "r4"}, paging{5, 0, 4}},
		{"?meeting_id=a", []string{"r3", "r1"}, paging{2, 0, 1}},
		{"?status=UPLOADED", []string{"r3", "r5"}, paging{2, 0, 1}},
		{"?status=UPLOADED&status=RECORDING", []string{"r3", "r5", "r2"}, paging{3, 0, 2}},
		{"?status=ERRORED,RECORDING", []string{"r4", "r2"}, paging{2, 0, 1}},
		{"?start_time=2026-03-01T09:00:01Z&end_time=2026-03-01T09:00:02Z", []string{"r3", "r5", "r2"}, paging{3, 0, 2}},
		{"?search=Dai", []string{"r1"}, paging{1, 0, 0}},
		{"?per_page=2", []string{"r4", "r3"}, paging{5, 0, 1}},
		{"?per_page=2&page_no=3", []string{"r1"}, paging{5, 4, 4}},
		{"?per_page=2.0&page_no=4", []string{}, paging{5, 6, 6}},
		{"?expired=false&page_no=0", []string{"r4", "r3", "r5", "r2", "r1"}, paging{5, 0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ids, pg := listedPage(t, get(t, s, recordingsPath("app", tt.query), ""))
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("recordings (-want +got):\n%s", diff)
			}
			if pg != tt.page {
				t.Errorf("paging %+v, want %+v", pg, tt.page)
			}
		})
	}
	if got, want := s.RouteRequests(RouteRecordings, "app"), len(tests); got != want {
		t.Errorf("RouteRequests = %d, want %d", got, want)
	}
	if c := s.Counts(); c.Recordings != len(tests) || c.Total != len(tests) {
		t.Errorf("counts %+v", c)
	}
}

func TestListsBadQuery(t *testing.T) {
	s := newServer(t, Options{})
	for _, path := range []string{
		recordingsPath("app", "?status=DONE"), recordingsPath("app", "?sort_by=id"), recordingsPath("app", "?sort_order=DSC"),
		recordingsPath("app", "?start_time=yesterday"), recordingsPath("app", "?end_time=2026-13-01"), recordingsPath("app", "?per_page=-1"),
		recordingsPath("app", "?page_no=1.5"),
		livestreamsPath("app", "?status=live"), livestreamsPath("app", "?sort_order=DESC"), livestreamsPath("app", "?exclude_meetings=maybe"),
		livestreamsPath("app", "?start_time=x"), livestreamsPath("app", "?per_page=x"),
		analyticsPath("app", "?start_date=2026-3-1"), analyticsPath("app", "?end_date=tomorrow"),
		analyticsPath("app", "?start_date=2026-03-02&end_date=2026-03-01"), analyticsPath("app", "?start_date=2024-01-01&end_date=2026-03-01"),
	} {
		t.Run(path, func(t *testing.T) {
			got := get(t, s, path, "")
			var body struct {
				Success bool
				Error   struct {
					Code    int
					Message string
				}
			}
			if err := json.Unmarshal([]byte(got.Body), &body); err != nil || got.Status != 400 || body.Error.Code != 400 || body.Error.Message == "" {
				t.Errorf("status %d, body %s, want a 400 RealtimeKit error", got.Status, got.Body)
			}
		})
	}
}
