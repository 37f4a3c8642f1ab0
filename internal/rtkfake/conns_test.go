package rtkfake

import (
	"io"
	"net/http"
	"testing"
)

// TestConnections counts accepted connections: one for a client that keeps
// its connection alive, one per request for a client that does not.
func TestConnections(t *testing.T) {
	s := newServer(t, Options{})
	s.StartSession("app", "m-1", Session{})
	send := func(c *http.Client) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+activePath("app", "m-1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	if got := s.Connections(); got != 0 {
		t.Fatalf("Connections before any request = %d, want 0", got)
	}
	keep := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(keep.CloseIdleConnections)
	for range 5 {
		send(keep)
	}
	if got := s.Connections(); got != 1 {
		t.Errorf("Connections after 5 requests on one kept-alive connection = %d, want 1", got)
	}
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		send(once)
	}
	if got := s.Connections(); got != 4 {
		t.Errorf("Connections after 3 more requests without keep-alive = %d, want 4", got)
	}
}
