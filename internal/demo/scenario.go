package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// The demo's recording and livestream of the town hall.
const (
	demoRecording  = "rec-town-hall-1"
	demoLivestream = "live-town-hall-1"
)

// step is one scene of the scenario: what the narrator says, what
// changes in the fake API, and which events must arrive for it.
type step struct {
	say     string
	do      func(*rtkfake.Server)
	want    []string // event types, in order; empty: wait for two polls
	meeting string   // whose polls to wait for when want is empty
}

func scenario() []step {
	update := func(meeting string, live int, minutes float64) func(*rtkfake.Server) {
		return func(f *rtkfake.Server) {
			f.UpdateSession(demoApp, meeting, func(s *rtkfake.Session) {
				s.LiveParticipants, s.MinutesConsumed = live, minutes
			})
		}
	}
	return []step{
		{say: "rtkwatchd takes a silent baseline of the meetings, their recordings and livestreams, and the app's usage", meeting: demoTownHall},
		{say: "the town hall goes live with 12 participants", want: []string{diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoTownHall, rtkfake.Session{MeetingDisplayName: "Company Town Hall", LiveParticipants: 12, MinutesConsumed: 1})
			}},
		{say: "it starts recording", want: []string{diff.TypeRecordingStarted},
			do: func(f *rtkfake.Server) {
				f.AddRecording(demoApp, rtkfake.Recording{ID: demoRecording, MeetingID: demoTownHall, MeetingTitle: "Company Town Hall"})
				f.SetRecordingStatus(demoApp, demoRecording, rtkfake.RecordingRecording)
			}},
		{say: "and goes out on a livestream", want: []string{diff.TypeLivestreamStarted},
			do: func(f *rtkfake.Server) {
				f.AddLivestream(demoApp, rtkfake.Livestream{ID: demoLivestream, MeetingID: demoTownHall, Name: "Company Town Hall", Status: rtkfake.LivestreamLive})
			}},
		{say: "people keep joining: 38", do: update(demoTownHall, 38, 6), meeting: demoTownHall},
		{say: "57 participants: past the threshold of 50", do: update(demoTownHall, 57, 12),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "104 participants and 31 minutes consumed", do: update(demoTownHall, 104, 31),
			want: []string{diff.TypeParticipantsThreshold, diff.TypeMinutesThreshold}},
		{say: "97: below 100, but within the hysteresis of 5", do: update(demoTownHall, 97, 40), meeting: demoTownHall},
		{say: "93: below 100 − 5, so the threshold re-arms", do: update(demoTownHall, 93, 48),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "everyone leaves; the session stays LIVE at 0 through its keep-alive", do: update(demoTownHall, 0, 55),
			want: []string{diff.TypeParticipantsThreshold}},
		{say: "still 0 participants, still LIVE: after 2 s of nobody, the session is idle", want: []string{diff.TypeSessionIdle}},
		{say: "the livestream stops", want: []string{diff.TypeLivestreamStopped},
			do: func(f *rtkfake.Server) { f.SetLivestreamStatus(demoApp, demoLivestream, rtkfake.LivestreamIdle) }},
		{say: "the recording stops and is uploaded", want: []string{diff.TypeRecordingUploaded},
			do: func(f *rtkfake.Server) { f.SetRecordingStatus(demoApp, demoRecording, rtkfake.RecordingUploaded) }},
		{say: "the keep-alive runs out and the session ends", want: []string{diff.TypeSessionEnded},
			do: func(f *rtkfake.Server) { f.EndSession(demoApp, demoTownHall) }},
		{say: "a late recording of the town hall fails", want: []string{diff.TypeRecordingErrored},
			do: func(f *rtkfake.Server) {
				f.AddRecording(demoApp, rtkfake.Recording{MeetingID: demoTownHall, MeetingTitle: "Company Town Hall", Status: rtkfake.RecordingErrored})
			}},
		{say: "the stand-up goes live with 5 people", want: []string{diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoStandup, rtkfake.Session{MeetingDisplayName: "Daily Stand-up", LiveParticipants: 5, MinutesConsumed: 1})
			}},
		{say: "the stand-up restarts under a new session id between two polls",
			want: []string{diff.TypeSessionEnded, diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoStandup, rtkfake.Session{MeetingDisplayName: "Daily Stand-up", LiveParticipants: 6, MinutesConsumed: 1})
			}},
		{say: "a webinar goes live, booked for a (demo-sized) slot of 4 s", want: []string{diff.TypeSessionStarted},
			do: func(f *rtkfake.Server) {
				f.StartSession(demoApp, demoWebinar, rtkfake.Session{MeetingDisplayName: "Product Webinar", LiveParticipants: 240, MinutesConsumed: 1})
			}},
		{say: "it runs past its slot", want: []string{diff.TypeDurationCrossed}},
		{say: "the app passes 1,000 minutes today", want: []string{diff.TypeUsageThreshold},
			do: func(f *rtkfake.Server) { f.AddSessionMinutes(demoApp, time.Now().UTC().Format("2006-01-02"), 1000) }},
		{say: "the API answers 500 twice in a row, then recovers",
			want: []string{diff.TypeWatchFailing, diff.TypeWatchRecovered},
			do: func(f *rtkfake.Server) {
				f.SetFault(demoApp, demoStandup, rtkfake.Fault{Kind: rtkfake.ServerError, Times: 2})
			}},
	}
}

// play runs the scenario step by step, printing every event the receiver
// verified.
func play(ctx context.Context, fake *rtkfake.Server, recv *receiver, tl *timeline) error {
	for _, st := range scenario() {
		tl.narrate(st.say)
		before := fake.ActiveSessionRequests(demoApp, st.meeting)
		if st.do != nil {
			st.do(fake)
		}
		sctx, cancel := context.WithTimeout(ctx, demoStepWithin)
		err := playStep(sctx, fake, recv, tl, st, before)
		cancel()
		if err != nil {
			return err
		}
	}
	if n := recv.rejected(); n > 0 {
		return fmt.Errorf("%d deliveries failed signature verification", n)
	}
	return nil
}

func playStep(ctx context.Context, fake *rtkfake.Server, recv *receiver, tl *timeline, st step, before int) error {
	if len(st.want) == 0 {
		// Nothing should happen: wait for two polls after the change, and
		// make sure no event came of them.
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for fake.ActiveSessionRequests(demoApp, st.meeting) < before+2 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("step %q: the daemon did not poll %s: %w", st.say, st.meeting, ctx.Err())
			case ev := <-recv.events:
				tl.event(ev)
				return fmt.Errorf("step %q: unexpected event %s", st.say, ev.event.Type)
			case <-t.C:
			}
		}
		tl.quiet()
		return nil
	}
	for _, want := range st.want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("step %q: no %s event within %s", st.say, want, demoStepWithin)
		case ev := <-recv.events:
			tl.event(ev)
			if ev.event.Type != want {
				return fmt.Errorf("step %q: got %s, want %s", st.say, ev.event.Type, want)
			}
		}
	}
	return nil
}
