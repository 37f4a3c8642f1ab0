package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// TemplateOptions are a chat-like notifier's message template (slack,
// teams, discord, email): Go text/template sources executed over a
// TemplateData. Title replaces the default title (Slack's header, the
// Teams card's heading, the Discord embed's title, the email's subject);
// Text replaces the default text under it (the meeting line, or the
// email's first paragraph). The facts (fields) stay. An empty source keeps
// its default.
type TemplateOptions struct {
	Title string
	Text  string
}

// TemplateData is what a template sees: {{.Type}}, {{.Meeting}},
// {{.Data.live_participants}} and so on.
type TemplateData struct {
	// Type is the event's type, such as "participants.threshold_crossed".
	Type string
	// Timestamp is when the event was observed, in UTC.
	Timestamp time.Time
	// ID and Sequence are the event's data.id and data.sequence.
	ID       string
	Sequence uint64
	// Watch, AppID, MeetingID and SessionID are the event's, or "" when it
	// has none (usage.* has no meeting; notifier.* has none of them).
	Watch     string
	AppID     string
	MeetingID string
	SessionID string
	// Meeting is the meeting's display name, or its id when it has none,
	// or what else the event is about ("app …", "notifier …").
	Meeting string
	// Title is the default title, such as "Participants reached 100".
	Title string
	// Text is the default text: the meeting, its watch, and the error if
	// any, on a few plain lines.
	Text string
	// Error is data.error (watch.failing, notifier.failing), or "".
	Error string
	// Facts are the labelled values the default message shows.
	Facts []Fact
	// Data is the event's whole data object as decoded JSON: strings,
	// float64 numbers, bools, nil, and nested maps and slices. A field an
	// event type does not have is missing: use {{with .Data.threshold}} or
	// {{default "-" .Data.threshold}}.
	Data map[string]any
}

// Fact is one labelled value of TemplateData, in plain text.
type Fact struct {
	// Label names the value: "Participants", "Threshold", "Session" …
	Label string
	// Value is the value as the default message shows it: "104 (was 57)".
	Value string
}

// maxTemplateOutput bounds what one template may write, so that a runaway
// range cannot exhaust memory.
const maxTemplateOutput = 64 << 10

// templateFuncs are the helpers a template may call besides text/template's
// own:
//
//	duration N     seconds as "1h 2m 3s" (any number; "" when not a number)
//	truncate N S   S shortened to N characters, ending in "…"
//	json V         V as compact JSON
//	default D V    V, or D when V is missing, empty or zero
var templateFuncs = template.FuncMap{
	"duration": func(v any) string {
		f, ok := toFloat(v)
		if !ok {
			return ""
		}
		return formatSeconds(int64(math.Round(f)))
	},
	"truncate": func(n int, s string) string {
		return textLimit{max: n, count: countRunes}.fit(s)
	},
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"default": func(def, v any) any {
		if v == nil {
			return def
		}
		if rv := reflect.ValueOf(v); rv.IsZero() {
			return def
		}
		return v
	},
}

// toFloat reads a number of any Go numeric kind, or a numeric string.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return float64(rv.Int()), true
	case rv.CanUint():
		return float64(rv.Uint()), true
	case rv.CanFloat():
		return rv.Float(), true
	}
	return 0, false
}

// Template is a parsed TemplateOptions. A nil *Template renders the
// defaults.
type Template struct {
	title *template.Template // nil: the default
	text  *template.Template // nil: the default
}

