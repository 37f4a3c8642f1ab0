package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

func TestCheckOnline(t *testing.T) {
	f := newFixture(t, "live-1", "idle-1", "nope")
	f.api.StartSession(testApp, "live-1", rtkfake.Session{})
	f.api.CreateMeeting(testApp, "idle-1")

	t.Run("offline: not asked", func(t *testing.T) {
		r := f.run("check")
		r.wantCode(t, exitOK)
		if !strings.Contains(r.stdout, "meetings (3) not asked of the API: `rtkwatchd check --online` asks whether each exists (3 requests)") {
			t.Errorf("check does not say that the meetings were not asked:\n%s", r.stdout)
		}
		if n := f.api.Counts().Total; n != 0 {
			t.Errorf("check without --online made %d requests", n)
		}
	})
	t.Run("offline: one meeting, one request", func(t *testing.T) {
		one := newFixture(t, "live-1")
		r := one.run("check")
		r.wantCode(t, exitOK)
		if !strings.Contains(r.stdout, "meetings (1) not asked of the API: `rtkwatchd check --online` asks whether each exists (1 request);") {
			t.Errorf("check does not count one request in the singular:\n%s", r.stdout)
		}
	})
	t.Run("an unknown meeting", func(t *testing.T) {
		r := f.run("check", "--online")
		r.wantCode(t, exitUsage)
		r.noSecrets(t)
		if !strings.Contains(squeeze(r.stdout), "meetings (3 checked with the API)\n watches[0].meetings[2] nope does not exist in app app-1\n") {
			t.Errorf("check does not name the unknown meeting:\n%s", r.stdout)
		}
		want := "rtkwatchd: 1 meeting(s) do not exist in their app, so they would never have a session: watches[0].meetings[2] (nope)\n"
		if diff := cmp.Diff(want, r.stderr); diff != "" {
			t.Errorf("stderr (-want +got):\n%s", diff)
		}
		if n := f.api.Counts().Meetings; n != 3 {
			t.Errorf("%d meeting requests; want one per meeting", n)
		}
	})
	t.Run("every one exists", func(t *testing.T) {
		f.api.CreateMeeting(testApp, "nope")
		r := f.run("check", "--online")
		r.wantCode(t, exitOK)
		if !strings.Contains(squeeze(r.stdout), "meetings (3 checked with the API)\n every one exists\n") {
			t.Errorf("check does not say that every meeting exists:\n%s", r.stdout)
		}
	})
	t.Run("the API refuses", func(t *testing.T) {
		f.api.SetFault("", "", rtkfake.Fault{Kind: rtkfake.Unauthorized})
		defer f.api.ClearFault("", "")
		r := f.run("check", "--online")
		r.wantCode(t, exitFailure)
		r.noSecrets(t)
		want := "rtkwatchd: ask the API whether 3 meeting(s) exist: 401 Unauthorized: Authentication error (code 10000)\n"
		if diff := cmp.Diff(want, r.stderr); diff != "" {
			t.Errorf("stderr (-want +got):\n%s", diff)
		}
	})
}

// TestRunReportsUnknownMeetings: the daemon asks at start whether its
// meetings exist, logs each that does not and counts it in
// rtkwatchd_unknown_meetings; a reload asks again about those alone.
func TestRunReportsUnknownMeetings(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "meeting-1", "ghost")
	f.api.CreateMeeting(testApp, "meeting-1")
	f.params.Admin = freeLoopbackAddr(t)
	f.writeConfig()

	d := f.runInProcess(t)
	unknown := func() string {
		res, err := http.Get("http://" + f.params.Admin + "/metrics")
		if err != nil {
			return ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(line, `rtkwatchd_unknown_meetings{watch="town-hall"}`) {
				return strings.TrimSpace(line)
			}
		}
		return ""
	}

	pollUntil(t, 10*time.Second, "the unknown meeting counted", func() bool {
		return unknown() == `rtkwatchd_unknown_meetings{watch="town-hall"} 1`
	})
	named := false
	for line := range strings.Lines(d.log.String()) {
		named = named || strings.Contains(line, `"level":"warn","watch":"town-hall","app":"app-1","meeting":"ghost"`) &&
			strings.Contains(line, `"message":"the meeting does not exist in its app, so it will never have a session: check its id"`)
	}
	if !named {
		t.Errorf("the log does not name the unknown meeting:\n%s", d.log.String())
	}
	if n := f.api.Counts().Meetings; n != 2 {
		t.Errorf("%d meeting requests at start; want 2", n)
	}

	f.api.CreateMeeting(testApp, "ghost")
	d.reload(t)
	pollUntil(t, 10*time.Second, "no unknown meeting after the reload", func() bool {
		return unknown() == `rtkwatchd_unknown_meetings{watch="town-hall"} 0`
	})
	if n := f.api.Counts().Meetings; n != 3 {
		t.Errorf("%d meeting requests in all; want 3: the reload asks about ghost alone", n)
	}
}

// TestCheckOnlineByList: from 10 meetings of an app on, check --online
// reads the app's meetings list and asks only the meeting it lacks.
func TestCheckOnlineByList(t *testing.T) {
	var ids []string
	for i := range 11 {
		ids = append(ids, fmt.Sprintf("m-%02d", i))
	}
	f := newFixture(t, append(ids, "nope")...)
	for _, id := range ids {
		f.api.CreateMeeting(testApp, id)
	}
	r := f.run("check")
	r.wantCode(t, exitOK)
	if !strings.Contains(squeeze(r.stdout), "check 1 request (up to 24 if their apps have many other meetings, or ids are wrong) once at start") {
		t.Errorf("check does not print the check's cost:\n%s", r.stdout)
	}
	r = f.run("check", "--online")
	r.wantCode(t, exitUsage)
	if !strings.Contains(squeeze(r.stdout), "meetings (12 checked with the API)\n watches[0].meetings[11] nope does not exist in app app-1\n") {
		t.Errorf("check does not name the unknown meeting:\n%s", r.stdout)
	}
	if pages, byID := f.api.RouteRequests(rtkfake.RouteMeetings, testApp), f.api.Counts().Meetings; pages != 1 || byID != 1 {
		t.Errorf("%d list pages and %d meetings asked; want 1 and 1 (nope)", pages, byID)
	}
}
