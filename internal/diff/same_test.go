package diff

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameBase is a snapshot with a session, thresholds and a failure.
func sameBase() Snapshot {
	s := liveSession("s-1", 12, 30)
	s.BreakoutRooms = json.RawMessage(`[{"id":"r-1"}]`)
	s.Meta = json.RawMessage(`{"k":"v"}`)
	return Snapshot{
		Meeting: testMeeting, Baselined: true, Session: s, Sequence: 7,
		ParticipantsUp: []int{5}, MinutesReached: []float64{10},
		KnownParticipants: []int{5, 10}, KnownMinutes: []float64{10}, KnownDuration: []int64{},
		LastEndedSessionID: "s-0", LastEndedMinutesReached: []float64{10},
		DurationReached: []int64{60}, LastEndedDurationReached: []int64{60},
		IdleSince: at(5), IdleReported: true, SessionSeenAt: at(1), LastGoodPoll: at(9),
		ConsecutiveFailures: 1, FirstFailureAt: at(8), LastError: "server: 503",
	}
}

// TestSameStateSeesEveryField changes each field of a Snapshot, and of its
// Meeting and Session, one at a time: every change but LastGoodPoll's is a
// different state.
func TestSameStateSeesEveryField(t *testing.T) {
	var walk func(path string, get func(*Snapshot) reflect.Value)
	walk = func(path string, get func(*Snapshot) reflect.Value) {
		base := sameBase()
		v := get(&base)
		if v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]() ||
			v.Kind() == reflect.Pointer {
			if v.Kind() == reflect.Pointer {
				v = v.Elem()
			}
			for i := range v.NumField() {
				name := v.Type().Field(i).Name
				walk(path+"."+name, func(s *Snapshot) reflect.Value {
					f := get(s)
					if f.Kind() == reflect.Pointer {
						c := reflect.New(f.Elem().Type()) // a copy, so that sameBase's session is not shared
						c.Elem().Set(f.Elem())
						f.Set(c)
						f = c
					}
					return reflect.Indirect(f).Field(i)
				})
			}
			return
		}
		changed := sameBase()
		f := get(&changed)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Int, reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Uint16, reflect.Uint64:
			f.SetUint(f.Uint() + 1)
		case reflect.Float64:
			f.SetFloat(f.Float() + 0.5)
		case reflect.Slice:
			n := reflect.MakeSlice(f.Type(), f.Len(), f.Len()+1)
			reflect.Copy(n, f)
			f.Set(reflect.Append(n, reflect.New(f.Type().Elem()).Elem()))
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Second)))
		default:
			t.Fatalf("%s: a field of kind %s that this test cannot change; teach it", path, f.Kind())
		}
		want := path == ".LastGoodPoll"
		if got := SameState(sameBase(), changed); got != want {
			t.Errorf("SameState after changing Snapshot%s = %v, want %v: SameState must compare every field but LastGoodPoll", path, got, want)
		}
	}
	walk("", func(s *Snapshot) reflect.Value { return reflect.ValueOf(s).Elem() })
}

// TestSameStateNilAndEmpty: lists that JSON leaves out when empty compare
// nil and empty alike; the Known… lists, where nil means unknown, do not.
func TestSameStateNilAndEmpty(t *testing.T) {
	a, b := sameBase(), sameBase()
	a.ParticipantsUp, b.ParticipantsUp = nil, []int{}
	a.Session.Meta, b.Session.Meta = nil, json.RawMessage{}
	if !SameState(a, b) {
		t.Error("nil and empty participants_up (omitempty) differ")
	}
	a, b = sameBase(), sameBase()
	a.KnownMinutes, b.KnownMinutes = nil, []float64{}
	if SameState(a, b) {
		t.Error("nil and empty known_minutes (omitzero: unknown and none) are the same")
	}
	a, b = sameBase(), sameBase()
	a.Session = nil
	if SameState(a, b) || SameState(b, a) {
		t.Error("a snapshot without a session is the same as one with")
	}
	a.Session, b.Session = nil, nil
	if !SameState(a, b) {
		t.Error("two snapshots without a session differ")
	}
}

// TestSameStateAfterStoring: a snapshot that Apply made, stamped with a
// local clock reading, is the same state once stored as JSON and read back.
func TestSameStateAfterStoring(t *testing.T) {
	now := time.Now() // a monotonic reading, in the local zone
	prev, _ := Apply(testMeeting, Snapshot{}, Observation{Kind: ObservedSession, At: now, Session: liveSession("s-1", 60, 700)}, testRules)
	next, evs := Apply(testMeeting, prev, Observation{Kind: ObservedSession, At: now.Add(time.Second), Session: liveSession("s-1", 60, 700)}, testRules)
	if len(evs) != 0 {
		t.Fatalf("events %v; want none", evs)
	}
	b, err := json.Marshal(prev)
	if err != nil {
		t.Fatal(err)
	}
	var stored Snapshot
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	if !SameState(stored, next) {
		t.Errorf("a poll that changed nothing is a new state once stored:\nstored %s\nnext   %+v", b, next)
	}
	next.Session = liveSession("s-1", 61, 700)
	if SameState(stored, next) {
		t.Error("a new participant count is the same state")
	}
	if !strings.Contains(string(b), `"last_good_poll"`) {
		t.Errorf("stored snapshot %s has no last_good_poll", b)
	}
}
