package config

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNotifierWants(t *testing.T) {
	all := Notifier{}
	some := Notifier{Events: []string{"session.started", "watch.failing"}}
	tests := []struct {
		n    Notifier
		typ  string
		want bool
	}{
		{all, "session.ended", true},
		{some, "session.started", true},
		{some, "watch.failing", true},
		{some, "session.ended", false},
	}
	for _, tt := range tests {
		if got := tt.n.Wants(tt.typ); got != tt.want {
			t.Errorf("%v.Wants(%q) = %v, want %v", tt.n.Events, tt.typ, got, tt.want)
		}
	}
}

func TestRedactedURL(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/…"},
		{"http://user:pass@127.0.0.1:8080/hook?token=abc", "http://127.0.0.1:8080/…"},
		{"https://example.com", "https://example.com/…"},
		{"not a url", "[redacted]"},
		{"", "[redacted]"},
	}
	for _, tt := range tests {
		if got := (Notifier{URL: NewSecret(tt.url)}).RedactedURL(); got != tt.want {
			t.Errorf("RedactedURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestNotifierLookup(t *testing.T) {
	cfg := Config{Notifiers: []Notifier{{Name: "ops"}, {Name: "chat"}}}
	if n, ok := cfg.Notifier("chat"); !ok || n.Name != "chat" {
		t.Errorf(`Notifier("chat") = %v, %v`, n, ok)
	}
	if _, ok := cfg.Notifier("pager"); ok {
		t.Error(`Notifier("pager") found a notifier`)
	}
	if diff := cmp.Diff([]string{"ops", "chat"}, (Watch{}).NotifierNames(cfg.Notifiers)); diff != "" {
		t.Errorf("NotifierNames without notify (-want +got):\n%s", diff)
	}
	w := Watch{Notify: []string{"chat"}}
	got := w.NotifierNames(cfg.Notifiers)
	if diff := cmp.Diff([]string{"chat"}, got); diff != "" {
		t.Errorf("NotifierNames with notify (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if w.Notify[0] != "chat" {
		t.Error("NotifierNames returned the watch's own slice")
	}
}

func TestParseSchedule(t *testing.T) {
	from := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		spec string
		next time.Time
		err  string
	}{
		{spec: "@every 30s", next: from.Add(30 * time.Second)},
		{spec: "*/5 * * * * *", next: from.Add(5 * time.Second)},
		{spec: "0 * * * *", next: from.Add(time.Hour)},
		{spec: "@hourly", next: from.Add(time.Hour)},
		{spec: "CRON_TZ=UTC 30 12 * * *", next: from.Add(30 * time.Minute)},
		{spec: "@every 500ms", err: "@every interval must be at least 1s"},
		{spec: "TZ=UTC", err: "time zone without a schedule"},
		{spec: "", err: "empty spec string"},
		{spec: "@evry 1m", err: "unrecognized descriptor: @evry 1m"},
		{spec: "* * *", err: "expected 5 to 6 fields, found 3: [* * *]"},
	}
	for _, tt := range tests {
		s, err := (Watch{Schedule: tt.spec}).ParsedSchedule()
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseSchedule(%q) error = %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.spec, err)
			continue
		}
		if got := s.Next(from.In(time.UTC)); !got.Equal(tt.next) {
			t.Errorf("ParseSchedule(%q).Next(%v) = %v, want %v", tt.spec, from, got, tt.next)
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	problem := errors.New("must be > 0")
	tests := []struct {
		err  *FieldError
		want string
	}{
		{&FieldError{Field: "watches[1].thresholds.participants[0]", Line: 12, Err: problem}, "line 12: watches[1].thresholds.participants[0]: must be > 0"},
		{&FieldError{Field: "watches[1].thresholds.participants[0]", Err: problem}, "watches[1].thresholds.participants[0]: must be > 0"},
		{&FieldError{Line: 3, Err: problem}, "line 3: must be > 0"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, problem) {
			t.Errorf("errors.Is(%v, problem) = false", tt.err)
		}
	}
	errs := Errors{tests[0].err, tests[2].err}
	if got, want := errs.Error(), tests[0].want+"\n"+tests[2].want; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	if !errors.Is(errs, problem) {
		t.Error("errors.Is(Errors, problem) = false")
	}
	var fe *FieldError
	if !errors.As(error(errs), &fe) || fe != tests[0].err {
		t.Errorf("errors.As(Errors, *FieldError) = %v", fe)
	}
}
