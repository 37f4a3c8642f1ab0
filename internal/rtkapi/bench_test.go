package rtkapi

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// BenchmarkActiveSession measures one poll of a live session against the
// fake over loopback. Allocations include the fake's side of the request;
// BenchmarkFakeActiveSession measures that side alone for comparison.
func BenchmarkActiveSession(b *testing.B) {
	srv := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccount})
	defer srv.Close()
	srv.StartSession(testApp, "m-1", rtkfake.Session{
		LiveParticipants: 12, MinutesConsumed: 42.5,
		BreakoutRooms: []byte(`[{"id":"a"}]`), Meta: []byte(`{"k":"v"}`),
	})
	hc := newHTTPClient(DefaultMaxInFlight)
	defer hc.CloseIdleConnections()
	c := New(Options{BaseURL: srv.URL(), AccountID: testAccount, Token: testToken, HTTPClient: hc})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ActiveSession(b.Context(), testApp, "m-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActiveSessionParallel polls one session from many goroutines.
func BenchmarkActiveSessionParallel(b *testing.B) {
	srv := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccount})
	defer srv.Close()
	srv.StartSession(testApp, "m-1", rtkfake.Session{LiveParticipants: 12, MinutesConsumed: 42.5})
	hc := newHTTPClient(DefaultMaxInFlight)
	defer hc.CloseIdleConnections()
	c := New(Options{BaseURL: srv.URL(), AccountID: testAccount, Token: testToken, HTTPClient: hc})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.ActiveSession(b.Context(), testApp, "m-1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkFakeActiveSession is the same request made with a bare
// net/http client, to tell the fake's and the transport's cost from the
// client's.
func BenchmarkFakeActiveSession(b *testing.B) {
	srv := rtkfake.New(rtkfake.Options{Token: testToken, AccountID: testAccount})
	defer srv.Close()
	srv.StartSession(testApp, "m-1", rtkfake.Session{
		LiveParticipants: 12, MinutesConsumed: 42.5,
		BreakoutRooms: []byte(`[{"id":"a"}]`), Meta: []byte(`{"k":"v"}`),
	})
	hc := newHTTPClient(DefaultMaxInFlight)
	defer hc.CloseIdleConnections()
	url := srv.URL() + "accounts/" + testAccount + "/realtime/kit/" + testApp + "/meetings/m-1/active-session"
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatal(res.Status)
		}
	}
}

// BenchmarkDecodeActiveSession measures decoding alone.
func BenchmarkDecodeActiveSession(b *testing.B) {
	body := []byte(`{"success":true,"data":{"id":"00000000-0000-4000-8000-000000000001","associated_id":"m-1","meeting_display_name":"m-1","type":"meeting","status":"LIVE","live_participants":12,"max_concurrent_participants":12,"minutes_consumed":42.5,"organization_id":"app-1","started_at":"2026-03-01T09:00:01.000Z","created_at":"2026-03-01T09:00:01.000Z","updated_at":"2026-03-01T09:00:01.000Z","breakout_rooms":[{"id":"a"}],"meta":{"k":"v"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, f := decodeActiveSession(200, body); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkDecodeRecordingsPage measures decoding a full page of 100
// recordings, as the fake serves them.
func BenchmarkDecodeRecordingsPage(b *testing.B) {
	srv := rtkfake.New(rtkfake.Options{Token: testToken})
	defer srv.Close()
	for i := range 100 {
		id := srv.AddRecording(testApp, rtkfake.Recording{MeetingID: fmt.Sprintf("m-%d", i%7), MeetingTitle: "Town Hall", SessionID: "s-1"})
		srv.SetRecordingStatus(testApp, id, rtkfake.RecordingUploaded)
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"accounts/a/realtime/kit/"+testApp+"/recordings?per_page=100", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("status %d: %v", res.StatusCode, err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if pg, e := decodeAppPage(200, body, recordingsList); e != nil || len(pg.items) != 100 {
			b.Fatal(e, len(pg.items))
		}
	}
}
