package diff

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var fuzzLivestreamStatuses = []string{
	LivestreamInvoked, LivestreamLive, LivestreamIdle, LivestreamErrored, "live", "STOPPED", LivestreamLive, LivestreamIdle,
}

// FuzzApplyLivestreams checks ApplyLivestreams against a model of its
// documented rules: the exact events, in order, the items it keeps, and
// that a failed read changes nothing.
func FuzzApplyLivestreams(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0x80, 0x80, 1, 0, 1, 0x80, 1, 0, 2, 0x09, 1, 0x80, 3, 0, 1, 0x40, 1, 0x23, 1, 0, 0x0b, 6, 1, 0x20, 0x29, 0x80, 90, 0, 0x0c, 0x80, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var prev MediaState
		ids := map[string]bool{}
		type item struct {
			modelItem
			live bool
		}
		model := map[string]item{}
		for i, st := range decodeMediaSteps(data, fuzzLivestreamStatuses) {
			obs := LivestreamsObservation{At: st.at, Failure: st.failure}
			for _, e := range st.entries {
				obs.Livestreams = append(obs.Livestreams, Livestream{ID: e.id, MeetingID: e.meetingID, Status: e.status, UpdatedAt: e.seen})
			}
			var next MediaState
			var evs []Event
			var skipped []Skipped
			prev, next, evs, skipped = st.apply(t, i, prev, ids, SignalLivestreams, func(prev MediaState) (MediaState, []Event, []Skipped) {
				return ApplyLivestreams(testWatch, prev, obs, st.rules())
			})
			if st.failure != nil {
				prev = next
				continue
			}
			checkSkipped(t, i, st.entries, skipped, false)

			cutoff := st.at.Add(-fuzzHorizon)
			var want []mediaBrief
			for _, e := range st.entries {
				status := strings.ToUpper(e.status)
				if e.id == "" || e.meetingID == "" || !livestreamKind.known(status) || e.seen.Before(cutoff) {
					continue
				}
				old := model[e.id]
				typ, live := "", old.live
				switch status {
				case LivestreamLive:
					if !old.live {
						typ = TypeLivestreamStarted
					}
					live = true
				case LivestreamIdle:
					if old.live {
						typ = TypeLivestreamStopped
					}
					live = false
				case LivestreamErrored:
					if old.status != LivestreamErrored {
						typ = TypeLivestreamErrored
					}
					live = false
				}
				model[e.id] = item{modelItem{status, e.seen}, live}
				if typ != "" && prev.Baselined && (!st.onlyA || e.meetingID == "a") {
					want = append(want, mediaBrief{Type: typ, ID: e.id, Meeting: e.meetingID, Status: status, Prev: old.status})
				}
			}
			maps.DeleteFunc(model, func(_ string, it item) bool { return it.seen.Before(cutoff) })
			var got []mediaBrief
			for _, b := range mediaBriefs(evs) {
				if b.Type != TypeWatchRecovered {
					b.Seq = 0
					got = append(got, b)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("step %d events (-model +got):\n%s", i, diff)
			}
			if len(next.Items) != len(model) {
				t.Fatalf("step %d: items %v, the model has %v", i, next.Items, model)
			}
			for id, it := range next.Items {
				m := model[id]
				if it.Status != m.status || (it.Flags&livestreamLiveFlag != 0) != m.live || !it.Seen.Equal(m.seen) {
					t.Fatalf("step %d: item %s is %+v, the model says %+v", i, id, it, m)
				}
			}
			prev = next
		}
	})
}
