package diff

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testMeeting = Meeting{Watch: "town-hall", AccountID: "acc-1", AppID: "app-1", MeetingID: "mtg-1"}
	testRules   = Rules{
		ParticipantThresholds: []int{50, 100},
		Hysteresis:            5,
		MinutesThresholds:     []float64{600, 1200},
		FailingAfter:          3,
	}
	t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// liveSession returns a LIVE session that started at t0.
func liveSession(id string, participants int, minutes float64) *Session {
	return &Session{
		ID:                        id,
		AssociatedID:              testMeeting.MeetingID,
		MeetingDisplayName:        "Town hall " + id,
		Type:                      "meeting",
		Status:                    StatusLive,
		LiveParticipants:          participants,
		MaxConcurrentParticipants: participants,
		MinutesConsumed:           minutes,
		OrganizationID:            "org-1",
		StartedAt:                 t0.Format(time.RFC3339),
		CreatedAt:                 t0.Format(time.RFC3339),
		UpdatedAt:                 t0.Format(time.RFC3339),
	}
}

// endedSession returns an ENDED session that started at t0 and ended after
// the given number of seconds.
func endedSession(id string, endedAfter int) *Session {
	s := liveSession(id, 0, 30)
	s.Status = StatusEnded
	s.EndedAt = at(endedAfter).Format(time.RFC3339)
	return s
}

func sessionObs(n int, s *Session) Observation {
	return Observation{Kind: ObservedSession, At: at(n), Session: s}
}

func noSessionObs(n int) Observation {
	return Observation{Kind: ObservedNoSession, At: at(n)}
}

func failureObs(n int, kind FailureKind, code int) Observation {
	return Observation{Kind: ObservedFailure, At: at(n), Failure: &Failure{Kind: kind, StatusCode: code, Message: "boom"}}
}

// brief is the part of an event that scenario tables compare.
type brief struct {
	Type      string
	Seq       uint64
	SessionID string
	Threshold float64
	Direction string
}

func briefs(evs []Event) []brief {
	var out []brief
	for _, e := range evs {
		b := brief{Type: e.Type, Seq: e.Data.Sequence, SessionID: e.Data.SessionID, Direction: e.Data.Direction}
		switch {
		case e.Data.Threshold != nil:
			b.Threshold = *e.Data.Threshold
		case e.Data.ThresholdSeconds != nil:
			b.Threshold = float64(*e.Data.ThresholdSeconds)
		}
		out = append(out, b)
	}
	return out
}

// deepSnapshot is a snapshot with its pointed-to data copied, including
// the slices' spare capacity, so that a later comparison notices any write
// through prev's pointers or backing arrays.
type deepSnapshot struct {
	Snap                          Snapshot
	Session                       *Session
	Up, KnownUp                   []int
	Minutes, KnownMins, EndedMins []float64
}

func deepCopy(s Snapshot) deepSnapshot {
	d := deepSnapshot{Snap: s}
	if s.Session != nil {
		c := *s.Session
		c.BreakoutRooms = slices.Clone(c.BreakoutRooms)
		c.Meta = slices.Clone(c.Meta)
		d.Session = &c
	}
	d.Up = slices.Clone(s.ParticipantsUp[:cap(s.ParticipantsUp)])
	d.Minutes = slices.Clone(s.MinutesReached[:cap(s.MinutesReached)])
	d.KnownUp = slices.Clone(s.KnownParticipants[:cap(s.KnownParticipants)])
	d.KnownMins = slices.Clone(s.KnownMinutes[:cap(s.KnownMinutes)])
	d.EndedMins = slices.Clone(s.LastEndedMinutesReached[:cap(s.LastEndedMinutesReached)])
	return d
}

// applyChecked runs Apply and fails the test if it changed prev or obs.
func applyChecked(t testing.TB, prev Snapshot, obs Observation, rules Rules) (Snapshot, []Event) {
	t.Helper()
	before := deepCopy(prev)
	obsBefore := deepObs(obs)
	next, evs := Apply(testMeeting, prev, obs, rules)
	// reflect.DeepEqual first: it is quick, and the fuzzer calls this a lot.
	if after := deepCopy(prev); !reflect.DeepEqual(before, after) {
		t.Fatalf("Apply modified prev (-before +after):\n%s", cmp.Diff(before, after))
	}
	if after := deepObs(obs); !reflect.DeepEqual(obsBefore, after) {
		t.Fatalf("Apply modified obs (-before +after):\n%s", cmp.Diff(obsBefore, after))
	}
	return next, evs
}

type obsCopy struct {
	Obs            Observation
	Session, Final *Session
	Failure        *Failure
}

func deepObs(o Observation) obsCopy {
	c := obsCopy{Obs: o}
	if o.Session != nil {
		s := *o.Session
		c.Session = &s
	}
	if o.Final != nil {
		s := *o.Final
		c.Final = &s
	}
	if o.Failure != nil {
		f := *o.Failure
		c.Failure = &f
	}
	return c
}

// play applies observations in turn from prev and returns the last snapshot
// and the events of every step.
func play(t testing.TB, rules Rules, prev Snapshot, obs ...Observation) (Snapshot, [][]Event) {
	t.Helper()
	var all [][]Event
	for _, o := range obs {
		var evs []Event
		prev, evs = applyChecked(t, prev, o, rules)
		all = append(all, evs)
	}
	return prev, all
}

// lastEvents plays obs from the zero snapshot and returns the last
// snapshot and the last step's events.
func lastEvents(t testing.TB, rules Rules, obs ...Observation) (Snapshot, []Event) {
	t.Helper()
	s, all := play(t, rules, Snapshot{}, obs...)
	return s, all[len(all)-1]
}

// roundTripJSON stores v as the store would and reads it back, checking
// that nothing is lost on the way.
func roundTripJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, back); diff != "" {
		t.Fatalf("JSON round trip (-before +after):\n%s", diff)
	}
	return back
}
