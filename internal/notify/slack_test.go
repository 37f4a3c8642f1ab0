package notify

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

func ptr[T any](v T) *T { return &v }

// testEvents returns one realistic event of every type, keyed by type.
func testEvents() map[string]diff.Event {
	at := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	base := diff.EventData{
		Watch: "town-hall", AccountID: "023e105f4ecef8ad9ca31a8372d0c353", AppID: "3f1a0000-app",
		MeetingID: "bbb5b0fa-0000-4000-8000-000000000001", MeetingDisplayName: "Town Hall <Q4> & friends",
		SessionID: "1fb07d4e-5a1c-4b2e-9d55-3e1e6a1c0c11",
	}
	live := &diff.Session{
		ID: base.SessionID, Status: diff.StatusLive, LiveParticipants: 57, MaxConcurrentParticipants: 61,
		MinutesConsumed: 612.25, StartedAt: "2026-11-25T19:58:03.120Z",
	}
	ended := *live
	ended.Status, ended.LiveParticipants, ended.EndedAt = diff.StatusEnded, 0, "2026-11-25T20:59:41Z"
	ended.MinutesConsumed = 1830.5
	mk := func(typ string, seq uint64, edit func(*diff.EventData)) diff.Event {
		d := base
		d.ID = "evt_" + strings.ReplaceAll(typ, ".", "_")
		d.Sequence = seq
		edit(&d)
		return diff.Event{Type: typ, Timestamp: at, Data: d}
	}
	return map[string]diff.Event{
		diff.TypeSessionStarted: mk(diff.TypeSessionStarted, 1, func(d *diff.EventData) {
			s := *live
			s.LiveParticipants = 3
			d.Current = &s
		}),
		diff.TypeSessionEnded: mk(diff.TypeSessionEnded, 7, func(d *diff.EventData) {
			d.Previous, d.Final, d.DurationSeconds = live, &ended, ptr(int64(3698))
		}),
		diff.TypeParticipantsThreshold: mk(diff.TypeParticipantsThreshold, 3, func(d *diff.EventData) {
			d.Previous, d.Current = live, live
			d.Threshold, d.Direction = ptr(50.0), diff.DirectionUp
			d.LiveParticipants, d.PreviousLiveParticipants = ptr(57), ptr(44)
		}),
		diff.TypeMinutesThreshold: mk(diff.TypeMinutesThreshold, 4, func(d *diff.EventData) {
			d.Previous, d.Current = live, live
			d.Threshold, d.MinutesConsumed = ptr(600.0), ptr(612.25)
		}),
		diff.TypeWatchFailing: mk(diff.TypeWatchFailing, 5, func(d *diff.EventData) {
			d.SessionID = ""
			d.Error = "fetch active session bbb5b0fa-0000-4000-8000-000000000001: status 503 Service Unavailable"
			d.StatusCode, d.ConsecutiveFailures = ptr(503), ptr(3)
		}),
		diff.TypeWatchRecovered: mk(diff.TypeWatchRecovered, 6, func(d *diff.EventData) {
			d.SessionID = ""
			d.FailedForSeconds = ptr(int64(754))
		}),
	}
}

func eventBody(t testing.TB, ev diff.Event) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSlackGolden(t *testing.T) {
	events := testEvents()
	down := events[diff.TypeParticipantsThreshold]
	down.Data.Direction, down.Data.LiveParticipants, down.Data.PreviousLiveParticipants = diff.DirectionDown, ptr(41), ptr(47)
	unknown := events[diff.TypeSessionStarted]
	unknown.Type = "session.renamed"
	cases := map[string]diff.Event{
		"participants.threshold_crossed.down": down,
		"unknown-type":                        unknown,
	}
	for _, typ := range diff.SessionEventTypes {
		cases[typ] = events[typ]
	}
	bodies := map[string][]byte{}
	for name, ev := range cases {
		bodies[name] = eventBody(t, ev)
	}
	// The types diff does not produce yet, and the hostile titles, from the
	// samples.
	for name, body := range goldenCases(t) {
		if _, ok := bodies[name]; !ok {
			bodies[name] = body
		}
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			payload, err := renderSlack(body, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, payload, "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden(t, "slack/"+name+".json", out.Bytes())
		})
	}
}

