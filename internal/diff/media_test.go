package diff

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testWatch = Meeting{Watch: "town-hall", AccountID: "acc-1", AppID: "app-1", MeetingID: "*"}

// mediaBrief is the part of a media event that scenario tables compare.
type mediaBrief struct {
	Type, ID, Meeting, Status, Prev string
	Seq                             uint64
}

func mediaBriefs(evs []Event) []mediaBrief {
	var out []mediaBrief
	for _, e := range evs {
		b := mediaBrief{Type: e.Type, ID: e.Data.RecordingID + e.Data.LivestreamID, Meeting: e.Data.MeetingID, Status: e.Data.Status, Seq: e.Data.Sequence}
		if e.Data.PreviousStatus != nil {
			b.Prev = *e.Data.PreviousStatus
		}
		if e.Data.Signal != "" {
			b.ID = e.Data.Signal
		}
		out = append(out, b)
	}
	return out
}

// rec returns a recording of meeting m invoked at t0 plus n seconds.
func rec(id, m, status string, n int) Recording {
	return Recording{ID: id, MeetingID: m, MeetingTitle: "Title " + m, SessionID: "sess-" + m, Status: status, InvokedAt: at(n)}
}

func recObs(n int, rs ...Recording) RecordingsObservation {
	return RecordingsObservation{At: at(n), Recordings: rs}
}

func recFailure(n int, kind FailureKind, code int) RecordingsObservation {
	return RecordingsObservation{At: at(n), Failure: &Failure{Kind: kind, StatusCode: code, Message: "boom"}}
}

// applyRecordingsChecked runs ApplyRecordings and fails the test if it
// changed prev.
func applyRecordingsChecked(t testing.TB, prev MediaState, obs RecordingsObservation, rules MediaRules) (MediaState, []Event, []Skipped) {
	t.Helper()
	before, items := prev, maps.Clone(prev.Items)
	next, evs, skipped := ApplyRecordings(testWatch, prev, obs, rules)
	if !reflect.DeepEqual(before, prev) || !maps.Equal(items, prev.Items) {
		t.Fatalf("ApplyRecordings modified prev (-before +after):\n%s", cmp.Diff(items, prev.Items))
	}
	return next, evs, skipped
}

type recStep struct {
	rules       MediaRules
	obs         RecordingsObservation
	want        []mediaBrief
	wantSkipped []Skipped
	roundTrip   bool
}

