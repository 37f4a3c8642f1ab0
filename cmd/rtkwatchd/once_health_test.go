package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// TestOnceHealth runs the app-wide signals through the CLI as a new user
// would: a silent first run (the usage block's day already past its
// threshold), then one event of each list, printed, signed and delivered
// once, and nothing the run after; `state` names the lists' records and
// `check` the usage block's read.
func TestOnceHealth(t *testing.T) {
	f := newFixture(t)
	f.params.Health = true
	f.writeConfig()
	today := time.Now().UTC().Format("2006-01-02")
	f.api.AddSessionMinutes(testApp, today, 120) // past the threshold already: the baseline keeps quiet
	wantTypes(t, nil, f.once())

	f.api.AddRecording(testApp, rtkfake.Recording{ID: "rec-1", MeetingID: "meeting-1", Status: rtkfake.RecordingRecording})
	f.api.AddRecording(testApp, rtkfake.Recording{ID: "rec-2", MeetingID: "meeting-2", Status: rtkfake.RecordingRecording}) // not watched
	f.api.AddLivestream(testApp, rtkfake.Livestream{ID: "ls-1", MeetingID: "meeting-1", Name: "Town Hall", Status: rtkfake.LivestreamLive})
	evs := f.once()
	wantTypes(t, []string{diff.TypeRecordingStarted, diff.TypeLivestreamStarted}, evs)
	for _, ev := range evs {
		wantMeeting(t, ev, "meeting-1", 1) // numbered per list
	}
	if d := evs[0].Data; d.RecordingID != "rec-1" || d.Status != "RECORDING" || d.PreviousStatus == nil || *d.PreviousStatus != "" {
		t.Errorf("recording.started data %+v", d)
	}
	if d := evs[1].Data; d.LivestreamID != "ls-1" || d.MeetingDisplayName != "Town Hall" {
		t.Errorf("livestream.started data %+v", d)
	}
	wantDelivered(t, evs, f.hook.take())
	wantTypes(t, nil, f.once())

	r := f.run("state")
	r.wantCode(t, exitOK)
	for _, want := range []string{"(recordings list)", "(livestreams list)", "usage:app-1", "(usage)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("state lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := f.run("check"); !strings.Contains(squeeze(r.stdout), "app-1 usage usage block @every 10m 1 daily 100 min; price 0.01 per participant minute ops") {
		t.Errorf("check does not show the usage block's read:\n%s", r.stdout)
	}
}
