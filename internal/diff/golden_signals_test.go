package diff

import (
	"testing"
	"time"
)

// TestGoldenSignalEvents pins the JSON of one event of each type of SPEC §8,
// and of the events that gained fields with them. Refresh with
// go test ./internal/diff -run Golden -update.
func TestGoldenSignalEvents(t *testing.T) {
	// byName keeps the first event of each name: its type, with the signal
	// of a failing list, or "estimated_cost" for a session.ended with one.
	byName := map[string]Event{}
	collect := func(evs []Event) {
		for _, e := range evs {
			name := e.Type
			switch {
			case e.Data.Signal != "":
				name += "." + e.Data.Signal
			case e.Type == TypeSessionEnded && e.Data.EstimatedCost != nil:
				name += ".estimated_cost"
			}
			if _, ok := byName[name]; !ok {
				byName[name] = e
			}
		}
	}

	// Duration and idle, from Apply.
	rules := Rules{
		DurationThresholds: []time.Duration{time.Hour}, Idle: IdleRule{Participants: 0, For: 15 * time.Minute},
		FailingAfter: 1, PricePerParticipantMinute: 0.002,
	}
	s1 := liveSession("b0b0e1a5-0000-4000-8000-000000000001", 3, 590)
	quiet := *s1
	quiet.LiveParticipants, quiet.MinutesConsumed = 0, 640
	final := quiet
	final.Status, final.EndedAt, final.MinutesConsumed = StatusEnded, at(4000).Format(time.RFC3339), 655.5
	_, steps := play(t, rules, Snapshot{},
		sessionObs(2400, s1),     // baseline, 40 minutes in
		sessionObs(3000, &quiet), // idle from here
		sessionObs(3600, &quiet), // duration crossed
		sessionObs(3900, &quiet), // idle
		Observation{Kind: ObservedNoSession, At: at(4020), Final: &final}, // ended, with estimated_cost
	)
	for _, evs := range steps {
		collect(evs)
	}

	// Recordings and livestreams.
	mr := MediaRules{FailingAfter: 1}
	recording := func(status string) Recording {
		return Recording{
			ID: "0f3c2a9e-0000-4000-8000-00000000000a", MeetingID: testMeeting.MeetingID, MeetingTitle: "Company Town Hall",
			SessionID: "b0b0e1a5-0000-4000-8000-000000000001", Status: status, InvokedAt: at(60), StartedAt: at(65),
		}
	}
	rs, _, _ := ApplyRecordings(testWatch, MediaState{}, recObs(0), mr)
	for _, obs := range []RecordingsObservation{
		recObs(70, recording(RecordingRecording)),
		recFailure(80, FailureServer, 502),
		recObs(90, recording(RecordingUploaded)),
		recObs(100, Recording{ID: "0f3c2a9e-0000-4000-8000-00000000000b", MeetingID: testMeeting.MeetingID, MeetingTitle: "Company Town Hall",
			Status: RecordingErrored, InvokedAt: at(95)}),
	} {
		var evs []Event
		rs, evs, _ = ApplyRecordings(testWatch, rs, obs, mr)
		collect(evs)
	}
	stream := func(status string, n int) Livestream {
		return Livestream{ID: "7d1e4b20-0000-4000-8000-00000000000c", MeetingID: testMeeting.MeetingID, Name: "Company Town Hall",
			Status: status, CreatedAt: at(0), UpdatedAt: at(n)}
	}
	lsState, _, _ := ApplyLivestreams(testWatch, MediaState{}, lsObs(0), mr)
	for _, obs := range []LivestreamsObservation{
		lsObs(10, stream(LivestreamLive, 10)),
		lsObs(20, stream(LivestreamIdle, 20)),
		lsObs(30, stream(LivestreamErrored, 30)),
	} {
		var evs []Event
		lsState, evs, _ = ApplyLivestreams(testWatch, lsState, obs, mr)
		collect(evs)
	}

	// Usage.
	ur := UsageRules{DailyMinutes: []float64{10000}, PricePerParticipantMinute: 0.002}
	us, _, _ := ApplyUsage(testApp, UsageState{}, usageObs("2026-11-25T08:00:00", day("2026-11-25", 100)), ur)
	_, evs, _ := ApplyUsage(testApp, us, usageObs("2026-11-25T21:00:00", day("2026-11-24", 9000), day("2026-11-25", 10250.5)), ur)
	collect(evs)

	names := append([]string{"session.ended.estimated_cost", "watch.failing.recordings", "watch.recovered.recordings"}, SignalEventTypes...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			e, ok := byName[name]
			if !ok {
				t.Fatalf("the scenarios emitted no %s", name)
			}
			checkGolden(t, name, e)
		})
	}
}
