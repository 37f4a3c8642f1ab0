package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDemo plays `rtkwatchd demo` in-process, on the real daemon, and
// compares what the timeline shows, timings left out. It takes about 30 s.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the whole demo (about 30 s)")
	}
	t.Parallel()
	r := runCLI(t, nil, "demo")
	r.wantCode(t, exitOK)
	var got []string
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "rtkwatchd demo: a fake RealtimeKit API at http://127.0.0.1:") {
		t.Errorf("first line %q, want the title", lines[0])
	}
	for _, l := range lines[1:] {
		switch f := strings.Fields(l); {
		case strings.HasPrefix(l, "▸ "):
			got = append(got, l)
		case l == "  (no event)":
			got = append(got, "-")
		case strings.HasPrefix(l, "  +") && len(f) > 3 && strings.HasSuffix(l, "✓ signed "+f[len(f)-1]):
			got = append(got, f[1]+" "+f[2]+" "+f[len(f)-1])
		case strings.HasPrefix(l, "done: "):
			got = append(got, strings.Join(f[:3], " "))
		}
	}
	want := []string{
		"▸ rtkwatchd takes a silent baseline of the meetings, their recordings and livestreams, and the app's usage", "-",
		"▸ the town hall goes live with 12 participants", "session.started town-hall #1",
		"▸ it starts recording", "recording.started town-hall #1",
		"▸ and goes out on a livestream", "livestream.started town-hall #1",
		"▸ people keep joining: 38", "-",
		"▸ 57 participants: past the threshold of 50", "participants.threshold_crossed town-hall #2",
		"▸ 104 participants and 31 minutes consumed",
		"participants.threshold_crossed town-hall #3", "minutes.threshold_crossed town-hall #4",
		"▸ 97: below 100, but within the hysteresis of 5", "-",
		"▸ 93: below 100 − 5, so the threshold re-arms", "participants.threshold_crossed town-hall #5",
		"▸ everyone leaves; the session stays LIVE at 0 through its keep-alive", "participants.threshold_crossed town-hall #6",
		"▸ still 0 participants, still LIVE: after 2 s of nobody, the session is idle", "session.idle town-hall #7",
		"▸ the livestream stops", "livestream.stopped town-hall #2",
		"▸ the recording stops and is uploaded", "recording.uploaded town-hall #2",
		"▸ the keep-alive runs out and the session ends", "session.ended town-hall #8",
		"▸ a late recording of the town hall fails", "recording.errored town-hall #3",
		"▸ the stand-up goes live with 5 people", "session.started standup #1",
		"▸ the stand-up restarts under a new session id between two polls",
		"session.ended standup #2", "session.started standup #3",
		"▸ a webinar goes live, booked for a (demo-sized) slot of 4 s", "session.started webinar #1",
		"▸ it runs past its slot", "session.duration_crossed webinar #2",
		"▸ the app passes 1,000 minutes today", "usage.threshold_crossed usage #1",
		"▸ the API answers 500 twice in a row, then recovers", "watch.failing standup #4", "watch.recovered standup #5",
		"done: 21 events",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo timeline (-want +got):\n%s\nstdout:\n%s", diff, r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("the timeline is styled although stdout is not a terminal")
	}
}
