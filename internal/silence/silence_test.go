package silence

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
)

// window returns the window of a config silence, failing the test when it
// does not parse.
func window(t *testing.T, s config.Silence) Window {
	t.Helper()
	sched, loc, err := s.Window()
	if err != nil {
		t.Fatal(err)
	}
	return Window{Name: s.Name, Watches: s.Watches, Notifiers: s.Notifiers, Schedule: sched, Duration: s.Duration, Location: loc}
}

func TestSilencedEdges(t *testing.T) {
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	nightly := window(t, config.Silence{Name: "nightly", Watches: []string{"w"}, Notifiers: []string{"slack"},
		Schedule: "0 2 * * *", Duration: time.Hour})
	adhoc := AdHoc{Watch: "w", Notifier: "ops", Start: start.Add(10 * time.Hour), End: start.Add(12 * time.Hour)}
	all := AdHoc{Watch: "x", Start: start, End: start.Add(time.Minute)}
	set := Set{Windows: []Window{nightly}, AdHoc: []AdHoc{adhoc, all}}
	notifiers := []string{"ops", "slack", "mail"}
	tests := []struct {
		name  string
		at    time.Time
		watch string
		want  []string
	}{
		{"window: a nanosecond before it starts", start.Add(-1), "w", nil},
		{"window: at its start", start, "w", []string{"slack"}},
		{"window: a nanosecond before its end", start.Add(time.Hour - 1), "w", []string{"slack"}},
		{"window: at its end", start.Add(time.Hour), "w", nil},
		{"window: the next day's start", start.Add(24 * time.Hour), "w", []string{"slack"}},
		{"window: another watch", start, "v", nil},
		{"ad hoc: a nanosecond before it starts", adhoc.Start.Add(-1), "w", nil},
		{"ad hoc: at its start", adhoc.Start, "w", []string{"ops"}},
		{"ad hoc: a nanosecond before its end", adhoc.End.Add(-1), "w", []string{"ops"}},
		{"ad hoc: at its end", adhoc.End, "w", nil},
		{"ad hoc without notifier: every notifier", start, "x", notifiers},
		{"ad hoc without notifier: at its end", all.End, "x", nil},
		{"ad hoc: another watch", adhoc.Start, "v", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Silenced(tt.at, set, tt.watch, notifiers)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Silenced(%s, %s) (-want +got):\n%s", tt.at.Format(time.RFC3339Nano), tt.watch, diff)
			}
		})
	}
}

func TestWindowAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w := window(t, config.Silence{Name: "n", Schedule: "30 2 * * *", Duration: 30 * time.Minute, Timezone: "Europe/Berlin"})
	utc := func(d, h, m int, month time.Month) time.Time { return time.Date(2026, month, d, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		// Before the change, 02:30 CET is 01:30 UTC.
		{"March 28, 02:30 CET", utc(28, 1, 30, time.March), true},
		{"March 28, 02:29:59.999 CET", utc(28, 1, 30, time.March).Add(-1), false},
		{"March 28, 03:00 CET (end)", utc(28, 2, 0, time.March), false},
		// March 29 has no 02:30 in Berlin (02:00 CET → 03:00 CEST): no window.
		{"March 29, 01:30 UTC (would be 02:30 CET)", utc(29, 1, 30, time.March), false},
		{"March 29, 00:30 UTC (02:30 CEST)", utc(29, 0, 30, time.March), false},
		// After it, 02:30 CEST is 00:30 UTC.
		{"March 30, 02:30 CEST", utc(30, 0, 30, time.March), true},
		{"March 30, 02:59:59.999 CEST", utc(30, 1, 0, time.March).Add(-1), true},
		{"March 30, 03:00 CEST (end)", utc(30, 1, 0, time.March), false},
		// October 25 has 02:30 twice: CEST (00:30 UTC), then CET (01:30 UTC).
		{"October 25, first 02:30 (CEST)", utc(25, 0, 30, time.October), true},
		{"October 25, first end (02:00 CET)", utc(25, 1, 0, time.October), false},
		{"October 25, second 02:30 (CET)", utc(25, 1, 30, time.October), true},
		{"October 25, second 02:59:59.999", utc(25, 2, 0, time.October).Add(-1), true},
		{"October 25, 03:00 CET (end)", utc(25, 2, 0, time.October), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Active(tt.at); got != tt.want {
				t.Errorf("Active(%s = %s) = %v, want %v", tt.at.Format(time.RFC3339Nano), tt.at.In(berlin).Format(time.RFC3339Nano), got, tt.want)
			}
		})
	}
	// The next window after the evening before each change.
	for _, tc := range []struct{ after, start, end string }{
		{"2026-03-28T20:00:00Z", "2026-03-30T02:30:00+02:00", "2026-03-30T03:00:00+02:00"},
		// 30 minutes after 02:30 CEST is 02:00 CET: the duration is elapsed time.
		{"2026-10-24T20:00:00Z", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00"},
		{"2026-10-25T00:30:00Z", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"},
	} {
		after, _ := time.Parse(time.RFC3339, tc.after)
		s, e := w.Next(after)
		if got := s.Format(time.RFC3339) + " " + e.Format(time.RFC3339); got != tc.start+" "+tc.end {
			t.Errorf("Next(%s) = %s, want %s %s", tc.after, got, tc.start, tc.end)
		}
	}
}

func TestWindowsOfConfig(t *testing.T) {
	cfg := &config.Config{Silences: []config.Silence{{Name: "a", Schedule: "0 2 * * *", Duration: time.Hour, Timezone: "America/New_York"}}}
	ws, err := Windows(cfg)
	if err != nil || len(ws) != 1 || ws[0].Location.String() != "America/New_York" || ws[0].Duration != time.Hour {
		t.Fatalf("Windows = %+v, %v", ws, err)
	}
	cfg.Silences[0].Schedule = "@every 1h"
	if _, err := Windows(cfg); err == nil {
		t.Error("Windows of an @every silence succeeded, want an error")
	}
}

// TestSilencedNoWatch: an event of no watch (notifier.failing) is held only
// by windows that name no watches, from the notifiers they name, at the
// same edges as any event; windows naming watches and ad hoc silences,
// which always name one, never hold it.
func TestSilencedNoWatch(t *testing.T) {
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	named := window(t, config.Silence{Name: "named", Watches: []string{"w"}, Schedule: "0 2 * * *", Duration: time.Hour})
	mail := window(t, config.Silence{Name: "mail", Notifiers: []string{"mail"}, Schedule: "0 2 * * *", Duration: time.Hour})
	everything := window(t, config.Silence{Name: "everything", Schedule: "0 5 * * *", Duration: time.Hour})
	adhoc := []AdHoc{
		{Watch: "w", Start: start, End: start.Add(24 * time.Hour)},
		{Watch: NoWatch, Start: start, End: start.Add(24 * time.Hour)}, // the store refuses it; held() too
	}
	set := Set{Windows: []Window{named, mail, everything}, AdHoc: adhoc}
	notifiers := []string{"ops", "slack", "mail"}
	tests := []struct {
		name string
		at   time.Time
		want []string
	}{
		{"a nanosecond before the window of every watch", start.Add(-1), nil},
		{"at its start: its notifier only", start, []string{"mail"}},
		{"a nanosecond before its end", start.Add(time.Hour - 1), []string{"mail"}},
		{"at its end: the ad hoc silence and the named window do not hold it", start.Add(time.Hour), nil},
		{"a window of everything: every notifier", start.Add(3 * time.Hour), notifiers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Silenced(tt.at, set, NoWatch, notifiers)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Silenced(%s, no watch) (-want +got):\n%s", tt.at.Format(time.RFC3339Nano), diff)
			}
		})
	}
	// The same instants hold an event of watch w from every notifier.
	if got := Silenced(start.Add(time.Hour), set, "w", notifiers); cmp.Diff(notifiers, got) != "" {
		t.Errorf("Silenced(watch w) = %v, want every notifier (the ad hoc silence of w)", got)
	}
}