// TestSlackLimits renders every event type with hostile titles, with and
// without a template, and checks each text against Slack's limit for it.
func TestSlackLimits(t *testing.T) {
	tmpl, err := NewTemplate("slack-video", TemplateOptions{Title: "{{.Meeting}} {{.Meeting}}", Text: "{{.Text}} {{.Text}}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range SampleEventTypes() {
		for _, title := range []string{oversizedTitle, escapeHeavyTitle} {
			for _, tm := range []*Template{nil, tmpl} {
				payload, err := renderSlack(hostile(t, typ, title), tm)
				if err != nil {
					t.Fatal(err)
				}
				var msg slackMessage
				if err := json.Unmarshal(payload, &msg); err != nil {
					t.Fatal(err)
				}
				checkSlackLimits(t, typ, msg)
			}
		}
	}
}

func checkSlackLimits(t *testing.T, typ string, msg slackMessage) {
	t.Helper()
	over := func(what, text string, max int) {
		if n := countRunes(text); n > max {
			t.Errorf("%s: %s has %d characters, over %d", typ, what, n, max)
		}
	}
	over("text", msg.Text, slackSectionMax)
	if len(msg.Blocks) > 50 {
		t.Errorf("%s: %d blocks", typ, len(msg.Blocks))
	}
	for i, b := range msg.Blocks {
		switch b.Type {
		case "header":
			over("header", b.Text.Text, slackHeaderMax)
		case "section":
			over("section", b.Text.Text, slackSectionMax)
			if len(b.Fields) > slackFieldsMax {
				t.Errorf("%s: block %d has %d fields", typ, i, len(b.Fields))
			}
			for _, f := range b.Fields {
				over("field", f.Text, slackFieldMax)
			}
		case "context":
			for _, e := range b.Elements {
				over("context", e.Text, slackSectionMax)
			}
		}
	}
}

func TestSlackSendsRenderedMessage(t *testing.T) {
	rc := newReceiver(t, status(http.StatusOK, "ok"))
	s, err := NewSlack(SlackOptions{Name: "slack-video", URL: rc.srv.URL + "/services/T000/B000/XXXX", UserAgent: "rtkwatchd/1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	body := eventBody(t, testEvents()[diff.TypeSessionEnded])
	res := s.Notify(t.Context(), Message{EventID: "evt_1", EventType: diff.TypeSessionEnded, Body: body, Attempt: 1})
	if res.Err != nil {
		t.Fatalf("Notify: %v", res.Err)
	}
	want, err := renderSlack(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	if diff := cmp.Diff(string(want), string(reqs[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := reqs[0].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("content-type = %q", got)
	}
	if got := reqs[0].Header.Get("User-Agent"); got != "rtkwatchd/1.2.3" {
		t.Errorf("user-agent = %q", got)
	}
}

func TestSlackResponses(t *testing.T) {
	tests := []struct {
		name       string
		respond    func(int, http.ResponseWriter, *http.Request)
		want       Result // Err compared separately
		wantErr    string
		wantBroken bool // later attempts fail without a request
	}{
		{name: "ok", respond: status(200, "ok"), want: Result{StatusCode: 200}},
		{name: "429 retry-after", respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
		}, want: Result{StatusCode: 429, Retry: true, RetryAfter: 30 * time.Second},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "429 retry-after fraction", respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "2.5")
			w.WriteHeader(429)
		}, want: Result{StatusCode: 429, Retry: true, RetryAfter: 2500 * time.Millisecond},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "400 invalid_payload", respond: status(400, "invalid_payload"), want: Result{StatusCode: 400},
			wantErr: "post http://HOST: status 400 Bad Request: invalid_payload"},
		{name: "500", respond: status(500, "rollup_error"), want: Result{StatusCode: 500, Retry: true},
			wantErr: "post http://HOST: status 500 Internal Server Error: rollup_error"},
		{name: "403 action_prohibited", respond: status(403, "action_prohibited"), want: Result{StatusCode: 403, Broken: true},
			wantErr: "post http://HOST: status 403 Forbidden: action_prohibited", wantBroken: true},
		{name: "404 channel_not_found", respond: status(404, "channel_not_found"), want: Result{StatusCode: 404, Broken: true},
			wantErr: "post http://HOST: status 404 Not Found: channel_not_found", wantBroken: true},
		{name: "404 no_service", respond: status(404, "no_service"), want: Result{StatusCode: 404, Broken: true},
			wantErr: "post http://HOST: status 404 Not Found: no_service", wantBroken: true},
		{name: "410 channel_is_archived", respond: status(410, "channel_is_archived"), want: Result{StatusCode: 410, Broken: true},
			wantErr: "post http://HOST: status 410 Gone: channel_is_archived", wantBroken: true},
	}
	body := eventBody(t, testEvents()[diff.TypeSessionStarted])
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.respond)
			s, err := NewSlack(SlackOptions{Name: "slack-video", URL: rc.srv.URL + "/services/T0/B0/s3cr3t",
				Limiter: rate.NewLimiter(rate.Inf, 1)})
			if err != nil {
				t.Fatal(err)
			}
			host := strings.TrimPrefix(rc.srv.URL, "http://")
			got := s.Notify(t.Context(), Message{EventID: "evt_1", Body: body, Attempt: 1})
			gotErr := ""
			if got.Err != nil {
				gotErr = strings.ReplaceAll(got.Err.Error(), host, "HOST")
			}
			got.Err = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}

			// A second attempt: a broken notifier fails at once, without a
			// request; any other still sends.
			again := s.Notify(t.Context(), Message{EventID: "evt_2", Body: body, Attempt: 1})
			wantRequests := 2
			if tt.wantBroken {
				wantRequests = 1
				if again.Err == nil || again.Retry || !again.Broken {
					t.Errorf("attempt after breakage = %+v, want a broken, non-retryable error", again)
				}
				if !strings.Contains(again.Err.Error(), "fix its url and reload") || strings.Contains(again.Err.Error(), "s3cr3t") {
					t.Errorf("broken error %q", again.Err)
				}
				if s.Broken() == nil {
					t.Error("Broken() = nil after breakage")
				}
			}
			if got := rc.count(); got != wantRequests {
				t.Errorf("receiver got %d requests, want %d", got, wantRequests)
			}
		})
	}
}

