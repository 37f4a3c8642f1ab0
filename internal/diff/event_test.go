package diff

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var idPattern = regexp.MustCompile(`^evt_[a-z2-7]{26}$`)

func TestEventIDsAreDeterministic(t *testing.T) {
	prev, _ := applyChecked(t, Snapshot{}, sessionObs(0, liveSession("s1", 10, 0)), testRules)
	obs := sessionObs(30, liveSession("s2", 120, 700))
	_, a := applyChecked(t, prev, obs, testRules)
	_, b := applyChecked(t, prev, sessionObs(30, liveSession("s2", 120, 700)), testRules)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("the same transition twice gave different events (-first +second):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, e := range a {
		if !idPattern.MatchString(e.Data.ID) {
			t.Errorf("id %q does not match %s", e.Data.ID, idPattern)
		}
		if seen[e.Data.ID] {
			t.Errorf("id %q used twice in one step", e.Data.ID)
		}
		seen[e.Data.ID] = true
	}
}

func TestEventIDDependsOnEveryField(t *testing.T) {
	base := func() (Meeting, uint64, string, string, time.Time, thresholdKey) {
		return testMeeting, 7, TypeParticipantsThreshold, "s1", t0, thresholdAt(50)
	}
	m, seq, typ, sid, when, th := base()
	ref := eventID(m, seq, typ, sid, when, th)
	variants := map[string]func(){
		"account":   func() { m.AccountID = "acc-2" },
		"app":       func() { m.AppID = "app-2" },
		"meeting":   func() { m.MeetingID = "mtg-2" },
		"watch":     func() { m.Watch = "other" },
		"sequence":  func() { seq = 8 },
		"type":      func() { typ = TypeMinutesThreshold },
		"session":   func() { sid = "s2" },
		"time":      func() { when = when.Add(time.Nanosecond) },
		"threshold": func() { th = thresholdAt(100) },
		"none":      func() { th = noThreshold },
		"field boundary": func() {
			m.AccountID, m.AppID = testMeeting.AccountID+testMeeting.AppID[:1], testMeeting.AppID[1:]
		},
	}
	for name, change := range variants {
		m, seq, typ, sid, when, th = base()
		change()
		if got := eventID(m, seq, typ, sid, when, th); got == ref {
			t.Errorf("changing %s kept id %s", name, got)
		}
	}
	m, seq, typ, sid, when, th = base()
	if got := eventID(m, seq, typ, sid, when.In(time.FixedZone("x", 3600)), th); got != ref {
		t.Errorf("the same instant in another zone gave %s, want %s", got, ref)
	}
}

func TestSequenceContinuity(t *testing.T) {
	prev := Snapshot{Sequence: 41}
	obs := []Observation{
		failureObs(0, FailureServer, 500),
		failureObs(1, FailureServer, 500),
		failureObs(2, FailureServer, 500),          // failing
		sessionObs(3, liveSession("s1", 120, 700)), // recovered (baseline)
		sessionObs(4, liveSession("s1", 0, 700)),   // down 100, down 50
		sessionObs(5, liveSession("s2", 60, 1300)), // ended, started, up, 2 minutes
		noSessionObs(6),                            // ended
		noSessionObs(7),                            // nothing
		failureObs(8, FailureAuth, 401),            // failing
		Observation{Kind: ObservedSession, At: at(9), Session: liveSession("s3", 1, 0)}, // recovered, started
	}
	next, steps := play(t, testRules, prev, obs...)
	want := prev.Sequence
	ids := map[string]bool{}
	for i, evs := range steps {
		for _, e := range evs {
			want++
			if e.Data.Sequence != want {
				t.Errorf("step %d: %s has sequence %d, want %d", i, e.Type, e.Data.Sequence, want)
			}
			if ids[e.Data.ID] {
				t.Errorf("step %d: id %s repeated", i, e.Data.ID)
			}
			ids[e.Data.ID] = true
		}
	}
	if want != 41+13 {
		t.Errorf("%d events, want 13", want-41)
	}
	if next.Sequence != want {
		t.Errorf("snapshot sequence %d, want %d", next.Sequence, want)
	}
}

// TestEventTimestamp: an event's timestamp is its observation's time in
// UTC and whole seconds, truncated (never rounded up into a second that
// had not begun), and encodes without a fraction.
func TestEventTimestamp(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		nanos int
		want  string
	}{
		{0, "2026-11-25T20:00:30Z"},
		{1, "2026-11-25T20:00:30Z"},
		{123456780, "2026-11-25T20:00:30Z"},
		{999999999, "2026-11-25T20:00:30Z"},
		{1000000000, "2026-11-25T20:00:31Z"},
	}
	for _, tt := range tests {
		prev, _ := applyChecked(t, Snapshot{}, noSessionObs(0), testRules)
		when := at(30).Add(time.Duration(tt.nanos)).In(cet)
		_, evs := applyChecked(t, prev, Observation{Kind: ObservedSession, At: when, Session: liveSession("s1", 1, 0)}, testRules)
		ts := evs[0].Timestamp
		if ts.Location() != time.UTC || ts.Nanosecond() != 0 || ts.After(when) || when.Sub(ts) >= time.Second {
			t.Errorf("observed at %v: timestamp %v, want the same second in UTC", when, ts)
		}
		b, err := json.Marshal(evs[0])
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Timestamp != tt.want {
			t.Errorf("observed at %v: JSON timestamp %q, want %q", when, got.Timestamp, tt.want)
		}
	}
}

// TestGoldenEvents pins the JSON of one event of each type, the shape every
// consumer sees. Refresh with go test ./internal/diff -run Golden -update.
func TestGoldenEvents(t *testing.T) {
	s1 := liveSession("b0b0e1a5-0000-4000-8000-000000000001", 40, 590)
	s1.Meta = json.RawMessage(`{"recording":false}`)
	grown := *s1
	grown.LiveParticipants, grown.MaxConcurrentParticipants, grown.MinutesConsumed = 55, 55, 612.5
	final := grown
	final.Status, final.LiveParticipants, final.MinutesConsumed = StatusEnded, 0, 640
	final.EndedAt = at(3600).Format(time.RFC3339)

	rules := Rules{ParticipantThresholds: []int{50}, Hysteresis: 5, MinutesThresholds: []float64{600}, FailingAfter: 2}
	_, steps := play(t, rules, Snapshot{},
		noSessionObs(0),
		sessionObs(60, s1),      // session.started
		sessionObs(120, &grown), // participants up, minutes
		failureObs(180, FailureServer, 503),
		failureObs(240, FailureServer, 503), // watch.failing
		Observation{Kind: ObservedNoSession, At: at(3700), Final: &final}, // watch.recovered, session.ended
	)
	byType := map[string]Event{}
	for _, evs := range steps {
		for _, e := range evs {
			if _, ok := byType[e.Type]; !ok {
				byType[e.Type] = e
			}
		}
	}
	for _, typ := range SessionEventTypes {
		t.Run(typ, func(t *testing.T) {
			e, ok := byType[typ]
			if !ok {
				t.Fatalf("the scenario emitted no %s", typ)
			}
			checkGolden(t, typ, e)
		})
	}
}

// checkGolden compares the JSON of e with testdata/events/name.json, or
// writes it there with -update.
func checkGolden(t *testing.T, name string, e Event) {
	t.Helper()
	got, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "events", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
