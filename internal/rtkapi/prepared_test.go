package rtkapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// seenRequest is what a server saw of one request.
type seenRequest struct {
	Method, Path, Query string
	Header              http.Header
}

// recordingServer answers 404 to everything and records what it saw.
func recordingServer(t *testing.T) (*httptest.Server, func() []seenRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := r.Header.Clone()
		h.Del("Accept-Encoding") // the transport's, not the request's
		seen = append(seen, seenRequest{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, h})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"success":false,"error":{"code":404,"message":"no active session"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

// TestPreparedRequestIsTheSDKs checks that an active-session request sent
// again is, on the wire, the request the SDK sends itself: method, path
// (escaped), query and every header, the first time and every time after.
func TestPreparedRequestIsTheSDKs(t *testing.T) {
	srv, seen := recordingServer(t)
	c := newTestClient(t, srv.URL+"/client/v4/", nil)
	meeting := "m 1/ü" // escaped in the path
	for range 3 {
		if _, err := c.ActiveSession(t.Context(), testApp, meeting); err != ErrNoActiveSession {
			t.Fatalf("error %v, want ErrNoActiveSession", err)
		}
	}
	// The SDK itself, through the same client, sends the request once.
	var p realtime_kit.ActiveSessionGetActiveSessionParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	r := c.call(t.Context(), viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.active.GetActiveSession(ctx, testApp, "m%201%2F%C3%BC", p, opts...)
		return err
	}))
	r.release()
	got := seen()
	if len(got) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(got))
	}
	sdk := got[3]
	if sdk.Header.Get("Authorization") != "Bearer "+testToken || sdk.Path == "" {
		t.Fatalf("the SDK's own request lacks its credentials or path: %+v", sdk)
	}
	for i, g := range got[:3] {
		if diff := cmp.Diff(sdk, g); diff != "" {
			t.Errorf("request %d differs from the SDK's (-sdk +sent):\n%s", i+1, diff)
		}
	}
}

// TestPreparedShared checks that the requests of many meetings, asked for
// at once from many goroutines, are built once each, share one header
// map, and each go to their own meeting.
func TestPreparedShared(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	c := newTestClient(t, srv.URL(), nil)
	const meetings, rounds = 20, 5
	var wg sync.WaitGroup
	for i := range meetings * rounds {
		id := fmt.Sprintf("m-%02d", i%meetings)
		wg.Go(func() {
			if _, err := c.ActiveSession(context.Background(), testApp, id); err != ErrNoActiveSession {
				t.Errorf("meeting %s: error %v, want ErrNoActiveSession", id, err)
			}
		})
	}
	wg.Wait()
	for i := range meetings {
		id := fmt.Sprintf("m-%02d", i)
		if got := srv.ActiveSessionRequests(testApp, id); got != rounds {
			t.Errorf("meeting %s: %d requests, want %d", id, got, rounds)
		}
	}
	c.prepared.mu.Lock()
	defer c.prepared.mu.Unlock()
	if len(c.prepared.reqs) != meetings {
		t.Fatalf("%d requests kept, want %d", len(c.prepared.reqs), meetings)
	}
	for key, req := range c.prepared.reqs {
		if fmt.Sprintf("%p", req.Header) != fmt.Sprintf("%p", c.prepared.header) {
			t.Errorf("request %s keeps a header of its own", key)
		}
	}
}

// TestPreparedBound checks that a client keeps at most its limit of
// requests, dropping the oldest half when full, and that a dropped
// request is built again when asked for.
func TestPreparedBound(t *testing.T) {
	srv := newFake(t, rtkfake.Options{})
	c := newTestClient(t, srv.URL(), nil)
	c.prepared.limit = 4
	ask := func(id string) {
		t.Helper()
		if _, err := c.ActiveSession(t.Context(), testApp, id); err != ErrNoActiveSession {
			t.Fatalf("meeting %s: error %v, want ErrNoActiveSession", id, err)
		}
	}
	kept := func() []string {
		c.prepared.mu.Lock()
		defer c.prepared.mu.Unlock()
		if len(c.prepared.reqs) != len(c.prepared.order) {
			t.Fatalf("%d requests kept, %d in order", len(c.prepared.reqs), len(c.prepared.order))
		}
		var keys []string
		for _, k := range c.prepared.order {
			keys = append(keys, k.app+"/"+k.meeting)
		}
		return keys
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		ask(id)
	}
	if got, want := kept(), []string{testApp + "/a", testApp + "/b", testApp + "/c", testApp + "/d"}; !cmp.Equal(got, want) {
		t.Fatalf("at the limit: kept %v, want %v", got, want)
	}
	ask("e") // one over: the oldest half goes
	if got, want := kept(), []string{testApp + "/c", testApp + "/d", testApp + "/e"}; !cmp.Equal(got, want) {
		t.Fatalf("one over the limit: kept %v, want %v", got, want)
	}
	ask("a") // dropped: built again
	if got := srv.ActiveSessionRequests(testApp, "a"); got != 2 {
		t.Errorf("meeting a: %d requests, want 2", got)
	}
}

// TestPreparedRequestNoRedirect checks that a redirect of the
// active-session route is an unexpected response, never followed: the
// request would carry the token elsewhere.
func TestPreparedRequestNoRedirect(t *testing.T) {
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL+"/client/v4/", nil)
	_, err := c.ActiveSession(t.Context(), testApp, "m-1")
	want := Error{Kind: KindClient, StatusCode: http.StatusFound, Message: "unexpected response 302 Found"}
	if diff := cmp.Diff(want, *asError(t, err)); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}