func playRecordings(t *testing.T, prev MediaState, steps []recStep) MediaState {
	t.Helper()
	for i, st := range steps {
		if st.roundTrip {
			prev = roundTripJSON(t, prev)
		}
		next, evs, skipped := applyRecordingsChecked(t, prev, st.obs, st.rules)
		if diff := cmp.Diff(st.want, mediaBriefs(evs)); diff != "" {
			t.Fatalf("step %d events (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(st.wantSkipped, skipped); diff != "" {
			t.Fatalf("step %d skipped (-want +got):\n%s", i, diff)
		}
		prev = next
	}
	return prev
}

func recEvent(typ string, seq uint64, id, m, status, prev string) mediaBrief {
	return mediaBrief{Type: typ, ID: id, Meeting: m, Status: status, Prev: prev, Seq: seq}
}

func TestRecordings(t *testing.T) {
	all := MediaRules{FailingAfter: 2}
	onlyA := MediaRules{Watched: func(m string) bool { return m == "a" }, FailingAfter: 2}
	started := func(seq uint64, id, m, prev string) mediaBrief {
		return recEvent(TypeRecordingStarted, seq, id, m, RecordingRecording, prev)
	}
	uploaded := func(seq uint64, id, m, prev string) mediaBrief {
		return recEvent(TypeRecordingUploaded, seq, id, m, RecordingUploaded, prev)
	}
	errored := func(seq uint64, id, m, prev string) mediaBrief {
		return recEvent(TypeRecordingErrored, seq, id, m, RecordingErrored, prev)
	}
	tests := []struct {
		name      string
		steps     []recStep
		wantItems map[string]MediaItem
	}{
		{
			name: "the baseline is silent, and nothing it saw fires later",
			steps: []recStep{
				{rules: all, obs: recObs(0, rec("r1", "a", RecordingRecording, 0), rec("r2", "a", RecordingUploaded, 0), rec("r3", "b", RecordingErrored, 0))},
				{rules: all, obs: recObs(60, rec("r1", "a", RecordingPaused, 0), rec("r2", "a", RecordingUploaded, 0), rec("r3", "b", RecordingErrored, 0))},
				{rules: all, obs: recObs(120, rec("r1", "a", RecordingRecording, 0))},
			},
			wantItems: map[string]MediaItem{
				"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 1, Seen: at(0)},
				"r2": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(0)},
				"r3": {MeetingID: "b", Status: RecordingErrored, Flags: 4, Seen: at(0)},
			},
		},
		{
			name: "a recording's life: started once, uploaded once",
			steps: []recStep{
				{rules: all, obs: recObs(0)},
				{rules: all, obs: recObs(10, rec("r1", "a", RecordingInvoked, 5))},
				{rules: all, obs: recObs(20, rec("r1", "a", RecordingRecording, 5)), want: []mediaBrief{started(1, "r1", "a", RecordingInvoked)}},
				{rules: all, obs: recObs(30, rec("r1", "a", RecordingPaused, 5))},
				{rules: all, obs: recObs(40, rec("r1", "a", RecordingRecording, 5)), roundTrip: true},
				{rules: all, obs: recObs(50, rec("r1", "a", RecordingUploading, 5))},
				{rules: all, obs: recObs(60, rec("r1", "a", RecordingUploaded, 5)), want: []mediaBrief{uploaded(2, "r1", "a", RecordingUploading)}},
				{rules: all, obs: recObs(70, rec("r1", "a", RecordingUploaded, 5)), roundTrip: true},
			},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(5)}},
		},
		{
			name: "first read uploaded, or errored: that event, with no previous status",
			steps: []recStep{
				{rules: all, obs: recObs(0)},
				{rules: all, obs: recObs(10, rec("r1", "a", RecordingUploaded, 5), rec("r2", "b", RecordingErrored, 6)),
					want: []mediaBrief{uploaded(1, "r1", "a", ""), errored(2, "r2", "b", "")}},
				// An errored recording was not started; an uploaded one was.
				{rules: all, obs: recObs(20, rec("r2", "b", RecordingRecording, 6), rec("r1", "a", RecordingRecording, 5)),
					want: []mediaBrief{started(3, "r2", "b", RecordingErrored)}},
				{rules: all, obs: recObs(30, rec("r2", "b", RecordingErrored, 6))},
			},
			wantItems: map[string]MediaItem{
				"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 3, Seen: at(5)},
				"r2": {MeetingID: "b", Status: RecordingErrored, Flags: 5, Seen: at(6)},
			},
		},
		{
			name: "listed twice in one read: both moves, in order",
			steps: []recStep{
				{rules: all, obs: recObs(0)},
				{rules: all, obs: recObs(10, rec("r1", "a", RecordingRecording, 5), rec("r1", "a", RecordingUploaded, 5)),
					want: []mediaBrief{started(1, "r1", "a", ""), uploaded(2, "r1", "a", RecordingRecording)}},
			},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(5)}},
		},
		{
			name: "meetings not watched are followed silently",
			steps: []recStep{
				{rules: onlyA, obs: recObs(0)},
				{rules: onlyA, obs: recObs(10, rec("r1", "a", RecordingRecording, 5), rec("r2", "b", RecordingRecording, 5)),
					want: []mediaBrief{started(1, "r1", "a", "")}},
				{rules: all, obs: recObs(20, rec("r1", "a", RecordingRecording, 5), rec("r2", "b", RecordingRecording, 5))},
				{rules: all, obs: recObs(30, rec("r2", "b", RecordingUploaded, 5)), want: []mediaBrief{uploaded(2, "r2", "b", RecordingRecording)}},
			},
			wantItems: map[string]MediaItem{
				"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 1, Seen: at(5)},
				"r2": {MeetingID: "b", Status: RecordingUploaded, Flags: 3, Seen: at(5)},
			},
		},
		{
			name: "bad entries are skipped and change nothing",
			steps: []recStep{
				{rules: all, obs: recObs(0, rec("r1", "a", RecordingInvoked, 0))},
				{rules: all, obs: recObs(10, rec("r1", "a", "EXPLODED", 0), rec("r2", "", RecordingRecording, 0), rec("", "a", RecordingUploaded, 0), rec("r3", "a", "", 0)),
					wantSkipped: []Skipped{
						{Reason: SkipUnknownStatus, ID: "r1", MeetingID: "a", Value: "EXPLODED"},
						{Reason: SkipNoMeeting, ID: "r2", Value: RecordingRecording},
						{Reason: SkipNoID, MeetingID: "a", Value: RecordingUploaded},
						{Reason: SkipUnknownStatus, ID: "r3", MeetingID: "a"},
					}},
				{rules: all, obs: recObs(20, rec("r1", "a", "recording", 0)), want: []mediaBrief{started(1, "r1", "a", RecordingInvoked)}},
			},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 1, Seen: at(0)}},
		},
		{
			name: "a failed read changes no item and fails the list like a meeting",
			steps: []recStep{
				{rules: all, obs: recObs(0, rec("r1", "a", RecordingRecording, 0))},
				{rules: all, obs: recFailure(10, FailureServer, 503)},
				{rules: all, obs: recFailure(20, FailureServer, 503), want: []mediaBrief{{Type: TypeWatchFailing, ID: SignalRecordings, Meeting: "*", Seq: 1}}},
				{rules: all, obs: recFailure(30, FailureTimeout, 0)},
				{rules: all, obs: recObs(40, rec("r1", "a", RecordingUploaded, 0)), want: []mediaBrief{
					{Type: TypeWatchRecovered, ID: SignalRecordings, Meeting: "*", Seq: 2},
					uploaded(3, "r1", "a", RecordingRecording),
				}},
			},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(0)}},
		},
		{
			name: "a failure before the baseline, then the baseline: recovered, and silent",
			steps: []recStep{
				{rules: all, obs: recFailure(0, FailureAuth, 401), want: []mediaBrief{{Type: TypeWatchFailing, ID: SignalRecordings, Meeting: "*", Seq: 1}}},
				{rules: all, obs: recObs(40, rec("r1", "a", RecordingUploaded, 0)), want: []mediaBrief{{Type: TypeWatchRecovered, ID: SignalRecordings, Meeting: "*", Seq: 2}}},
			},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(0)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := playRecordings(t, MediaState{}, tc.steps)
			if diff := cmp.Diff(tc.wantItems, got.Items); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordingsHorizon(t *testing.T) {
	const hour = 3600
	r := MediaRules{Horizon: 24 * time.Hour}
	base, _, _ := applyRecordingsChecked(t, MediaState{}, recObs(0), r)
	// At 24h + 100s, the horizon's edge is at 100s.
	now := 24*hour + 100
	tests := []struct {
		name      string
		prev      MediaState
		obs       RecordingsObservation
		want      []mediaBrief
		wantItems map[string]MediaItem
	}{
		{
			name:      "a new item active exactly at the edge is in sight",
			prev:      base,
			obs:       recObs(now, rec("r1", "a", RecordingUploaded, 100)),
			want:      []mediaBrief{recEvent(TypeRecordingUploaded, 1, "r1", "a", RecordingUploaded, "")},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(100)}},
		},
		{
			name: "a new item active a second before the edge is ignored",
			prev: base,
			obs:  recObs(now, rec("r1", "a", RecordingUploaded, 99)),
		},
		{
			name: "its latest time counts: stopped within the horizon",
			prev: base,
			obs: recObs(now, Recording{ID: "r1", MeetingID: "a", Status: RecordingErrored,
				InvokedAt: at(0), StartedAt: at(50), StoppedAt: at(100)}),
			want:      []mediaBrief{recEvent(TypeRecordingErrored, 1, "r1", "a", RecordingErrored, "")},
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingErrored, Flags: 4, Seen: at(100)}},
		},
		{
			name:      "a known item is forgotten once out of sight, listed or not",
			prev:      mediaState(map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(99)}, "r2": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(100)}}),
			obs:       recObs(now, rec("r1", "a", RecordingUploaded, 99)),
			wantItems: map[string]MediaItem{"r2": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(100)}},
		},
		{
			name:      "an item without times stays in sight while listed",
			prev:      mediaState(map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(99)}}),
			obs:       recObs(now, Recording{ID: "r1", MeetingID: "a", Status: RecordingUploaded}),
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingUploaded, Flags: 3, Seen: at(now)}},
		},
		{
			name:      "an unknown status keeps a listed item in sight",
			prev:      mediaState(map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 1, Seen: at(99)}}),
			obs:       recObs(now, Recording{ID: "r1", MeetingID: "a", Status: "HUH"}),
			wantItems: map[string]MediaItem{"r1": {MeetingID: "a", Status: RecordingRecording, Flags: 1, Seen: at(now)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, evs, _ := applyRecordingsChecked(t, tc.prev, tc.obs, r)
			if diff := cmp.Diff(tc.want, mediaBriefs(evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantItems, next.Items); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

func mediaState(items map[string]MediaItem) MediaState {
	return MediaState{Baselined: true, Items: items}
}

func TestMediaDefaultHorizon(t *testing.T) {
	prev := mediaState(map[string]MediaItem{
		"old":  {MeetingID: "a", Status: RecordingUploaded, Seen: at(0).Add(-DefaultMediaHorizon - time.Second)},
		"edge": {MeetingID: "a", Status: RecordingUploaded, Seen: at(0).Add(-DefaultMediaHorizon)},
	})
	next, _, _ := applyRecordingsChecked(t, prev, recObs(0), MediaRules{})
	if _, ok := next.Items["old"]; ok || len(next.Items) != 1 {
		t.Errorf("items %v, want only the one at the edge of %v", next.Items, DefaultMediaHorizon)
	}
}

func TestMediaUnchangedSharesItems(t *testing.T) {
	prev, _, _ := applyRecordingsChecked(t, MediaState{}, recObs(0, rec("r1", "a", RecordingRecording, 0)), MediaRules{})
	next, _, _ := applyRecordingsChecked(t, prev, recObs(30, rec("r1", "a", RecordingRecording, 0)), MediaRules{})
	if reflect.ValueOf(next.Items).UnsafePointer() != reflect.ValueOf(prev.Items).UnsafePointer() {
		t.Error("an unchanged list copied the items")
	}
	empty, _, _ := applyRecordingsChecked(t, MediaState{}, recObs(0), MediaRules{})
	if empty.Items != nil || !empty.Baselined {
		t.Errorf("an empty baseline gave %+v", empty)
	}
}
