package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/silence"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// seedHistory commits n events of meeting-1 of town-hall, one a minute
// up to now, evt_0 the oldest, each queued for ops; odd ones are
// session.ended. It returns the time of the newest.
func seedHistory(t *testing.T, path string, n int) time.Time {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	var evs []store.NewEvent
	for i := range n {
		typ := "session.started"
		if i%2 == 1 {
			typ = "session.ended"
		}
		evs = append(evs, store.NewEvent{ID: fmt.Sprintf("evt_%d", i), Type: typ, CreatedAt: now.Add(time.Duration(i-n+1) * time.Minute),
			Body: []byte(`{}`), Notifiers: []string{"ops"}})
	}
	if err := st.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "town-hall", MeetingID: "meeting-1"}, Snapshot: []byte(`{}`), Events: evs}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return now
}

// TestEventsListing: `events` pages, filters and refuses bad flags, from
// the store itself and through the daemon alike.
func TestEventsListing(t *testing.T) {
	t.Parallel()
	for _, viaDaemon := range []bool{false, true} {
		t.Run(fmt.Sprintf("via daemon=%v", viaDaemon), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			newest := seedHistory(t, f.params.StorePath, 1100)
			if viaDaemon {
				standInForDaemon(t, f)
			}
			r := f.run("events")
			r.wantCode(t, exitOK)
			lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
			more := lines[len(lines)-1]
			rows := parseTable(t, strings.Join(lines[:len(lines)-1], "\n"))
			if len(rows) != 100 || rows[0]["EVENT"] != "evt_0" || rows[99]["EVENT"] != "evt_99" || !strings.HasPrefix(more, "more: rtkwatchd events --after ") {
				t.Fatalf("events: %d rows from %s, last line %q; want 100 from evt_0 and the next page", len(rows), rows[0]["EVENT"], more)
			}
			args := strings.Fields(strings.TrimPrefix(more, "more: rtkwatchd events "))
			r = f.run("events", append(args, "--limit", "1000")...)
			r.wantCode(t, exitOK)
			if rows := parseTable(t, r.stdout); len(rows) != 1000 || rows[0]["EVENT"] != "evt_100" || rows[999]["EVENT"] != "evt_1099" {
				t.Errorf("the next page: %d rows from %s, want 1000 from evt_100 to evt_1099, and no more", len(rows), rows[0]["EVENT"])
			}
			// Since is inclusive: evt_1089, created at it, is listed;
			// evt_1089 to evt_1099 hold 6 ends.
			since := newest.Add(-10 * time.Minute)
			r = f.run("events", "--since", since.UTC().Format(time.RFC3339), "--type", "session.ended", "--limit", "1000")
			r.wantCode(t, exitOK)
			if rows := parseTable(t, r.stdout); len(rows) != 6 || rows[0]["EVENT"] != "evt_1089" || rows[0]["QUEUED FOR"] != "ops" || rows[0]["SILENCED FOR"] != "-" {
				t.Errorf("events --since %s --type session.ended: %v, want 6 from evt_1089", since, rows)
			}
			r = f.run("events", "--since", since.Add(time.Second).UTC().Format(time.RFC3339), "--type", "session.ended")
			r.wantCode(t, exitOK)
			if rows := parseTable(t, r.stdout); len(rows) != 5 || rows[0]["EVENT"] != "evt_1091" {
				t.Errorf("events a second later: %v, want 5 from evt_1091", rows)
			}
			if r := f.run("events", "--meeting", "other"); r.stdout != "no events\n" {
				t.Errorf("events of another meeting printed %q, want \"no events\"", r.stdout)
			}
			for _, args := range [][]string{
				{"--since", "yesterday"}, {"--since", "-2h"}, {"--limit", "0"}, {"--after", "zz"},
				{"--notifier", "ops"}, {"bogus"}, {"replay", "--notifier", "ops", "--json", "evt_1"},
				{"replay", "--notifier", "ops", "--since", "1h", "evt_1"}, {"replay", "evt_1"},
			} {
				f.run("events", args...).wantCode(t, exitUsage)
			}
		})
	}
}

// TestSilenceCommandErrors: bad requests are usage errors that say what
// is wrong, and change nothing.
func TestSilenceCommandErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "want add, list or remove"},
		{[]string{"mute"}, `unknown subcommand "mute"`},
		{[]string{"add", "--for", "1h"}, "--watch is required"},
		{[]string{"add", "--watch", "town-hall"}, "--for is required"},
		{[]string{"add", "--watch", "town-hall", "--for", "-1h"}, "--for is required"},
		{[]string{"add", "--watch", "nope", "--for", "1h"}, `unknown watch "nope"`},
		{[]string{"add", "--watch", "town-hall", "--notifier", "nope", "--for", "1h"}, `unknown notifier "nope"`},
		{[]string{"list", "--watch", "town-hall"}, "--watch goes with add"},
		{[]string{"remove"}, "want one silence ID"},
		{[]string{"remove", "x"}, `"x" is not a silence ID`},
		{[]string{"remove", "7"}, "silence 7: no such silence"},
	} {
		r := f.run("silence", tt.args...)
		r.wantCode(t, exitUsage)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("silence %v said %q, want %q", tt.args, r.stderr, tt.want)
		}
	}
	r := f.run("silence", "list")
	r.wantCode(t, exitOK)
	if r.stdout != "no ad hoc silences\n" {
		t.Errorf("silence list printed %q", r.stdout)
	}
}

// TestPrintWindows: check and silence list show each window's next start
// and end in its zone and in UTC, across a change of the clocks.
func TestPrintWindows(t *testing.T) {
	cfg := &config.Config{Silences: []config.Silence{
		{Name: "nightly", Watches: []string{"town-hall"}, Schedule: "30 2 * * *", Duration: time.Hour, Timezone: "Europe/Berlin"},
		{Name: "weekly", Notifiers: []string{"ops"}, Schedule: "0 0 * * 0", Duration: 24 * time.Hour},
		{Name: "never", Schedule: "0 0 30 2 *", Duration: time.Hour},
	}}
	windows, err := silence.Windows(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	// Saturday evening before the clocks go forward: no 02:30 on Sunday
	// in Berlin, so the next window is Monday's; weekly is not in force
	// until Sunday 00:00 UTC.
	printWindows(&b, windows, time.Date(2026, 3, 28, 20, 0, 0, 0, time.UTC))
	want := `
silences (3)
  NAME     WATCHES    NOTIFIERS  NOW  NEXT WINDOW                                       IN UTC
  nightly  town-hall  (all)      -    2026-03-30 02:30 CEST → 2026-03-30 03:30 CEST (Europe/Berlin)  2026-03-30T00:30:00Z
  weekly   (all)      ops        -    2026-03-29 00:00 UTC → 2026-03-30 00:00 UTC (UTC)             2026-03-29T00:00:00Z
  never    (all)      (all)      -    never (the schedule matches no date)  -
`
	if squeeze(b.String()) != squeeze(want) {
		t.Errorf("printWindows printed\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printWindows(&b, windows, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC))
	if !strings.Contains(b.String(), "weekly   (all)      ops        silenced") {
		t.Errorf("at the start of weekly's window it printed\n%s\nwant it in force", b.String())
	}
}
