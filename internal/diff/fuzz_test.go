package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fuzzRules = Rules{
	ParticipantThresholds: []int{10, 50, 100, 200},
	Hysteresis:            5,
	MinutesThresholds:     []float64{100, 1000, 2000},
	FailingAfter:          3,
}

var fuzzFailures = []Failure{
	{Kind: FailureAuth, StatusCode: 401},
	{Kind: FailureAuth, StatusCode: 403},
	{Kind: FailureRateLimited, StatusCode: 429, RetryAfter: time.Second},
	{Kind: FailureServer, StatusCode: 503},
	{Kind: FailureNotFound, StatusCode: 404},
	{Kind: FailureNetwork},
	{Kind: FailureTimeout},
	{Kind: FailureDecode, StatusCode: 200},
}

// decodeObservations turns fuzz bytes into observations, four bytes each:
//
//	b0: bits 0-2 what was seen (0-3 a LIVE session, 4 an ENDED one, 5 no
//	    session, 6 a failure, 7 a malformed observation), bit 3 attach final
//	    numbers, bits 4-5 session id, bit 6 store the previous snapshot as
//	    JSON and read it back first
//	b1: live participants, or which failure
//	b2: minutes consumed / 10
//	b3: seconds since the previous observation
func decodeObservations(data []byte) (obs []Observation, roundTrip []bool) {
	when := t0
	for len(data) >= 4 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		when = when.Add(time.Duration(b3) * time.Second)
		id := fmt.Sprintf("s%d", (b0>>4)&3)
		o := Observation{At: when}
		switch b0 & 7 {
		case 0, 1, 2, 3:
			o.Kind, o.Session = ObservedSession, liveSession(id, int(b1), float64(b2)*10)
		case 4:
			s := endedSession(id, int(b3))
			s.LiveParticipants = int(b1)
			o.Kind, o.Session = ObservedSession, s
		case 5:
			o.Kind = ObservedNoSession
		case 6:
			f := fuzzFailures[int(b1)%len(fuzzFailures)]
			o.Kind, o.Failure = ObservedFailure, &f
		case 7:
			o.Kind = ObservationKind(b1 % 2 * 2) // 0 (unknown) or ObservedSession without a session
		}
		if b0&8 != 0 {
			o.Final = endedSession(fmt.Sprintf("s%d", b2&3), int(b3))
		}
		obs = append(obs, o)
		roundTrip = append(roundTrip, b0&64 != 0)
	}
	return obs, roundTrip
}

