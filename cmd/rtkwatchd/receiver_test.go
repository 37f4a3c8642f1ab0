package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// receiver is a webhook endpoint that records every request and answers
// with a status the test chooses, or as its answer function says.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	answer http.HandlerFunc // nil: status, no body

	mu   sync.Mutex
	reqs []receivedRequest
}

// receivedRequest is one request a receiver got.
type receivedRequest struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	return newAnsweringReceiver(t, nil)
}

// newAnsweringReceiver is a receiver that answers as answer says (which
// finds the request's body read), or with its status when answer is nil.
func newAnsweringReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.status.Store(http.StatusNoContent)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, receivedRequest{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		if r.answer != nil {
			r.answer(w, req)
			return
		}
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the receiver's endpoint.
func (r *receiver) URL() string { return r.srv.URL + "/hooks/rtk" }

// count returns how many requests wait to be taken.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// take returns the requests received since the last take.
func (r *receiver) take() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}
