package diff

import (
	"maps"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ls returns a livestream of meeting m updated at t0 plus n seconds.
func ls(id, m, status string, n int) Livestream {
	return Livestream{ID: id, MeetingID: m, Name: "Stream " + m, Status: status, CreatedAt: at(0), UpdatedAt: at(n)}
}

func lsObs(n int, l ...Livestream) LivestreamsObservation {
	return LivestreamsObservation{At: at(n), Livestreams: l}
}

func TestLivestreams(t *testing.T) {
	rules := MediaRules{FailingAfter: 1}
	ev := func(typ string, seq uint64, id, status, prev string) mediaBrief {
		return mediaBrief{Type: typ, ID: id, Meeting: "a", Status: status, Prev: prev, Seq: seq}
	}
	tests := []struct {
		name  string
		steps []LivestreamsObservation
		want  [][]mediaBrief
	}{
		{
			name: "started, stopped, started again",
			steps: []LivestreamsObservation{
				lsObs(0),
				lsObs(10, ls("l1", "a", LivestreamInvoked, 10)),
				lsObs(20, ls("l1", "a", LivestreamLive, 20)),
				lsObs(30, ls("l1", "a", LivestreamLive, 20)),
				lsObs(40, ls("l1", "a", LivestreamIdle, 40)),
				lsObs(50, ls("l1", "a", LivestreamIdle, 40)),
				lsObs(60, ls("l1", "a", LivestreamLive, 60)),
			},
			want: [][]mediaBrief{nil, nil,
				{ev(TypeLivestreamStarted, 1, "l1", LivestreamLive, LivestreamInvoked)}, nil,
				{ev(TypeLivestreamStopped, 2, "l1", LivestreamIdle, LivestreamLive)}, nil,
				{ev(TypeLivestreamStarted, 3, "l1", LivestreamLive, LivestreamIdle)},
			},
		},
		{
			name: "INVOKED between LIVE and IDLE: still stopped, and not started twice",
			steps: []LivestreamsObservation{
				lsObs(0),
				lsObs(10, ls("l1", "a", LivestreamLive, 10)),
				lsObs(20, ls("l1", "a", LivestreamInvoked, 20)),
				lsObs(30, ls("l1", "a", LivestreamLive, 30)),
				lsObs(40, ls("l1", "a", LivestreamInvoked, 40)),
				lsObs(50, ls("l1", "a", LivestreamIdle, 50)),
			},
			want: [][]mediaBrief{nil,
				{ev(TypeLivestreamStarted, 1, "l1", LivestreamLive, "")}, nil, nil, nil,
				{ev(TypeLivestreamStopped, 2, "l1", LivestreamIdle, LivestreamInvoked)},
			},
		},
		{
			name: "errored ends live without stopped; IDLE after it is nothing",
			steps: []LivestreamsObservation{
				lsObs(0, ls("l1", "a", LivestreamLive, 0)),
				lsObs(10, ls("l1", "a", LivestreamErrored, 10)),
				lsObs(20, ls("l1", "a", LivestreamErrored, 10)),
				lsObs(30, ls("l1", "a", LivestreamIdle, 30)),
				lsObs(40, ls("l1", "a", LivestreamErrored, 40)),
			},
			want: [][]mediaBrief{nil,
				{ev(TypeLivestreamErrored, 1, "l1", LivestreamErrored, LivestreamLive)}, nil, nil,
				{ev(TypeLivestreamErrored, 2, "l1", LivestreamErrored, LivestreamIdle)},
			},
		},
		{
			name: "live at the baseline: its stop is reported, its start was not",
			steps: []LivestreamsObservation{
				lsObs(0, ls("l1", "a", LivestreamLive, 0)),
				lsObs(10, ls("l1", "a", LivestreamIdle, 10)),
			},
			want: [][]mediaBrief{nil, {ev(TypeLivestreamStopped, 1, "l1", LivestreamIdle, LivestreamLive)}},
		},
		{
			name: "first read IDLE is nothing",
			steps: []LivestreamsObservation{
				lsObs(0),
				lsObs(10, ls("l1", "a", LivestreamIdle, 10)),
			},
			want: [][]mediaBrief{nil, nil},
		},
		{
			name: "a livestream of no meeting is the app's: ignored",
			steps: []LivestreamsObservation{
				lsObs(0),
				lsObs(10, ls("l1", "", LivestreamLive, 10)),
			},
			want: [][]mediaBrief{nil, nil},
		},
		{
			name: "a failed read fails the list, with its signal",
			steps: []LivestreamsObservation{
				lsObs(0, ls("l1", "a", LivestreamLive, 0)),
				{At: at(10), Failure: &Failure{Kind: FailureRateLimited, StatusCode: 429}},
				lsObs(20, ls("l1", "a", LivestreamIdle, 10)),
			},
			want: [][]mediaBrief{nil,
				{{Type: TypeWatchFailing, ID: SignalLivestreams, Meeting: "*", Seq: 1}},
				{{Type: TypeWatchRecovered, ID: SignalLivestreams, Meeting: "*", Seq: 2}, ev(TypeLivestreamStopped, 3, "l1", LivestreamIdle, LivestreamLive)},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var prev MediaState
			for i, obs := range tc.steps {
				before, items := prev, maps.Clone(prev.Items)
				next, evs, skipped := ApplyLivestreams(testWatch, prev, obs, rules)
				if !reflect.DeepEqual(before, prev) || !maps.Equal(items, prev.Items) {
					t.Fatalf("step %d: ApplyLivestreams modified prev", i)
				}
				if diff := cmp.Diff(tc.want[i], mediaBriefs(evs)); diff != "" {
					t.Fatalf("step %d events (-want +got):\n%s", i, diff)
				}
				if len(skipped) != 0 {
					t.Fatalf("step %d skipped %v", i, skipped)
				}
				prev = roundTripJSON(t, next)
			}
		})
	}
}

func TestLivestreamsSkipped(t *testing.T) {
	prev, _, _ := ApplyLivestreams(testWatch, MediaState{}, lsObs(0, ls("l1", "a", LivestreamIdle, 0)), MediaRules{})
	next, evs, skipped := ApplyLivestreams(testWatch, prev, lsObs(10, ls("l1", "a", "PAUSED", 10), ls("", "a", LivestreamLive, 10)), MediaRules{})
	want := []Skipped{
		{Reason: SkipUnknownStatus, ID: "l1", MeetingID: "a", Value: "PAUSED"},
		{Reason: SkipNoID, MeetingID: "a", Value: LivestreamLive},
	}
	if diff := cmp.Diff(want, skipped); diff != "" || len(evs) != 0 {
		t.Errorf("events %v; skipped (-want +got):\n%s", evs, diff)
	}
	if it := next.Items["l1"]; it.Status != LivestreamIdle || !it.Seen.Equal(at(10)) {
		t.Errorf("item %+v, want IDLE seen at 10s", it)
	}
}
