package diff

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var fuzzRecordingStatuses = []string{
	RecordingInvoked, RecordingRecording, RecordingPaused, RecordingUploading, RecordingUploaded, RecordingErrored, "WEIRD", "recording",
}

// fuzzHorizon is the horizon of the media fuzzers: a few steps' worth.
const fuzzHorizon = time.Hour

// decodeMediaSteps turns fuzz bytes into reads of a list, four bytes each:
//
//	b0: bit 7 a failed read, bit 6 store the state as JSON and read it
//	    back first, bit 5 watch only meeting "a" (else every meeting)
//	b1, b2: an entry each, unless bit 7 is set: bits 0-2 its status (an
//	    index into statuses), bits 3-4 its id (i0 … i3, each with a fixed
//	    last activity, i<n> at n×20 minutes), bit 5 meeting "b" (else "a"),
//	    bit 6 no meeting
//	b3: minutes since the previous read
type mediaFuzzStep struct {
	at        time.Time
	entries   []mediaEntry
	failure   *Failure
	roundTrip bool
	onlyA     bool
}

func decodeMediaSteps(data []byte, statuses []string) []mediaFuzzStep {
	when := t0
	var steps []mediaFuzzStep
	for len(data) >= 4 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		when = when.Add(time.Duration(b3) * time.Minute)
		st := mediaFuzzStep{at: when, roundTrip: b0&64 != 0, onlyA: b0&32 != 0}
		if b0&128 != 0 {
			f := fuzzFailures[int(b1)%len(fuzzFailures)]
			st.failure = &f
		}
		for _, b := range []byte{b1, b2} {
			if b&128 != 0 {
				continue
			}
			n := int(b>>3) & 3
			e := mediaEntry{id: fmt.Sprintf("i%d", n), meetingID: "a", status: statuses[int(b&7)%len(statuses)], seen: t0.Add(time.Duration(n) * 20 * time.Minute)}
			if b&32 != 0 {
				e.meetingID = "b"
			}
			if b&64 != 0 {
				e.meetingID = ""
			}
			st.entries = append(st.entries, e)
		}
		steps = append(steps, st)
	}
	return steps
}

func (st mediaFuzzStep) rules() MediaRules {
	r := MediaRules{Horizon: fuzzHorizon, FailingAfter: 2}
	if st.onlyA {
		r.Watched = func(m string) bool { return m == "a" }
	}
	return r
}

func FuzzApplyRecordings(f *testing.F) {
	f.Add([]byte{})
	// A recording's life, a failure, a bad entry, and the horizon passing.
	f.Add([]byte{0, 0x80, 0x80, 1, 0, 0, 0x80, 1, 0, 1, 0x47, 1, 0x80, 3, 0, 1, 0x40, 2, 0x23, 1, 0, 4, 6, 1, 0, 4, 0x80, 90, 0, 4, 0x80, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var prev MediaState
		ids := map[string]bool{}
		type fired struct{ id, typ string }
		once := map[fired]bool{}
		last := map[string]modelItem{} // what the rule must remember of each item in sight
		for i, st := range decodeMediaSteps(data, fuzzRecordingStatuses) {
			obs := RecordingsObservation{At: st.at, Failure: st.failure}
			for _, e := range st.entries {
				obs.Recordings = append(obs.Recordings, Recording{ID: e.id, MeetingID: e.meetingID, Status: e.status, InvokedAt: e.seen})
			}
			var next MediaState
			var evs []Event
			var skipped []Skipped
			prev, next, evs, skipped = st.apply(t, i, prev, ids, SignalRecordings, func(prev MediaState) (MediaState, []Event, []Skipped) {
				return ApplyRecordings(testWatch, prev, obs, st.rules())
			})
			if st.failure != nil {
				prev = next
				continue
			}
			cutoff := st.at.Add(-fuzzHorizon)
			k := 0 // the next entry an event may be about
			for _, e := range evs {
				if e.Type == TypeWatchRecovered {
					continue
				}
				if !prev.Baselined {
					t.Fatalf("step %d: the baseline emitted %s", i, e.Type)
				}
				id := e.Data.RecordingID
				want := map[string]string{TypeRecordingStarted: RecordingRecording, TypeRecordingUploaded: RecordingUploaded, TypeRecordingErrored: RecordingErrored}[e.Type]
				if want == "" || e.Data.Status != want {
					t.Fatalf("step %d: %s with status %q", i, e.Type, e.Data.Status)
				}
				if once[fired{id, e.Type}] {
					t.Fatalf("step %d: %s twice for %s", i, e.Type, id)
				}
				once[fired{id, e.Type}] = true
				if e.Data.MeetingID == "" || st.onlyA && e.Data.MeetingID != "a" {
					t.Fatalf("step %d: %s about meeting %q", i, e.Type, e.Data.MeetingID)
				}
				// Events follow the list: find the entry this one is about,
				// updating the model on the way.
				for ; k < len(st.entries) && !about(st.entries[k], e.Data); k++ {
					noteEntry(last, st.entries[k], cutoff)
				}
				if k == len(st.entries) {
					t.Fatalf("step %d: %s about %s, which the read does not list (in that order)", i, e.Type, id)
				}
				if *e.Data.PreviousStatus != last[id].status {
					t.Fatalf("step %d: previous_status %q, the model says %q", i, *e.Data.PreviousStatus, last[id].status)
				}
				noteEntry(last, st.entries[k], cutoff)
				k++
			}
			for ; k < len(st.entries); k++ {
				noteEntry(last, st.entries[k], cutoff)
			}
			maps.DeleteFunc(last, func(_ string, it modelItem) bool { return it.seen.Before(cutoff) })
			checkSkipped(t, i, st.entries, skipped, true)
			checkItems(t, i, next, cutoff, last)
			prev = next
		}
	})
}

