package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// receiver is the demo's webhook consumer: it verifies each delivery
// with the official Standard Webhooks library, as any consumer would, and
// hands the verified events to the timeline.
type receiver struct {
	srv    *httptest.Server
	wh     *standardwebhooks.Webhook
	events chan receivedEvent

	mu   sync.Mutex
	seen map[string]bool
	bad  int
}

// receivedEvent is one verified delivery.
type receivedEvent struct {
	at    time.Time
	event diff.Event
}

func newReceiver(secret string) (*receiver, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("demo receiver: %w", err)
	}
	r := &receiver{wh: wh, events: make(chan receivedEvent, 256), seen: make(map[string]bool)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r, nil
}

// URL is where the daemon delivers.
func (r *receiver) URL() string { return r.srv.URL + "/rtkwatchd" }

// Close stops the receiver.
func (r *receiver) Close() { r.srv.Close() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var ev diff.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Data.ID != req.Header.Get("webhook-id") {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "not an rtkwatchd event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	dup := r.seen[ev.Data.ID]
	r.seen[ev.Data.ID] = true
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	if dup { // at least once: a redelivery carries the same id
		return
	}
	select {
	case r.events <- receivedEvent{at: time.Now(), event: ev}:
	default: // nobody reads any more (the demo failed): do not hold the server
	}
}

// count is how many distinct events arrived verified.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// rejected is how many deliveries failed verification.
func (r *receiver) rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}