func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 30, 0, 60, 70, 30, 0, 120, 110, 30, 0, 3, 0, 30, 5, 0, 0, 30})
	f.Add([]byte{6, 3, 0, 1, 6, 4, 0, 1, 6, 5, 0, 1, 6, 0, 0, 1, 0, 60, 0, 1, 6, 0, 0, 0})
	f.Add([]byte{0, 200, 250, 10, 0x10, 20, 0, 10, 0x24, 20, 0, 10, 0x48, 0, 0, 10, 0x57, 1, 0, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, roundTrip := decodeObservations(data)
		var prev Snapshot
		open := false    // a session.started not yet followed by session.ended
		failing := false // a watch.failing not yet followed by watch.recovered
		ids := map[string]bool{}
		for i, o := range obs {
			if roundTrip[i] {
				prev = jsonRoundTrip(t, prev)
			}
			endID, ends := EndsSession(prev, o)
			next, evs := applyChecked(t, prev, o, fuzzRules)
			step := stepName{i, o}

			good := o.Kind == ObservedNoSession || o.Kind == ObservedSession && o.Session != nil
			if !good {
				for _, e := range evs {
					if e.Type != TypeWatchFailing {
						t.Fatalf("%s: a failure emitted %s", step, e.Type)
					}
				}
				if prev.Session != next.Session || !slices.Equal(prev.ParticipantsUp, next.ParticipantsUp) ||
					!slices.Equal(prev.MinutesReached, next.MinutesReached) || !prev.SessionSeenAt.Equal(next.SessionSeenAt) ||
					prev.Baselined != next.Baselined || !prev.LastGoodPoll.Equal(next.LastGoodPoll) {
					t.Fatalf("%s: a failure changed the session state", step)
				}
			}
			if !prev.Baselined && next.Baselined {
				open = next.Session != nil
			}

			seq := prev.Sequence
			ended := ""
			for _, e := range evs {
				seq++
				if e.Data.Sequence != seq {
					t.Fatalf("%s: %s has sequence %d, want %d", step, e.Type, e.Data.Sequence, seq)
				}
				if ids[e.Data.ID] {
					t.Fatalf("%s: id %s repeated", step, e.Data.ID)
				}
				ids[e.Data.ID] = true
				if e.Data.Watch != testMeeting.Watch || e.Data.MeetingID != testMeeting.MeetingID || !e.Timestamp.Equal(o.At) {
					t.Fatalf("%s: %s carries the wrong meeting or time", step, e.Type)
				}
				switch e.Type {
				case TypeSessionStarted:
					if open {
						t.Fatalf("%s: two starts without an end", step)
					}
					open = true
				case TypeSessionEnded:
					if !open {
						t.Fatalf("%s: an end without a start", step)
					}
					open = false
					ended = e.Data.SessionID
					if e.Data.Final != nil && e.Data.Final.ID != ended {
						t.Fatalf("%s: final of %s attached to the end of %s", step, e.Data.Final.ID, ended)
					}
				case TypeWatchFailing:
					if failing {
						t.Fatalf("%s: watch.failing twice in one run", step)
					}
					failing = true
				case TypeWatchRecovered:
					if !failing {
						t.Fatalf("%s: watch.recovered without watch.failing", step)
					}
					failing = false
				case TypeParticipantsThreshold:
					live, th := *e.Data.LiveParticipants, int(*e.Data.Threshold)
					if e.Data.Direction == DirectionUp && live < th || e.Data.Direction == DirectionDown && live >= th-fuzzRules.Hysteresis {
						t.Fatalf("%s: %s crossing of %d at %d participants", step, e.Data.Direction, th, live)
					}
				}
			}
			if next.Sequence != seq {
				t.Fatalf("%s: snapshot sequence %d, want %d", step, next.Sequence, seq)
			}
			if next.Baselined && open != (next.Session != nil) {
				t.Fatalf("%s: events say open=%v but the snapshot holds %v", step, open, next.Session)
			}
			if !next.Baselined && open {
				t.Fatalf("%s: a session started before the baseline", step)
			}
			if failing != next.Failing {
				t.Fatalf("%s: events say failing=%v, snapshot %v", step, failing, next.Failing)
			}
			if next.Session != nil && !isLive(next.Session) {
				t.Fatalf("%s: stored a session that is not live", step)
			}
			if !slices.IsSorted(next.ParticipantsUp) || !slices.IsSorted(next.MinutesReached) {
				t.Fatalf("%s: thresholds not ascending: %v %v", step, next.ParticipantsUp, next.MinutesReached)
			}
			if ends != (ended != "") || ends && endID != ended {
				t.Fatalf("%s: EndsSession = %q, %v; Apply ended %q", step, endID, ends, ended)
			}
			prev = next
		}
	})
}

// stepName names a step in failure messages; it formats only when needed.
type stepName struct {
	i   int
	obs Observation
}

func (s stepName) String() string { return fmt.Sprintf("step %d (%+v)", s.i, s.obs) }

// jsonRoundTrip stores s as the store would and reads it back, checking
// that nothing is lost on the way.
func jsonRoundTrip(t *testing.T, s Snapshot) Snapshot {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Fatalf("snapshot JSON round trip (-before +after):\n%s", diff)
	}
	return back
}
