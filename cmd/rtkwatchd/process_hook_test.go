package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// The webhook receiver of the process tests, and the checks every
// delivery it records must pass.

// Modes of a hookRecorder.
const (
	hookHang = 0 // hold every request until the test ends or the client leaves
)

// hookAttempt is one delivery attempt a hookRecorder received.
type hookAttempt struct {
	WebhookID string
	Status    int // what the recorder answered; 0 for a held request
	VerifyErr error
	Body      []byte
	Event     diff.Event
}

// hookRecorder is a Standard Webhooks receiver: it verifies every request
// with the official library, records it, and answers with the status the
// test sets (or holds it, in hookHang mode).
type hookRecorder struct {
	srv     *httptest.Server
	wh      *standardwebhooks.Webhook
	status  atomic.Int32
	release chan struct{}

	mu       sync.Mutex
	attempts []hookAttempt
}

// newHookRecorder starts a receiver answering status.
func newHookRecorder(t *testing.T, status int) *hookRecorder {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(procSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &hookRecorder{wh: wh, release: make(chan struct{})}
	r.status.Store(int32(status))
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() { close(r.release) }) // runs before srv.Close
	return r
}

// URL is the receiver's endpoint.
func (r *hookRecorder) URL() string { return r.srv.URL + "/hook" }

func (r *hookRecorder) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	a := hookAttempt{WebhookID: req.Header.Get("webhook-id"), Body: body}
	a.VerifyErr = r.wh.Verify(body, req.Header)
	if err := json.Unmarshal(body, &a.Event); err != nil && a.VerifyErr == nil {
		a.VerifyErr = fmt.Errorf("body is not an event: %w", err)
	}
	status := int(r.status.Load())
	if status != hookHang {
		a.Status = status
	}
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
	if status == hookHang {
		select {
		case <-r.release:
		case <-req.Context().Done():
		}
		return
	}
	w.WriteHeader(status)
}

// all returns every attempt so far, in order of arrival.
func (r *hookRecorder) all() []hookAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookAttempt(nil), r.attempts...)
}

// hasType reports whether an attempt of an event of type typ for meeting
// arrived.
func (r *hookRecorder) hasType(meeting, typ string) bool {
	for _, a := range r.all() {
		if a.Event.Data.MeetingID == meeting && a.Event.Type == typ {
			return true
		}
	}
	return false
}

// delivered returns the events answered with a 2xx, one per webhook-id.
func (r *hookRecorder) delivered() map[string]diff.Event {
	m := map[string]diff.Event{}
	for _, a := range r.all() {
		if a.Status/100 == 2 {
			m[a.WebhookID] = a.Event
		}
	}
	return m
}

// checkAttempts checks what SPEC §5 and §6 promise of every attempt: the
// signature verifies, webhook-id is the event's data.id, every attempt
// with one id carries the same body, and each transition (meeting and
// sequence) has one id.
func checkAttempts(t *testing.T, attempts []hookAttempt) {
	t.Helper()
	bodies := map[string][]byte{}
	type transition struct {
		watch, meeting string
		seq            uint64
	}
	ids := map[transition]string{}
	for _, a := range attempts {
		if a.VerifyErr != nil {
			t.Errorf("attempt with webhook-id %q does not verify: %v", a.WebhookID, a.VerifyErr)
			continue
		}
		if a.WebhookID != a.Event.Data.ID {
			t.Errorf("webhook-id %q, but data.id %q", a.WebhookID, a.Event.Data.ID)
		}
		if b, ok := bodies[a.WebhookID]; ok && !bytes.Equal(b, a.Body) {
			t.Errorf("two attempts with webhook-id %q carry different bodies:\n%s\n%s", a.WebhookID, b, a.Body)
		}
		bodies[a.WebhookID] = a.Body
		k := transition{a.Event.Data.Watch, a.Event.Data.MeetingID, a.Event.Data.Sequence}
		if id, ok := ids[k]; ok && id != a.WebhookID {
			t.Errorf("transition %+v sent under two ids, %s and %s", k, id, a.WebhookID)
		}
		ids[k] = a.WebhookID
	}
}
