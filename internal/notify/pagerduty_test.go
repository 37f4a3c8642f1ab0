package notify

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

const testRoutingKey = "R0UT1NGK3Ys3cr3t0000000000000000"

func newTestPagerDuty(t *testing.T, url string) *PagerDuty {
	t.Helper()
	p, err := NewPagerDuty(PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pdRequests renders the PagerDuty events an event asks for, as a JSON
// array.
func pdRequests(t *testing.T, p *PagerDuty, body []byte) []byte {
	t.Helper()
	ev, err := decodeEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	evs := []pdEvent{}
	for _, a := range pagerDutyActions(ev) {
		evs = append(evs, p.event(ev, a))
	}
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPagerDutyGolden(t *testing.T) {
	p := newTestPagerDuty(t, "")
	goldenPayloads(t, "pagerduty", func(body []byte) ([]byte, error) { return pdRequests(t, p, body), nil })
}

func TestPagerDutyLimits(t *testing.T) {
	p, err := NewPagerDuty(PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey,
		CustomDetails: map[string]string{"runbook": oversizedTitle}, Component: oversizedTitle})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range SampleEventTypes() {
		for _, title := range []string{oversizedTitle, escapeHeavyTitle} {
			ev, err := decodeEvent(hostile(t, typ, title))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range pagerDutyActions(ev) {
				if n := countRunes(a.key); n > pdDedupKeyMax {
					t.Errorf("%s: dedup_key of %d characters", typ, n)
				}
				e := p.event(ev, a)
				b, _ := json.Marshal(e)
				if len(b) > 512<<10 {
					t.Errorf("%s: event of %d bytes", typ, len(b))
				}
				if e.Payload == nil {
					continue
				}
				if n := countRunes(e.Payload.Summary); n > pdSummaryMax {
					t.Errorf("%s: summary of %d characters", typ, n)
				}
				for _, s := range []string{e.Payload.Source, e.Payload.Component, e.Payload.Group, e.Payload.Class} {
					if countRunes(s) > pdFieldMax {
						t.Errorf("%s: field of %d characters", typ, countRunes(s))
					}
				}
				for k, v := range e.Payload.CustomDetails {
					if countRunes(v) > pdFieldMax {
						t.Errorf("%s: custom detail %s of %d characters", typ, k, countRunes(v))
					}
				}
			}
		}
	}
}

func TestPagerDutyActions(t *testing.T) {
	keys := func(typ string, edit func(map[string]any)) []pdAction {
		var ev map[string]any
		if err := json.Unmarshal(sample(t, typ), &ev); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(ev["data"].(map[string]any))
		}
		e, err := decodeEvent(mustJSON(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		return pagerDutyActions(e)
	}
	const (
		meeting = "town-hall/bbb5b0fa-0000-4000-8000-000000000001"
		session = "1fb07d4e-5a1c-4b2e-9d55-3e1e6a1c0c11"
	)
	idle := "rtkwatchd/idle/" + meeting + "/" + session
	down := func(d map[string]any) { d["direction"] = "down" }
	tests := []struct {
		name string
		got  []pdAction
		want []pdAction
	}{
		{"watch.failing", keys("watch.failing", nil), []pdAction{{pdTrigger, "rtkwatchd/watch-failing/" + meeting}}},
		{"watch.failing reminder", keys("watch.failing", func(d map[string]any) { d["reminder"] = true }),
			[]pdAction{{pdTrigger, "rtkwatchd/watch-failing/" + meeting}}},
		{"watch.recovered", keys("watch.recovered", nil), []pdAction{{pdResolve, "rtkwatchd/watch-failing/" + meeting}}},
		{"participants up", keys("participants.threshold_crossed", nil),
			[]pdAction{{pdResolve, idle}, {pdTrigger, "rtkwatchd/participants/" + meeting + "/100"}}},
		{"participants down", keys("participants.threshold_crossed", down),
			[]pdAction{{pdResolve, "rtkwatchd/participants/" + meeting + "/100"}}},
		{"participants without threshold", keys("participants.threshold_crossed", func(d map[string]any) { delete(d, "threshold") }), nil},
		{"session.idle", keys("session.idle", nil), []pdAction{{pdTrigger, idle}}},
		{"session.idle reminder", keys("session.idle", func(d map[string]any) { d["reminder"] = true }), []pdAction{{pdTrigger, idle}}},
		{"session.ended above thresholds", keys("session.ended", nil), // the sample's participant_thresholds_up: [50, 100]
			[]pdAction{{pdResolve, idle}, {pdResolve, "rtkwatchd/participants/" + meeting + "/50"},
				{pdResolve, "rtkwatchd/participants/" + meeting + "/100"}}},
		{"session.ended above one threshold", keys("session.ended", func(d map[string]any) { d["participant_thresholds_up"] = []any{75} }),
			[]pdAction{{pdResolve, idle}, {pdResolve, "rtkwatchd/participants/" + meeting + "/75"}}},
		{"session.ended above none", keys("session.ended", func(d map[string]any) { delete(d, "participant_thresholds_up") }),
			[]pdAction{{pdResolve, idle}}},
		{"recording.errored", keys("recording.errored", nil),
			[]pdAction{{pdTrigger, "rtkwatchd/recording-errored/" + meeting + "/rec_5b0fa000-0000-4000-8000-000000000007"}}},
		{"livestream.errored", keys("livestream.errored", nil),
			[]pdAction{{pdTrigger, "rtkwatchd/livestream-errored/" + meeting + "/ls_5b0fa000-0000-4000-8000-000000000009"}}},
		{"usage", keys("usage.threshold_crossed", nil),
			[]pdAction{{pdTrigger, "rtkwatchd/usage/3f1a0000-0000-4000-8000-00000000a991/day/2026-11-25/10000"}}},
		{"notifier.failing", keys("notifier.failing", nil), []pdAction{{pdTrigger, "rtkwatchd/notifier-failing/slack-video"}}},
		{"notifier.recovered", keys("notifier.recovered", nil), []pdAction{{pdResolve, "rtkwatchd/notifier-failing/slack-video"}}},
		{"all-live failures", keys("watch.failing", func(d map[string]any) { d["meeting_id"] = "*" }),
			[]pdAction{{pdTrigger, "rtkwatchd/watch-failing/town-hall/%2A"}}},
	}
	for _, typ := range []string{"session.started", "minutes.threshold_crossed", "session.duration_crossed",
		"recording.started", "recording.uploaded", "livestream.started", "livestream.stopped"} {
		tests = append(tests, struct {
			name string
			got  []pdAction
			want []pdAction
		}{typ + " is not sent", keys(typ, nil), nil})
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got, cmp.AllowUnexported(pdAction{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDedupKey(t *testing.T) {
	prefix := "rtkwatchd/c/"
	exact := strings.Repeat("m", pdDedupKeyMax-len(prefix))
	if got := dedupKey("c", exact); got != prefix+exact {
		t.Errorf("a key of exactly %d characters was changed to %q", pdDedupKeyMax, got)
	}
	long := dedupKey("c", exact+"m")
	if !strings.HasPrefix(long, prefix+"sha256-") || len(long) > pdDedupKeyMax {
		t.Errorf("a key of %d characters became %q", pdDedupKeyMax+1, long)
	}
	if long != dedupKey("c", exact+"m") || long == dedupKey("c", exact+"n") {
		t.Error("hashed keys are not a function of their parts")
	}
	if dedupKey("c", "a/b", "c") == dedupKey("c", "a", "b/c") {
		t.Error("parts with slashes collide")
	}
}

// fakePagerDuty keeps incidents by dedup_key, as PagerDuty does: a trigger
// opens one (or adds to the open one), a resolve closes it.
type fakePagerDuty struct {
	rc       *receiver // holds the request bodies
	mu       sync.Mutex
	open     map[string]int // dedup_key → triggers
	resolved []string
	events   []pdEvent
}

func (f *fakePagerDuty) serve(n int, w http.ResponseWriter, _ *http.Request) {
	var e pdEvent
	if err := json.Unmarshal(f.rc.requests()[n-1].Body, &e); err != nil || e.RoutingKey != testRoutingKey || e.DedupKey == "" {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"status":"invalid event","message":"Event object is invalid"}`))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	switch e.EventAction {
	case pdTrigger:
		f.open[e.DedupKey]++
	case pdResolve:
		if f.open[e.DedupKey] > 0 {
			f.resolved = append(f.resolved, e.DedupKey)
		}
		delete(f.open, e.DedupKey)
	}
	w.WriteHeader(202)
	_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"` + e.DedupKey + `"}`))
}

// TestPagerDutyIncidentsResolveThemselves plays conditions through a fake
// PagerDuty: each one opens an incident and its end resolves that same
// incident.
func TestPagerDutyIncidentsResolveThemselves(t *testing.T) {
	f := &fakePagerDuty{open: map[string]int{}}
	f.rc = newReceiver(t, f.serve)
	p := newTestPagerDuty(t, f.rc.srv.URL)
	var down map[string]any
	if err := json.Unmarshal(sample(t, "participants.threshold_crossed"), &down); err != nil {
		t.Fatal(err)
	}
	down["data"].(map[string]any)["direction"] = "down"
	var up50 map[string]any
	if err := json.Unmarshal(sample(t, "participants.threshold_crossed"), &up50); err != nil {
		t.Fatal(err)
	}
	d := up50["data"].(map[string]any)
	d["threshold"], d["live_participants"], d["previous_live_participants"] = 50, 57, 31
	// The session crosses 100 and falls back below it, then crosses 50 and
	// 100 again, sits idle, and ends above both (the sample session.ended's
	// participant_thresholds_up): its end resolves the idle incident and
	// the two participants incidents, which no down crossing closed.
	play := [][]byte{
		sample(t, "participants.threshold_crossed"), mustJSON(t, down),
		sample(t, "watch.failing"), sample(t, "watch.recovered"),
		mustJSON(t, up50), sample(t, "participants.threshold_crossed"),
		sample(t, "session.idle"), sample(t, "session.ended"),
		sample(t, "notifier.failing"), sample(t, "notifier.recovered"),
		sample(t, "session.started"), // sends nothing
	}
	for i, body := range play {
		if res := p.Notify(t.Context(), Message{EventID: "evt", Body: body, Attempt: 1}); res.Err != nil {
			t.Fatalf("event %d: %v", i, res.Err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.open) != 0 {
		t.Errorf("incidents left open: %v", f.open)
	}
	want := []string{
		"rtkwatchd/participants/town-hall/bbb5b0fa-0000-4000-8000-000000000001/100",
		"rtkwatchd/watch-failing/town-hall/bbb5b0fa-0000-4000-8000-000000000001",
		"rtkwatchd/idle/town-hall/bbb5b0fa-0000-4000-8000-000000000001/1fb07d4e-5a1c-4b2e-9d55-3e1e6a1c0c11",
		"rtkwatchd/participants/town-hall/bbb5b0fa-0000-4000-8000-000000000001/50",
		"rtkwatchd/participants/town-hall/bbb5b0fa-0000-4000-8000-000000000001/100",
		"rtkwatchd/notifier-failing/slack-video",
	}
	if diff := cmp.Diff(want, f.resolved); diff != "" {
		t.Errorf("resolved incidents (-want +got):\n%s", diff)
	}
	// Two events for each crossing up (the idle resolve, the trigger),
	// three for session.ended (idle, 50, 100), one for each other but
	// session.started.
	if got := len(f.events); got != 15 {
		t.Errorf("PagerDuty got %d events, want 15", got)
	}
}

func TestPagerDutyAnswers(t *testing.T) {
	pdErr := `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters): ` + testRoutingKey + `"]}`
	cases := []answerCase{
		{name: "202 accepted", respond: reply(202, `{"status":"success","message":"Event processed","dedup_key":"k"}`), want: Result{StatusCode: 202}},
		{name: "200", respond: reply(200, ""), want: Result{StatusCode: 200}},
		{name: "299", respond: reply(299, ""), want: Result{StatusCode: 299}},
		{name: "300", respond: reply(300, ""), want: Result{StatusCode: 300},
			wantErr: "post http://HOST: status 300 Multiple Choices"},
		{name: "400 invalid event", respond: reply(400, pdErr), want: Result{StatusCode: 400},
			wantErr: `post http://HOST: status 400 Bad Request: {"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters): …"]}`},
		{name: "404", respond: reply(404, ""), want: Result{StatusCode: 404},
			wantErr: "post http://HOST: status 404 Not Found"},
		{name: "408", respond: reply(408, ""), want: Result{StatusCode: 408, Retry: true},
			wantErr: "post http://HOST: status 408 Request Timeout"},
		{name: "429", respond: reply(429, ""), want: Result{StatusCode: 429, Retry: true},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "429 retry-after", respond: reply(429, "", "Retry-After", "30"), want: Result{StatusCode: 429, Retry: true, RetryAfter: 30 * time.Second},
			wantErr: "post http://HOST: status 429 Too Many Requests"},
		{name: "499", respond: reply(499, ""), want: Result{StatusCode: 499},
			wantErr: "post http://HOST: status 499"},
		{name: "500", respond: reply(500, ""), want: Result{StatusCode: 500, Retry: true},
			wantErr: "post http://HOST: status 500 Internal Server Error"},
		{name: "503", respond: reply(503, ""), want: Result{StatusCode: 503, Retry: true},
			wantErr: "post http://HOST: status 503 Service Unavailable"},
	}
	build := func(t *testing.T, url string) breakable {
		return neverBroken{newTestPagerDuty(t, url)}
	}
	body := sample(t, "watch.failing")
	checkAnswers(t, cases, testRoutingKey, body, build)
}

// neverBroken adapts a notifier that cannot turn broken to checkAnswers.
type neverBroken struct{ Notifier }

func (neverBroken) Broken() error { return nil }

func TestPagerDutySendsNothingForUnmappedEvents(t *testing.T) {
	rc := newReceiver(t, nil)
	p := newTestPagerDuty(t, rc.srv.URL)
	res := p.Notify(t.Context(), Message{EventID: "evt", Body: sample(t, "session.started"), Attempt: 1})
	if diff := cmp.Diff(Result{}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if rc.count() != 0 {
		t.Errorf("PagerDuty got %d requests, want none", rc.count())
	}
	if res := p.Notify(t.Context(), Message{EventID: "evt", Body: []byte(`{"type":`)}); res.Err == nil || res.Retry {
		t.Errorf("an undecodable event gave %+v, want a dead letter", res)
	}
}

func TestNewPagerDutyErrors(t *testing.T) {
	tests := []struct {
		opts PagerDutyOptions
		want string
	}{
		{PagerDutyOptions{Name: "oncall"}, "pagerduty oncall: routing key is empty"},
		{PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey + "\n"}, "pagerduty oncall: routing key contains white space or control characters"},
		{PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey, Severity: "major"}, `pagerduty oncall: severity "major": must be one of critical, error, warning, info`},
		{PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey, URL: "events.pagerduty.com/v2/enqueue"}, "pagerduty oncall: url scheme must be http or https"},
	}
	for _, tt := range tests {
		_, err := NewPagerDuty(tt.opts)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewPagerDuty(%+v) error %v, want %q", tt.opts.Severity, err, tt.want)
		}
	}
	p, err := NewPagerDuty(PagerDutyOptions{Name: "oncall", RoutingKey: testRoutingKey})
	if err != nil {
		t.Fatal(err)
	}
	if p.url.full != PagerDutyEventsURL || p.opts.Severity != "warning" || p.opts.Source != "rtkwatchd" {
		t.Errorf("defaults: url %q, severity %q, source %q", p.url.full, p.opts.Severity, p.opts.Source)
	}
}

func TestPagerDutyActionsExported(t *testing.T) {
	p := newTestPagerDuty(t, "")
	tests := []struct {
		typ  string
		want []string
	}{
		{"session.started", nil},
		{"watch.failing", []string{"trigger"}},
		{"watch.recovered", []string{"resolve"}},
		{"participants.threshold_crossed", []string{"resolve", "trigger"}}, // the idle incident, then the threshold's
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, p.Actions(sample(t, tt.typ))); diff != "" {
			t.Errorf("Actions(%s) (-want +got):\n%s", tt.typ, diff)
		}
	}
	if got := p.Actions([]byte(`{"type":`)); got != nil {
		t.Errorf("Actions of an undecodable event = %q, want none", got)
	}
}

// TestPagerDutySessionEndResolvesThreshold plays a session through
// diff.Apply into a fake PagerDuty: up through 100 triggers, and the
// session's end, with no down crossing, resolves the same dedup_key. The
// same play with a down crossing first resolves it there, once.
func TestPagerDutySessionEndResolvesThreshold(t *testing.T) {
	for _, tt := range []struct {
		name string
		last int // live_participants at the poll before the end
	}{{"ends above", 98}, {"goes down, then ends", 97}} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakePagerDuty{open: map[string]int{}}
			f.rc = newReceiver(t, f.serve)
			p := newTestPagerDuty(t, f.rc.srv.URL)
			rules := diff.Rules{ParticipantThresholds: []int{100}, Hysteresis: 2, FailingAfter: 1}
			m := diff.Meeting{Watch: "town-hall", AccountID: "acc", AppID: "app", MeetingID: "m1"}
			t0 := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
			live := func(n int) *diff.Session {
				return &diff.Session{ID: "s1", Status: diff.StatusLive, LiveParticipants: n, StartedAt: t0.Format(time.RFC3339)}
			}
			obs := []diff.Observation{
				{Kind: diff.ObservedNoSession, At: t0},
				{Kind: diff.ObservedSession, At: t0.Add(30 * time.Second), Session: live(104)},
				{Kind: diff.ObservedSession, At: t0.Add(60 * time.Second), Session: live(tt.last)},
				{Kind: diff.ObservedNoSession, At: t0.Add(90 * time.Second)},
			}
			var snap diff.Snapshot
			for _, o := range obs {
				var evs []diff.Event
				snap, evs = diff.Apply(m, snap, o, rules)
				for _, ev := range evs {
					if res := p.Notify(t.Context(), Message{EventID: ev.Data.ID, Body: mustJSON(t, ev), Attempt: 1}); res.Err != nil {
						t.Fatalf("%s: %v", ev.Type, res.Err)
					}
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			key := "rtkwatchd/participants/town-hall/m1/100"
			if len(f.open) != 0 || cmp.Diff([]string{key}, f.resolved) != "" {
				t.Errorf("incidents open %v, resolved %q; want %s resolved once and none open", f.open, f.resolved, key)
			}
		})
	}
}
