package rtkfake

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// The readers below turn what the SDK decodes from the fake into the
// observations of internal/diff's rules, as the poller is to do: the fake,
// the SDK and the rules agree on every field the rules read.

func readRecordings(t *testing.T, s *Server, at time.Time) diff.RecordingsObservation {
	t.Helper()
	var p realtime_kit.RecordingGetRecordingsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	res, err := realtime_kit.NewRecordingService(sdkOptions(s)...).GetRecordings(t.Context(), "app", p)
	if err != nil {
		return diff.RecordingsObservation{At: at, Failure: &diff.Failure{Kind: diff.FailureServer, Message: err.Error()}}
	}
	obs := diff.RecordingsObservation{At: at}
	for _, r := range res.Data {
		obs.Recordings = append(obs.Recordings, diff.Recording{
			ID: r.ID, MeetingID: r.Meeting.ID, MeetingTitle: r.Meeting.Title, SessionID: r.SessionID, Status: string(r.Status),
			InvokedAt: r.InvokedTime, StartedAt: r.StartedTime, StoppedAt: r.StoppedTime,
		})
	}
	return obs
}

func readLivestreams(t *testing.T, s *Server, at time.Time) diff.LivestreamsObservation {
	t.Helper()
	var p realtime_kit.LivestreamGetAllLivestreamsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	res, err := realtime_kit.NewLivestreamService(sdkOptions(s)...).GetAllLivestreams(t.Context(), "app", p)
	var page []realtime_kit.LivestreamGetAllLivestreamsResponseData
	if err == nil {
		err = json.Unmarshal([]byte(res.JSON.Data.Raw()), &page)
	}
	if err != nil {
		return diff.LivestreamsObservation{At: at, Failure: &diff.Failure{Kind: diff.FailureDecode, Message: err.Error()}}
	}
	obs := diff.LivestreamsObservation{At: at}
	for _, l := range page {
		obs.Livestreams = append(obs.Livestreams, diff.Livestream{
			ID: l.ID, MeetingID: l.MeetingID, Name: l.Name, Status: string(l.Status), CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
		})
	}
	return obs
}

func readUsage(t *testing.T, s *Server, at time.Time) diff.UsageObservation {
	t.Helper()
	var p realtime_kit.AnalyticsGetOrgAnalyticsParams
	p.AccountID.Value, p.AccountID.Present = testAccount, true
	res, err := realtime_kit.NewAnalyticsService(sdkOptions(s)...).GetOrgAnalytics(t.Context(), "app", p)
	if err != nil {
		return diff.UsageObservation{At: at, Failure: &diff.Failure{Kind: diff.FailureServer, Message: err.Error()}}
	}
	obs := diff.UsageObservation{At: at}
	for _, d := range res.Data.SessionStats.DayStats {
		obs.Days = append(obs.Days, diff.UsageDay{Day: d.Day, Minutes: d.TotalSessionMinutes})
	}
	return obs
}

// restart stores a state as the store would and reads it back.
func restart[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// TestScenarioThroughTheSDK plays one of each new signal against the fake,
// read through the SDK into the rules: each event fires once, after a
// silent baseline, and a restart in the middle repeats nothing.
func TestScenarioThroughTheSDK(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	set := func(t time.Time) { clock.Store(&t) }
	now := func() time.Time { return *clock.Load() }
	set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := newServer(t, Options{Now: now})
	watch := diff.Meeting{Watch: "town-hall", AccountID: testAccount, AppID: "app", MeetingID: "*"}
	media := diff.MediaRules{FailingAfter: 1}
	usage := diff.UsageRules{DailyMinutes: []float64{1000}, PricePerParticipantMinute: 0.002, FailingAfter: 1}
	var recs, streams diff.MediaState
	var use diff.UsageState
	var got []string
	step := func(script func()) {
		set(now().Add(time.Minute))
		script()
		var evs, more []diff.Event
		recs, evs, _ = diff.ApplyRecordings(watch, recs, readRecordings(t, s, now()), media)
		streams, more, _ = diff.ApplyLivestreams(watch, streams, readLivestreams(t, s, now()), media)
		evs = append(evs, more...)
		use, more, _ = diff.ApplyUsage(watch, use, readUsage(t, s, now()), usage)
		for _, e := range append(evs, more...) {
			got = append(got, e.Type)
		}
	}

	step(func() { // baseline: an old upload, a live stream, minutes past the threshold today
		s.AddRecording("app", Recording{ID: "old", MeetingID: "m", Status: RecordingUploaded})
		s.AddLivestream("app", Livestream{ID: "l1", MeetingID: "m", Status: LivestreamLive})
		s.AddSessionMinutes("app", "2026-03-01", 1500)
	})
	step(func() {
		s.AddRecording("app", Recording{ID: "r1", MeetingID: "m"})
		s.AddLivestream("app", Livestream{ID: "l2", MeetingID: "m", Status: LivestreamLive})
	})
	step(func() { s.SetRecordingStatus("app", "r1", RecordingRecording) })
	recs, streams, use = restart(t, recs), restart(t, streams), restart(t, use)
	step(func() {})
	step(func() {
		s.SetRecordingStatus("app", "r1", RecordingUploaded)
		s.SetLivestreamStatus("app", "l1", LivestreamIdle)
	})
	step(func() { s.SetRouteFault(RouteRecordings, "app", Fault{Kind: ServerError, Times: 1}) })
	step(func() {
		s.AddRecording("app", Recording{ID: "r2", MeetingID: "m", Status: RecordingErrored})
		s.SetLivestreamStatus("app", "l1", LivestreamErrored)
	})
	set(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)) // the next step is at midnight
	step(func() { s.AddSessionMinutes("app", "2026-03-02", 1000) })
	recs, streams, use = restart(t, recs), restart(t, streams), restart(t, use)
	step(func() { s.AddSessionMinutes("app", "2026-03-02", 10) })

	want := []string{
		diff.TypeLivestreamStarted,
		diff.TypeRecordingStarted,
		diff.TypeRecordingUploaded, diff.TypeLivestreamStopped,
		diff.TypeWatchFailing,
		diff.TypeWatchRecovered, diff.TypeRecordingErrored, diff.TypeLivestreamErrored,
		diff.TypeUsageThreshold,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}
