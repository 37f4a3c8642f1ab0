package poller

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// TestObservation covers every answer the API can give and what the
// poller makes of it, stamped with the poller's own clock.
func TestObservation(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := New(nil, Options{Now: func() time.Time { return at }})
	live := &rtkapi.Session{ID: "s-1", AssociatedID: "m-1", Status: rtkapi.StatusLive, LiveParticipants: 4, MinutesConsumed: 2.5,
		BreakoutRooms: []byte(`[]`), Meta: []byte(`{"k":"v"}`)}
	tests := []struct {
		name    string
		session *rtkapi.Session
		err     error
		want    diff.Observation
	}{
		{name: "session", session: live, want: diff.Observation{Kind: diff.ObservedSession, At: at, Session: &diff.Session{
			ID: "s-1", AssociatedID: "m-1", Status: diff.StatusLive, LiveParticipants: 4, MinutesConsumed: 2.5,
			BreakoutRooms: []byte(`[]`), Meta: []byte(`{"k":"v"}`)}}},
		{name: "no active session", err: rtkapi.ErrNoActiveSession,
			want: diff.Observation{Kind: diff.ObservedNoSession, At: at}},
		{name: "no active session, wrapped", err: fmt.Errorf("poll m-1: %w", rtkapi.ErrNoActiveSession),
			want: diff.Observation{Kind: diff.ObservedNoSession, At: at}},
		{name: "a list read whole", want: diff.Observation{Kind: diff.ObservedNoSession, At: at}},
		{name: "rate limited", err: &rtkapi.Error{Kind: rtkapi.KindRateLimited, StatusCode: 429, RetryAfter: 7 * time.Second, Message: "429 Too Many Requests"},
			want: diff.Observation{Kind: diff.ObservedFailure, At: at, Failure: &diff.Failure{
				Kind: diff.FailureRateLimited, StatusCode: 429, RetryAfter: 7 * time.Second, Message: "429 Too Many Requests"}}},
		{name: "wrapped failure", err: fmt.Errorf("list: %w", &rtkapi.Error{Kind: rtkapi.KindServer, StatusCode: 502, Message: "502 Bad Gateway"}),
			want: diff.Observation{Kind: diff.ObservedFailure, At: at, Failure: &diff.Failure{
				Kind: diff.FailureServer, StatusCode: 502, Message: "502 Bad Gateway"}}},
		{name: "an error rtkapi never returns", err: errors.New("something else"),
			want: diff.Observation{Kind: diff.ObservedFailure, At: at, Failure: &diff.Failure{
				Kind: diff.FailureClient, Message: "something else"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, p.observation(tt.session, tt.err)); diff != "" {
				t.Errorf("observation (-want +got):\n%s", diff)
			}
		})
	}
}

// TestObservationKinds: every kind of rtkapi failure becomes the diff
// failure kind of the same name, which watch.failing and the metrics show.
func TestObservationKinds(t *testing.T) {
	kinds := map[rtkapi.Kind]diff.FailureKind{
		rtkapi.KindAuth:        diff.FailureAuth,
		rtkapi.KindRateLimited: diff.FailureRateLimited,
		rtkapi.KindServer:      diff.FailureServer,
		rtkapi.KindNotFound:    diff.FailureNotFound,
		rtkapi.KindClient:      diff.FailureClient,
		rtkapi.KindNetwork:     diff.FailureNetwork,
		rtkapi.KindTimeout:     diff.FailureTimeout,
		rtkapi.KindDecode:      diff.FailureDecode,
	}
	p := New(nil, Options{})
	for k, want := range kinds {
		obs := p.observation(nil, &rtkapi.Error{Kind: k, Message: "x"})
		if obs.Failure == nil || obs.Failure.Kind != want {
			t.Errorf("rtkapi kind %q became %+v; want %q", k, obs.Failure, want)
		}
	}
}