func TestSlackUndecodableEvent(t *testing.T) {
	rc := newReceiver(t, nil)
	s, err := NewSlack(SlackOptions{Name: "slack-video", URL: rc.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Notify(t.Context(), Message{EventID: "evt_1", Body: []byte(`{"type":`)})
	if got.Err == nil || got.Retry || got.Broken {
		t.Errorf("Notify = %+v, want a non-retryable error", got)
	}
	if rc.count() != 0 {
		t.Errorf("receiver got %d requests, want 0", rc.count())
	}
}

func TestNewSlackErrorsHideURL(t *testing.T) {
	for _, raw := range []string{"", "hooks.slack.com/services/T0/B0/s3cr3t", "https:///services/T0/B0/s3cr3t", "https://h/%zzs3cr3t"} {
		_, err := NewSlack(SlackOptions{Name: "slack-video", URL: raw})
		if err == nil {
			t.Errorf("NewSlack(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "slack slack-video: url ") {
			t.Errorf("NewSlack error %q", err)
		}
	}
}

// TestSlackPacing sends five messages as fast as it can; with the default
// limiter they leave one second apart on the bubble's fake clock.
func TestSlackPacing(t *testing.T) {
	rc := newReceiver(t, status(200, "ok"))
	body := eventBody(t, testEvents()[diff.TypeSessionStarted])
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSlack(SlackOptions{Name: "slack-video", URL: rc.srv.URL, Client: bubbleClient()})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var sent []time.Duration
		for range 5 {
			if res := s.Notify(t.Context(), Message{EventID: "evt", Body: body}); res.Err != nil {
				t.Fatal(res.Err)
			}
			// The bubble's clock stands still during network I/O, so this
			// is when the request left, after the limiter's wait.
			sent = append(sent, time.Since(start))
		}
		want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
		if diff := cmp.Diff(want, sent); diff != "" {
			t.Errorf("send times (-want +got):\n%s", diff)
		}
	})
	if rc.count() != 5 {
		t.Errorf("receiver got %d requests, want 5", rc.count())
	}
}
