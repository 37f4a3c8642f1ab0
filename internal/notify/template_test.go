package notify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTemplateRenders(t *testing.T) {
	tests := []struct {
		name      string
		opts      TemplateOptions
		typ       string
		wantTitle string
		wantText  string
	}{
		{"defaults", TemplateOptions{}, "participants.threshold_crossed",
			"Participants reached 100", "Company Town Hall (watch town-hall)"},
		{"title only", TemplateOptions{Title: "{{.Meeting}}: {{.Data.live_participants}} people"}, "participants.threshold_crossed",
			"Company Town Hall: 104 people", "Company Town Hall (watch town-hall)"},
		{"text only", TemplateOptions{Text: "{{.Type}} #{{.Sequence}} at {{.Timestamp.Format \"15:04\"}}"}, "session.started",
			"Session started", "session.started #3 at 21:00"},
		{"facts", TemplateOptions{Text: "{{range .Facts}}{{.Label}}={{.Value}};{{end}}"}, "watch.recovered",
			"Watch recovered", "Failing for=12m 34s;"},
		{"duration", TemplateOptions{Text: "{{duration .Data.duration_seconds}} / {{duration 59.6}} / [{{duration \"x\"}}]"}, "session.ended",
			"Session ended", "1h 1m 57s / 1m 0s / []"},
		{"truncate", TemplateOptions{Title: "{{truncate 9 .Meeting}}"}, "session.started",
			"Company…", "Company Town Hall (watch town-hall)"},
		{"json", TemplateOptions{Text: "{{json .Data.final.status}} {{json .Data.previous_live_participants}}"}, "session.ended",
			"Session ended", `"ENDED" null`},
		{"thresholds a session ended above", TemplateOptions{Text: "{{with .Data.participant_thresholds_up}}still above {{range $i, $t := .}}{{if $i}}, {{end}}{{$t}}{{end}}{{end}} / {{json .Data.participant_thresholds_up}}"}, "session.ended",
			"Session ended", "still above 50, 100 / [50,100]"},
		{"participant_thresholds_up outside session.ended", TemplateOptions{Text: "{{with .Data.participant_thresholds_up}}above {{.}}{{else}}above none{{end}}"}, "session.started",
			"Session started", "above none"},
		{"default", TemplateOptions{Text: "{{default \"none\" .Data.threshold}} {{default \"none\" .Data.error}} {{default 0 .Data.sequence}}"}, "watch.failing",
			"Watch failing", "none server: status 503 Service Unavailable 3"},
		{"with on a missing field", TemplateOptions{Text: "{{with .Data.threshold}}T={{.}}{{else}}no threshold{{end}}"}, "session.started",
			"Session started", "no threshold"},
		{"usage data", TemplateOptions{Title: "{{.Data.period}} {{.Data.minutes}} of {{.Data.threshold_minutes}}"}, "usage.threshold_crossed",
			"day 10012.5 of 10000", "app 3f1a0000-0000-4000-8000-00000000a991"},
		{"trims white space", TemplateOptions{Title: "\n  {{.Watch}}  \n"}, "session.started", "town-hall", "Company Town Hall (watch town-hall)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := NewTemplate("slack-video", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := decodeEvent(sample(t, tt.typ))
			if err != nil {
				t.Fatal(err)
			}
			title, text, err := tm.render(ev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantTitle, tt.wantText}, []string{title, text}); diff != "" {
				t.Errorf("title, text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewTemplateErrors(t *testing.T) {
	tests := []struct {
		opts TemplateOptions
		want []string
	}{
		{TemplateOptions{Title: "{{.Meeting"}, []string{"template: slack-video.title:1: unclosed action"}},
		{TemplateOptions{Text: "line one\n{{bogus .Meeting}}"}, []string{`template: slack-video.text:2: function "bogus" not defined`}},
		{TemplateOptions{Title: "{{end}}", Text: "{{if}}"}, []string{"template: slack-video.title:1:", "template: slack-video.text:1:"}},
	}
	for _, tt := range tests {
		_, err := NewTemplate("slack-video", tt.opts)
		if err == nil {
			t.Errorf("NewTemplate(%+v) succeeded", tt.opts)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewTemplate(%+v) error %q, want it to contain %q", tt.opts, err, w)
			}
		}
	}
}

// TestRenderSamples finds the template that fails on some event types,
// naming the template, its line and each type it fails on.
func TestRenderSamples(t *testing.T) {
	good, err := NewTemplate("ok", TemplateOptions{Title: "{{.Title}} {{.Meeting}}", Text: "{{with .Data.threshold}}{{duration .}}{{end}}{{.Text}}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := good.RenderSamples(); err != nil {
		t.Errorf("RenderSamples of a good template: %v", err)
	}
	var none *Template
	if err := none.RenderSamples(); err != nil {
		t.Errorf("RenderSamples of no template: %v", err)
	}

	// .Data.final is a map only on session.ended: .status of nil fails on
	// no type, but index of a missing map fails on every other.
	bad, err := NewTemplate("mail", TemplateOptions{Text: "ok\n{{index .Data.final \"status\"}}"})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.RenderSamples()
	if err == nil {
		t.Fatal("RenderSamples of a failing template succeeded")
	}
	// One failure, on every type but session.ended, said once.
	var others []string
	for _, typ := range SampleEventTypes() {
		if typ != "session.ended" {
			others = append(others, typ)
		}
	}
	want := "events " + strings.Join(others[:len(others)-1], ", ") + " and " + others[len(others)-1] +
		`: template: mail.text:2:2: executing "mail.text" at <index .Data.final "status">: error calling index: index of untyped nil`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("RenderSamples error (-want +got):\n%s", diff)
	}

	// Failures that differ are each said once; one on every type says so.
	two, err := NewTemplate("chat", TemplateOptions{Title: "{{.Nope}}", Text: "{{if eq .Type \"watch.failing\"}}{{index .Data.final \"x\"}}{{end}}"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(two.RenderSamples().Error(), "\n")
	wantLines := []string{
		`every event type: template: chat.title:1:2: executing "chat.title" at <.Nope>: can't evaluate field Nope in type notify.TemplateData`,
	}
	if diff := cmp.Diff(wantLines, got); diff != "" {
		t.Errorf("RenderSamples error lines (-want +got):\n%s", diff)
	}
	single, err := NewTemplate("chat", TemplateOptions{Text: "{{if eq .Type \"watch.failing\"}}{{index .Data.final \"x\"}}{{end}}"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := single.RenderSamples().Error(), "event watch.failing: template: chat.text:1:"; !strings.HasPrefix(got, want) {
		t.Errorf("RenderSamples = %q, want it to start with %q", got, want)
	}
}

// TestTemplateFailureSendsDefault renders an event on which the template
// fails: the message still goes out, with the defaults and the error.
func TestTemplateFailureSendsDefault(t *testing.T) {
	tm, err := NewTemplate("slack-video", TemplateOptions{Title: `{{index .Data.final "status"}}`})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := decodeEvent(sample(t, "session.started"))
	if err != nil {
		t.Fatal(err)
	}
	title, text := tm.renderOrDefault(ev)
	if title != "Session started" || !strings.Contains(text, "(template failed: template: slack-video.title:1:") {
		t.Errorf("renderOrDefault = %q, %q", title, text)
	}
}

func TestTemplateOutputIsBounded(t *testing.T) {
	tm, err := NewTemplate("slack-video", TemplateOptions{Text: `{{range $i := .Facts}}{{range $.Facts}}{{printf "%100000s" "x"}}{{end}}{{end}}`})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := decodeEvent(sample(t, "session.ended"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tm.render(ev); err == nil || !strings.Contains(err.Error(), "output longer than") {
		t.Errorf("render of a runaway template: %v", err)
	}
}

// TestSlackTemplate renders a Slack message with a template: its title
// heads the message, its text replaces the meeting line, escaped.
func TestSlackTemplate(t *testing.T) {
	tm, err := NewTemplate("slack-video", TemplateOptions{Title: "{{.Meeting}} is live", Text: "<!here> {{.Data.current.live_participants}} in *{{.Meeting}}*"})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := renderSlack(sample(t, "session.started"), tm)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "slack/template.json", indentJSON(t, payload))
}
