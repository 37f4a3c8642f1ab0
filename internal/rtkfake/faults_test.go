package rtkfake

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFaultResponses(t *testing.T) {
	tests := []struct {
		fault       Fault
		status      int
		contentType string
		validJSON   bool
		retryAfter  string
		inBody      string
	}{
		{Fault{Kind: Unauthorized}, 401, "application/json", true, "", `"code":10000`},
		{Fault{Kind: Forbidden}, 403, "application/json", true, "", `"code":10000`},
		{Fault{Kind: RateLimited, RetryAfter: 7}, 429, "application/json", true, "7", `"code":971`},
		{Fault{Kind: RateLimited}, 429, "application/json", true, "", `"errors"`},
		{Fault{Kind: ServerError}, 500, "application/json", true, "", `"error":{"code":500`},
		{Fault{Kind: BadGatewayHTML}, 502, "text/html", false, "", "502 Bad Gateway"},
		{Fault{Kind: TruncatedJSON}, 200, "application/json", false, "", `{"success":true,"data":{`},
		{Fault{Kind: Garbage}, 200, "text/html", false, "", "<!DOCTYPE html>"},
		{Fault{Kind: UnroutedNotFound}, 404, "application/json", true, "", `"code":7003`},
		{Fault{Kind: Body, Body: `{"success":true,"data":{"id":12345}}`}, 200, "application/json", true, "", `"id":12345`},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Kind.String(), func(t *testing.T) {
			s := newServer(t, Options{})
			s.StartSession("app", "m", Session{LiveParticipants: 4})
			s.SetFault("app", "m", tt.fault)
			for _, path := range []string{activePath("app", "m"), sessionsPath("app", "?associated_id=m")} {
				got := get(t, s, path, "")
				if got.Status != tt.status || got.ContentType != tt.contentType || got.RetryAfter != tt.retryAfter ||
					json.Valid([]byte(got.Body)) != tt.validJSON || !strings.Contains(got.Body, tt.inBody) {
					t.Errorf("%s: got %+v", path, got)
				}
			}
			if c := s.Counts(); c.Faulted != 2 || c.Rejected != 0 {
				t.Errorf("counts %+v, want 2 faulted", c)
			}
		})
	}
}

func TestFaultScopes(t *testing.T) {
	s := newServer(t, Options{})
	status := func(app, meeting string) int {
		t.Helper()
		return get(t, s, activePath(app, meeting), "").Status
	}
	s.SetFault("", "ignored", Fault{Kind: BadGatewayHTML}) // every request
	s.SetFault("app", "", Fault{Kind: ServerError})        // every request of app
	s.SetFault("app", "m", Fault{Kind: RateLimited})       // one meeting
	if got := []int{status("app", "m"), status("app", "n"), status("other", "m")}; got[0] != 429 || got[1] != 500 || got[2] != 502 {
		t.Errorf("statuses = %v, want the narrowest fault: [429 500 502]", got)
	}
	if got := get(t, s, sessionsPath("app", ""), "").Status; got != 500 {
		t.Errorf("sessions of app without associated_id: status %d, want 500", got)
	}
	s.ClearFault("app", "m")
	if got := status("app", "m"); got != 500 {
		t.Errorf("after clearing the meeting's fault: status %d, want 500", got)
	}
	s.ClearFault("app", "")
	s.ClearFault("", "whatever")
	if got := status("app", "m"); got != 404 {
		t.Errorf("after clearing every fault: status %d, want 404", got)
	}
}

func TestFaultTimes(t *testing.T) {
	s := newServer(t, Options{})
	s.SetFault("app", "m", Fault{Kind: Unauthorized, Times: 2})
	var got []int
	for range 4 {
		got = append(got, get(t, s, activePath("app", "m"), "").Status)
	}
	if diff := cmp.Diff([]int{401, 401, 404, 404}, got); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	if c := s.Counts(); c.Faulted != 2 {
		t.Errorf("faulted = %d, want 2", c.Faulted)
	}
}

func TestFaultKindString(t *testing.T) {
	if got := Hang.String(); got != "Hang" {
		t.Errorf("Hang.String() = %q", got)
	}
	if got := FaultKind(99).String(); got != "FaultKind(99)" {
		t.Errorf("FaultKind(99).String() = %q", got)
	}
}