// about reports whether event data d can be about entry e.
func about(e mediaEntry, d EventData) bool {
	return e.id == d.RecordingID+d.LivestreamID && e.meetingID == d.MeetingID && strings.ToUpper(e.status) == d.Status
}

// modelItem is what a fuzzer's model remembers of an item.
type modelItem struct {
	status string
	seen   time.Time
}

// apply runs one step of a media fuzzer through apply, from prev (stored as
// JSON and read back first when the step says so), and checks what every
// step must hold: prev unchanged, the list's sequence continued with fresh
// ids, and a failed read changing nothing. It returns the prev it applied.
func (st mediaFuzzStep) apply(t *testing.T, i int, prev MediaState, ids map[string]bool, signal string,
	apply func(MediaState) (MediaState, []Event, []Skipped)) (MediaState, MediaState, []Event, []Skipped) {
	t.Helper()
	if st.roundTrip {
		prev = roundTripJSON(t, prev)
	}
	before, items := prev, maps.Clone(prev.Items)
	next, evs, skipped := apply(prev)
	if !reflect.DeepEqual(before, prev) || !maps.Equal(items, prev.Items) {
		t.Fatalf("step %d: prev modified", i)
	}
	checkSignalSequence(t, i, prev.Sequence, next.Sequence, evs, ids)
	if st.failure != nil {
		checkFailedRead(t, i, prev, next, evs, skipped, signal)
	}
	return prev, next, evs, skipped
}

// noteEntry records in last what a valid entry in sight says of its item.
func noteEntry(last map[string]modelItem, e mediaEntry, cutoff time.Time) {
	if status := strings.ToUpper(e.status); e.id != "" && e.meetingID != "" && recordingKind.known(status) && !e.seen.Before(cutoff) {
		last[e.id] = modelItem{status, e.seen}
	}
}

// checkSignalSequence checks that a step's events continue the list's
// sequence with fresh ids.
func checkSignalSequence(t *testing.T, step int, from, to uint64, evs []Event, ids map[string]bool) {
	t.Helper()
	for _, e := range evs {
		from++
		if e.Data.Sequence != from || ids[e.Data.ID] || !idPattern.MatchString(e.Data.ID) {
			t.Fatalf("step %d: %s has sequence %d (want %d) and id %s", step, e.Type, e.Data.Sequence, from, e.Data.ID)
		}
		ids[e.Data.ID] = true
	}
	if to != from {
		t.Fatalf("step %d: state sequence %d, want %d", step, to, from)
	}
}

// checkFailedRead checks that a failed read changed nothing but the failure
// bookkeeping, and emitted at most watch.failing for the signal.
func checkFailedRead(t *testing.T, step int, prev, next MediaState, evs []Event, skipped []Skipped, signal string) {
	t.Helper()
	if len(skipped) != 0 || next.Baselined != prev.Baselined || !reflect.DeepEqual(next.Items, prev.Items) {
		t.Fatalf("step %d: a failed read changed the items or skipped entries", step)
	}
	for _, e := range evs {
		if e.Type != TypeWatchFailing || e.Data.Signal != signal || e.Data.MeetingID != testWatch.MeetingID {
			t.Fatalf("step %d: a failed read emitted %s (signal %q)", step, e.Type, e.Data.Signal)
		}
	}
}

// checkSkipped checks that exactly the bad entries came back as skipped, in
// order.
func checkSkipped(t *testing.T, step int, entries []mediaEntry, skipped []Skipped, recordings bool) {
	t.Helper()
	var want []SkipReason
	for _, e := range entries {
		switch {
		case e.id == "":
			want = append(want, SkipNoID)
		case e.meetingID == "":
			if recordings {
				want = append(want, SkipNoMeeting)
			}
		case recordings && !recordingKind.known(strings.ToUpper(e.status)),
			!recordings && !livestreamKind.known(strings.ToUpper(e.status)):
			want = append(want, SkipUnknownStatus)
		}
	}
	var got []SkipReason
	for _, s := range skipped {
		got = append(got, s.Reason)
	}
	if !slices.Equal(want, got) {
		t.Fatalf("step %d: skipped %v, want %v", step, got, want)
	}
}

// checkItems checks that the state holds exactly the items in sight that
// the model knows, with their last status, and nothing out of sight.
func checkItems(t *testing.T, step int, next MediaState, cutoff time.Time, last map[string]modelItem) {
	t.Helper()
	if len(next.Items) != len(last) {
		t.Fatalf("step %d: items %v, the model has %v", step, next.Items, last)
	}
	for id, it := range next.Items {
		if m, ok := last[id]; !ok || it.Seen.Before(cutoff) || it.Status != m.status || !it.Seen.Equal(m.seen) {
			t.Fatalf("step %d: item %s is %+v; the model says %+v, cutoff %v", step, id, it, m, cutoff)
		}
	}
}
