package rtkapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// cannedSession is a live session's 200 answer.
const cannedSession = `{"success":true,"data":{"id":"00000000-0000-4000-8000-000000000001","associated_id":"m-1","meeting_display_name":"m-1","type":"meeting","status":"LIVE","live_participants":12,"max_concurrent_participants":12,"minutes_consumed":42.5,"organization_id":"app-1","started_at":"2026-03-01T09:00:01.000Z","created_at":"2026-03-01T09:00:01.000Z","updated_at":"2026-03-01T09:00:01.000Z"}}`

// cannedTransport answers every request with cannedSession, without a
// network: what is left of a request's cost is the client's own.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(cannedSession)), ContentLength: int64(len(cannedSession)), Request: req,
	}, nil
}

// BenchmarkClientOverhead measures the client's side of one active-session
// poll, with no network or server: ActiveSession (the SDK builds and sends
// the request, rtkapi reads and decodes the answer), beside the least a Go
// program does for the same answer (a bare request, encoding/json into a
// struct). The difference is what the SDK and the strict decoding cost a
// poll; TestLoad's minimal poller pays only the bare part.
func BenchmarkClientOverhead(b *testing.B) {
	hc := &http.Client{Transport: cannedTransport{}}
	b.Run("rtkapi", func(b *testing.B) {
		c := New(Options{BaseURL: "http://api.test/client/v4/", AccountID: testAccount, Token: testToken, HTTPClient: hc})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.ActiveSession(b.Context(), testApp, "m-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		url := "http://api.test/client/v4/accounts/" + testAccount + "/realtime/kit/" + testApp + "/meetings/m-1/active-session"
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			res, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var v struct {
				Data struct {
					ID               string  `json:"id"`
					Status           string  `json:"status"`
					LiveParticipants int     `json:"live_participants"`
					MinutesConsumed  float64 `json:"minutes_consumed"`
				} `json:"data"`
			}
			if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != 200 {
				b.Fatal(strconv.Itoa(res.StatusCode), err)
			}
			res.Body.Close()
		}
	})
}
