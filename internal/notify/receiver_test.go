package notify

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a loopback HTTP server that records every request and
// answers through respond, which gets the 1-based number of the request.
type receiver struct {
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []received
	got  chan struct{} // receives a value per request, when not full
}

// newReceiver starts a receiver; a nil respond answers 200 to everything.
// The server is closed when the test ends. Create it outside any synctest
// bubble: its goroutines belong to the test, not to the bubble.
func newReceiver(t testing.TB, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, got: make(chan struct{}, 1<<16)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, received{Header: r.Header.Clone(), Body: body})
	n := len(rc.reqs)
	rc.mu.Unlock()
	select {
	case rc.got <- struct{}{}:
	default:
	}
	if rc.respond != nil {
		rc.respond(n, w, r)
	}
}

// requests returns a copy of the requests so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// count returns how many requests arrived.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// status answers every request with code and body.
func status(code int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// hangUntilGone blocks until the client gives up on the request.
func hangUntilGone(_ int, _ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// bubbleClient returns a client for use inside a synctest bubble. Without
// keep-alives no goroutine of the bubble sits in a network read between
// requests, so the bubble's clock can advance.
func bubbleClient() *http.Client {
	c := defaultClient()
	c.Transport = &http.Transport{DisableKeepAlives: true}
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", within, what)
		case <-tick.C:
		}
	}
}

// golden compares got with the golden file testdata/name, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