// NewTemplate parses opts. The templates are named name+".title" and
// name+".text", so that errors, here and when rendering, say which one and
// where: `template: slack-video.title:1: function "bogus" not defined`.
func NewTemplate(name string, opts TemplateOptions) (*Template, error) {
	t := &Template{}
	var errs []error
	parse := func(part, src string) *template.Template {
		if strings.TrimSpace(src) == "" {
			return nil
		}
		tt, err := template.New(name + "." + part).Funcs(templateFuncs).Parse(src)
		if err != nil {
			errs = append(errs, err)
		}
		return tt
	}
	t.title = parse("title", opts.Title)
	t.text = parse("text", opts.Text)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// RenderSamples renders t against a sample of every event type (see
// SampleEventTypes) and returns every failure, each naming the template,
// its line and the event types it fails on: one error per distinct
// failure, "event session.started: template: …", "events session.started
// and watch.failing: …" or "every event type: …". `check` calls it; a
// template that passes here can still fail on an event that has odd data,
// and Notify then sends the default message instead.
func (t *Template) RenderSamples() error {
	var (
		order  []string             // distinct failures, in the order found
		first  = map[string]error{} // the first error of each
		failed = map[string][]string{}
	)
	types := SampleEventTypes()
	for _, typ := range types {
		body, _ := SampleEvent(typ)
		ev, err := decodeEvent(body)
		if err != nil {
			return fmt.Errorf("sample %s: %w", typ, err) // a bug in the samples
		}
		if _, _, err := t.render(ev); err != nil {
			msg := err.Error()
			if _, ok := first[msg]; !ok {
				order = append(order, msg)
				first[msg] = err
			}
			failed[msg] = append(failed[msg], typ)
		}
	}
	var errs []error
	for _, msg := range order {
		which := failed[msg]
		switch {
		case len(which) == len(types):
			errs = append(errs, fmt.Errorf("every event type: %w", first[msg]))
		case len(which) == 1:
			errs = append(errs, fmt.Errorf("event %s: %w", which[0], first[msg]))
		default:
			list := strings.Join(which[:len(which)-1], ", ") + " and " + which[len(which)-1]
			errs = append(errs, fmt.Errorf("events %s: %w", list, first[msg]))
		}
	}
	return errors.Join(errs...)
}

// render returns the title and text of ev, each from its template or the
// default, trimmed of surrounding white space.
func (t *Template) render(ev event) (title, text string, err error) {
	title, text = ev.title(), ev.plainText()
	if t == nil || (t.title == nil && t.text == nil) {
		return title, text, nil
	}
	data := templateData(ev)
	exec := func(tt *template.Template, def string) (string, error) {
		if tt == nil {
			return def, nil
		}
		var sb limitedBuilder
		if err := tt.Execute(&sb, data); err != nil {
			return "", err
		}
		return strings.TrimSpace(sb.String()), nil
	}
	if title, err = exec(t.title, title); err != nil {
		return "", "", err
	}
	if text, err = exec(t.text, text); err != nil {
		return "", "", err
	}
	return title, text, nil
}

// renderOrDefault is render for Notify: when the template fails on this
// event, the message still goes out, with the default title and text and
// a line saying what went wrong.
func (t *Template) renderOrDefault(ev event) (title, text string) {
	title, text, err := t.render(ev)
	if err != nil {
		return ev.title(), ev.plainText() + "\n(template failed: " + err.Error() + ")"
	}
	return title, text
}

// templateData builds what templates see of ev.
func templateData(ev event) TemplateData {
	td := TemplateData{
		Type:      ev.Type,
		Timestamp: ev.Timestamp.UTC(),
		ID:        ev.d.ID,
		Sequence:  ev.d.Sequence,
		Watch:     ev.d.Watch,
		AppID:     ev.d.AppID,
		MeetingID: ev.d.MeetingID,
		SessionID: ev.d.SessionID,
		Meeting:   ev.subject(),
		Title:     ev.title(),
		Text:      ev.plainText(),
		Error:     ev.d.Error,
		Data:      ev.data,
	}
	for _, f := range ev.facts() {
		td.Facts = append(td.Facts, Fact{Label: f.label, Value: f.value})
	}
	if td.Data == nil {
		td.Data = map[string]any{}
	}
	return td
}

// errTemplateTooLong stops a template that writes more than
// maxTemplateOutput bytes.
var errTemplateTooLong = fmt.Errorf("output longer than %d bytes", maxTemplateOutput)

// limitedBuilder is a strings.Builder that refuses to grow past
// maxTemplateOutput.
type limitedBuilder struct{ strings.Builder }

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTemplateTooLong
	}
	return b.Builder.Write(p)
}
