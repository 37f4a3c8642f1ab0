package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
)

// PagerDutyEventsURL is where Events API v2 events go unless configured
// otherwise.
const PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// pdSeverities are the severities PagerDuty accepts.
var pdSeverities = []string{"critical", "error", "warning", "info"}

// PagerDutyOptions configure a PagerDuty notifier.
type PagerDutyOptions struct {
	// Name is the notifier's configured name.
	Name string
	// RoutingKey is the integration key of an Events API v2 integration.
	// It is a secret: it appears in no error and no log.
	RoutingKey string
	// URL receives the events; PagerDutyEventsURL when empty.
	URL string
	// Severity of the alerts: critical, error, warning or info; "warning"
	// when empty.
	Severity string
	// Source is payload.source, the affected system; "rtkwatchd" when
	// empty.
	Source string
	// Component is payload.component; when empty, the meeting's name (or
	// id, or the app of a usage event).
	Component string
	// Group is payload.group; when empty, the event's watch.
	Group string
	// Class is payload.class; when empty, the event's type.
	Class string
	// CustomDetails are added to every trigger's custom_details, beside the
	// event's own facts (which win on a name clash).
	CustomDetails map[string]string
	// UserAgent is the user-agent header; "rtkwatchd" when empty.
	UserAgent string
	// Client makes the requests; when nil, a client that does not follow
	// redirects.
	Client *http.Client
	// Now is the clock used to read Retry-After dates; time.Now when nil.
	Now func() time.Time
}

// PagerDuty sends events to the PagerDuty Events API v2, so that incidents
// open and resolve themselves: see pagerDutyActions for which event
// triggers or resolves which condition, under which dedup_key. An event
// that asks for no PagerDuty action (session.started, for one) succeeds
// at once and sends nothing. When an event asks for two actions (a
// participants threshold crossed up also resolves the session's idle
// incident), they are sent in order, and a retry sends both again, which
// PagerDuty takes as the same alert.
//
// A 2xx is success (PagerDuty answers 202); 408, 429 (after any
// Retry-After) and 5xx are retried; 400 (an invalid event) and any other
// status are dead letters. It is safe for concurrent use.
type PagerDuty struct {
	httpTarget
	key  string
	opts PagerDutyOptions
}

// NewPagerDuty checks opts and returns a PagerDuty notifier. Its errors
// never repeat the routing key or the URL.
func NewPagerDuty(opts PagerDutyOptions) (*PagerDuty, error) {
	if opts.URL == "" {
		opts.URL = PagerDutyEventsURL
	}
	h, err := newHTTPTarget("pagerduty", opts.Name, opts.URL, opts.UserAgent, opts.Client, opts.Now)
	if err != nil {
		return nil, err
	}
	if err := checkRoutingKey(opts.RoutingKey); err != nil {
		return nil, fmt.Errorf("pagerduty %s: routing key %w", opts.Name, err)
	}
	h.url.addSecret(opts.RoutingKey)
	if opts.Severity == "" {
		opts.Severity = "warning"
	}
	if !slices.Contains(pdSeverities, opts.Severity) {
		return nil, fmt.Errorf("pagerduty %s: severity %q: must be one of %s", opts.Name, opts.Severity, strings.Join(pdSeverities, ", "))
	}
	if opts.Source == "" {
		opts.Source = defaultUserAgent
	}
	return &PagerDuty{httpTarget: h, key: opts.RoutingKey, opts: opts}, nil
}

// checkRoutingKey rejects an empty key and one with spaces or control
// characters (a stray newline from a file, say). Its errors never quote
// the key.
func checkRoutingKey(k string) error {
	if k == "" {
		return errors.New("is empty")
	}
	if strings.IndexFunc(k, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("contains white space or control characters")
	}
	return nil
}

// Notify sends the PagerDuty events that m.Body (an event) asks for, once
// each, and stops at the first failure.
func (p *PagerDuty) Notify(ctx context.Context, m Message) Result {
	ev, err := decodeEvent(m.Body)
	if err != nil {
		return Result{Err: fmt.Errorf("pagerduty: %w", err)}
	}
	var res Result
	for _, a := range pagerDutyActions(ev) {
		payload, err := json.Marshal(p.event(ev, a))
		if err != nil {
			return Result{Err: fmt.Errorf("encode pagerduty event: %w", err)}
		}
		if res, _ = p.post(ctx, "", payload); res.Err != nil {
			return res
		}
	}
	return res
}

// Actions lists the Events API actions ("trigger", "resolve") that Notify
// sends for body (an event), in order: none for an event that asks for no
// PagerDuty action, or that does not decode.
func (p *PagerDuty) Actions(body []byte) []string {
	ev, err := decodeEvent(body)
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range pagerDutyActions(ev) {
		out = append(out, a.action)
	}
	return out
}

// event builds the Events API v2 request of one action: a resolve needs
// only its dedup_key; a trigger describes the alert.
func (p *PagerDuty) event(ev event, a pdAction) pdEvent {
	e := pdEvent{RoutingKey: p.key, EventAction: a.action, DedupKey: a.key}
	if a.action != pdTrigger {
		return e
	}
	o := p.opts
	field := func(v, def string) string {
		if v == "" {
			v = def
		}
		return pdText.within(pdFieldMax).fit(v)
	}
	e.Client = defaultUserAgent
	e.Payload = &pdPayload{
		Summary:       pdSummary(ev),
		Source:        field(o.Source, ""),
		Severity:      o.Severity,
		Component:     field(o.Component, ev.subject()),
		Group:         field(o.Group, ev.d.Watch),
		Class:         field(o.Class, ev.Type),
		CustomDetails: pdDetails(ev, o.CustomDetails),
	}
	if !ev.Timestamp.IsZero() {
		e.Payload.Timestamp = ev.Timestamp.UTC().Format(time.RFC3339)
	}
	return e
}
