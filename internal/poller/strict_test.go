package poller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestValuesNeverSent tries a misbehaving endpoint as a new user might:
// after a baseline of a LIVE session with 60 participants and 1 minute,
// the API answers with a value it should never send. Each is a failed
// poll, whose message names the field and the value: no threshold
// crossing, no end, no start, the snapshot's session as it was; after
// failing_after such polls, watch.failing.
func TestValuesNeverSent(t *testing.T) {
	const started = "2026-03-02T09:00:00.000Z"
	body := func(field, value string) string {
		fields := map[string]string{
			"id": `"s-1"`, "associated_id": `"m1"`, "status": `"LIVE"`, "live_participants": "60",
			"max_concurrent_participants": "60", "minutes_consumed": "1", "started_at": `"` + started + `"`,
		}
		fields[field] = value
		var parts []string
		for _, k := range []string{"id", "associated_id", "status", "live_participants", "max_concurrent_participants", "minutes_consumed", "started_at"} {
			parts = append(parts, `"`+k+`":`+fields[k])
		}
		return `{"success":true,"data":{` + strings.Join(parts, ",") + `}}`
	}
	tests := []struct{ field, value, message string }{
		{"live_participants", "-5", "data.live_participants is -5, below 0"},
		{"live_participants", "1e308", "data.live_participants is 1e+308, above 1000000"},
		{"live_participants", `"60"`, `data.live_participants is "60", not a number`},
		{"live_participants", "true", "data.live_participants is true, not a number"},
		{"id", "12345", "data.id is 12345, not a string"},
		{"minutes_consumed", "1e308", "data.minutes_consumed is 1e+308, above 1000000000000"},
		{"minutes_consumed", "-1", "data.minutes_consumed is -1, below 0"},
		{"status", `"PAUSED"`, `data.status is "PAUSED", not LIVE or ENDED`},
		{"started_at", `"yesterday"`, `data.started_at is "yesterday", not an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.value, func(t *testing.T) {
			h := newHarness(t)
			h.fake.StartSession(testApp, "m1", rtkfake.Session{ID: "s-1", LiveParticipants: 60, MinutesConsumed: 1, StartedAt: started})
			w := testWatch("m1")
			w.Rules.ParticipantThresholds = []int{50, 100}
			w.Rules.MinutesThresholds = []float64{30}
			p := h.poller(nil)
			h.poll(p, w)
			baseline, _ := h.snapshot(w.Name, "m1")

			h.fake.SetFault(testApp, "m1", rtkfake.Fault{Kind: rtkfake.Body, Body: body(tt.field, tt.value)})
			var events []string
			for range 3 {
				h.clock.Advance(30 * time.Second)
				events = append(events, summary(h.poll(p, w).Events)...)
			}
			if diff := cmp.Diff([]string{"watch.failing m1"}, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			s, _ := h.snapshot(w.Name, "m1")
			if diff := cmp.Diff(baseline.Session, s.Session); diff != "" {
				t.Errorf("session changed (-want +got):\n%s", diff)
			}
			if want := "decode: 200 OK with an unexpected body: " + tt.message; s.LastError != want {
				t.Errorf("last error %q; want %q", s.LastError, want)
			}

			// The API mends: recovered, and nothing else happened.
			h.fake.ClearFault(testApp, "m1")
			h.clock.Advance(30 * time.Second)
			if diff := cmp.Diff([]string{"watch.recovered m1"}, summary(h.poll(p, w).Events)); diff != "" {
				t.Errorf("after the fault (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTwoLiveSessionsOfOneMeeting: when the list holds two LIVE sessions of
// one meeting, the same one is kept whatever their order: the one that
// started last, by time, and of two that started at once, the greater id.
func TestTwoLiveSessionsOfOneMeeting(t *testing.T) {
	live := func(id, started string) rtkapi.Session {
		return rtkapi.Session{ID: id, AssociatedID: "m1", Status: rtkapi.StatusLive, StartedAt: started}
	}
	tests := []struct {
		name string
		a, b rtkapi.Session
		want string
	}{
		{"later start", live("s-a", "2026-03-02T09:00:00Z"), live("s-b", "2026-03-02T09:00:01Z"), "s-b"},
		{"later start in another zone", live("s-a", "2026-03-02T10:00:00+02:00"), live("s-b", "2026-03-02T09:00:00.000Z"), "s-b"},
		{"later start, finer precision", live("s-a", "2026-03-02T09:00:00.001Z"), live("s-b", "2026-03-02T09:00:00Z"), "s-a"},
		{"same instant: the greater id", live("s-b", "2026-03-02T09:00:00Z"), live("s-a", "2026-03-02T09:00:00.000Z"), "s-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]rtkapi.Session{{tt.a, tt.b}, {tt.b, tt.a}} {
				got := latestPerMeeting(order)["m1"]
				if got == nil || got.ID != tt.want {
					t.Errorf("%s then %s: kept %+v; want %s", order[0].ID, order[1].ID, got, tt.want)
				}
			}
		})
	}
}

// TestTwoLiveSessionsInTheList: a meeting listed with its stored session
// and an older foreign one, in either order, keeps its session: no end,
// no start.
func TestTwoLiveSessionsInTheList(t *testing.T) {
	for _, foreignFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("foreign first %v", foreignFirst), func(t *testing.T) {
			h := newHarness(t)
			h.fake.StartSession(testApp, "m1", rtkfake.Session{ID: "s-new", StartedAt: "2026-03-02T09:30:00.000Z"})
			w := allLiveWatch()
			p := h.poller(nil)
			h.poll(p, w)
			entry := `{"id":"%s","associated_id":"m1","status":"LIVE","live_participants":1,"minutes_consumed":1,"started_at":"%s"}`
			entries := []string{fmt.Sprintf(entry, "s-new", "2026-03-02T09:30:00.000Z"), fmt.Sprintf(entry, "s-old", "2026-03-02T08:00:00Z")}
			if foreignFirst {
				entries[0], entries[1] = entries[1], entries[0]
			}
			h.fake.SetFault(testApp, "", rtkfake.Fault{Kind: rtkfake.Body,
				Body: `{"success":true,"data":{"sessions":[` + strings.Join(entries, ",") + `]},"paging":{"total_count":2,"start_offset":0,"end_offset":1}}`})
			h.clock.Advance(30 * time.Second)
			if evs := h.poll(p, w).Events; len(evs) != 0 {
				t.Errorf("events %v; want none", summary(evs))
			}
			if s, _ := h.snapshot(w.Name, "m1"); s.Session == nil || s.Session.ID != "s-new" {
				t.Errorf("m1 = %+v; want s-new", s.Session)
			}
		})
	}
}
