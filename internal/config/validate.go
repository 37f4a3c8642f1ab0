package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// namePattern is the shape of watch and notifier names, which appear in
	// events, metrics labels and store keys.
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	// idPattern is the shape of RealtimeKit app and meeting IDs, which go
	// into URL paths.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// accountPattern is the shape of a Cloudflare account ID.
	accountPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	// headerPattern is an HTTP header name (an RFC 9110 token).
	headerPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"auto", "json", "console"}
)

// Validate checks the whole configuration and returns every problem as
// Errors, or nil. Each problem names its field as written in YAML, such as
// "watches[1].thresholds.participants[0]"; a Config built in code has no
// lines. Validate also sorts the thresholds of every watch ascending.
func (c *Config) Validate() error {
	if errs := validate(c, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

// validator collects problems; src, when known, gives them lines.
type validator struct {
	src  *sources
	errs Errors
}

func (v *validator) add(path string, format string, args ...any) {
	field, line := v.src.locate(path)
	err := fmt.Errorf(format, args...)
	if msg := v.src.scrub(err.Error()); msg != err.Error() {
		err = errors.New(msg)
	}
	v.errs = append(v.errs, &FieldError{Field: field, Line: line, Err: err})
}

// quote shows the value of the field at path in a message: quoted and
// clipped as written, or, when it was expanded from the environment, what
// the file says instead, such as "${LOG_LEVEL}" (as expanded from the
// environment). A value from the environment may be a secret put in the
// wrong field, and is never echoed.
func (v *validator) quote(path string, value any) string {
	if raw, ok := v.src.expandedFrom(path); ok {
		return fmt.Sprintf("%q (as expanded from the environment)", clip(raw))
	}
	if s, ok := value.(string); ok {
		return fmt.Sprintf("%q", clip(s))
	}
	return fmt.Sprint(value)
}

func validate(c *Config, src *sources) Errors {
	v := &validator{src: src}
	v.api(&c.API)
	if c.Store.Path == "" {
		v.add("store.path", "required")
	}
	if c.Store.History <= 0 {
		v.add("store.history", "must be > 0")
	}
	if c.Store.HistoryMaxEvents < 1 {
		v.add("store.history_max_events", "must be >= 1")
	}
	if c.Store.HistoryMaxMB < 1 {
		v.add("store.history_max_mb", "must be >= 1")
	}
	if !slices.Contains(logLevels, c.Log.Level) {
		v.add("log.level", "must be one of %s, got %s", strings.Join(logLevels, ", "), v.quote("log.level", c.Log.Level))
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		v.add("log.format", "must be one of %s, got %s", strings.Join(logFormats, ", "), v.quote("log.format", c.Log.Format))
	}
	if c.Admin.Listen != "" {
		if err := checkListen(c.Admin.Listen, func(s string) string { return v.quote("admin.listen", s) }); err != nil {
			v.add("admin.listen", "%v", err)
		}
	}
	v.notifiers(c.Notifiers, c.Delivery.MaxAge)
	if c.Delivery.Timeout <= 0 {
		v.add("delivery.timeout", "must be > 0")
	}
	if c.Delivery.MaxAttempts < 1 {
		v.add("delivery.max_attempts", "must be >= 1")
	}
	if c.Delivery.MaxAge <= 0 {
		v.add("delivery.max_age", "must be > 0")
	}
	if c.Delivery.DeadLetterRetention <= 0 {
		v.add("delivery.dead_letter_retention", "must be > 0")
	}
	if c.Delivery.CircuitAfter < time.Minute {
		v.add("delivery.circuit_after", "must be >= 1m")
	}
	v.heartbeat(c.Heartbeat)
	v.watches(c)
	v.silences(c)
	v.usage(c)
	v.metrics(&c.Metrics)
	v.ha(c.HA)
	return v.errs.sorted()
}

func (v *validator) api(a *API) {
	switch {
	case a.AccountID == "":
		v.add("api.account_id", "required")
	case !accountPattern.MatchString(a.AccountID):
		v.add("api.account_id", "must contain only letters and digits")
	}
	switch {
	case a.Token.IsZero():
		v.add("api.token", "required: set token or token_file")
	case !printable(a.Token.Value()):
		v.add("api.token", "must not contain spaces or control characters")
	}
	if err := checkHTTPURL(a.BaseURL); err != nil {
		v.add("api.base_url", "%v", err)
	}
	if a.Timeout <= 0 {
		v.add("api.timeout", "must be > 0")
	}
	switch {
	case a.RequestsPer5m < 1:
		v.add("api.requests_per_5m", "must be > 0")
	case a.RequestsPer5m > MaxRequestsPer5m && isCloudflareAPI(a.BaseURL):
		v.add("api.requests_per_5m", "must be at most %d (Cloudflare's limit per token)", MaxRequestsPer5m)
	}
}

// scheduleError reports err, the parser's error for the schedule spec at
// path. cron's message repeats the spec, or part of it, so it is left out
// when the spec came from the environment.
func (v *validator) scheduleError(path, spec string, err error) {
	if _, env := v.src.expandedFrom(path); env {
		v.add(path, "parse %s: not a valid schedule", v.quote(path, spec))
		return
	}
	v.add(path, "parse %q: %v", clip(spec), err)
}

func (v *validator) watches(c *Config) {
	if len(c.Watches) == 0 {
		v.add("watches", "at least one watch is required")
	}
	first := make(map[string]int)
	for i := range c.Watches {
		w := &c.Watches[i]
		p := fmt.Sprintf("watches[%d]", i)
		v.name(p, w.Name, first, "watches", i)
		switch {
		case w.AppID == "":
			v.add(p+".app_id", "required")
		case !idPattern.MatchString(w.AppID):
			v.add(p+".app_id", "must contain only letters, digits, - and _")
		}
		if len(w.Meetings) == 0 && !w.AllLive {
			v.add(p+".meetings", "required unless all_live is true")
		}
		each(v, p+".meetings", w.Meetings, "meeting", func(mp, m string) {
			switch {
			case m == "":
				v.add(mp, "must not be empty")
			case !idPattern.MatchString(m):
				v.add(mp, "must contain only letters, digits, - and _")
			}
		})
		if _, err := ParseSchedule(w.Schedule); err != nil {
			v.scheduleError(p+".schedule", w.Schedule, err)
		}
		v.thresholds(p+".thresholds", &w.Thresholds)
		v.idle(p+".idle", w.Idle)
		if w.FailingAfter < 1 {
			v.add(p+".failing_after", "must be >= 1")
		}
		v.flapping(p, w)
		each(v, p+".notify", w.Notify, "notifier", func(np, name string) {
			if _, ok := c.Notifier(name); !ok {
				v.add(np, "unknown notifier %s", v.quote(np, name))
			}
		})
	}
}

// flapping checks the keys of a watch that damp flapping and repeat what
// lasts: failing_ratio, recover_after and remind_every.
func (v *validator) flapping(p string, w *Watch) {
	if !(w.FailingRatio >= 0 && w.FailingRatio <= 1) { // NaN too
		v.add(p+".failing_ratio", "must be a fraction > 0 and <= 1 (of the last 10 polls), or 0 to turn it off")
	}
	if w.RecoverAfter < 1 {
		v.add(p+".recover_after", "must be >= 1")
	}
	if w.RemindEvery != 0 && w.RemindEvery < MinRemindEvery {
		v.add(p+".remind_every", "must be at least 1m, or 0 to turn reminders off") // MinRemindEvery
	}
}

// thresholds checks a watch's thresholds and sorts them ascending.
func (v *validator) thresholds(p string, t *Thresholds) {
	positive := true
	okParticipants := each(v, p+".participants", t.Participants, "threshold", func(tp string, n int) {
		if n <= 0 {
			v.add(tp, "must be > 0")
			positive = false
		}
	})
	slices.Sort(t.Participants)
	switch {
	case t.Hysteresis < 0:
		v.add(p+".hysteresis", "must be >= 0")
	case okParticipants && positive && len(t.Participants) > 0 && t.Hysteresis >= t.Participants[0]:
		v.add(p+".hysteresis", "must be smaller than the smallest participants threshold (%d)", t.Participants[0])
	}
	v.minutes(p+".minutes_consumed", t.MinutesConsumed)
	v.durations(p+".duration", t.Duration)
}

// minutes checks a list of minute thresholds and sorts it ascending.
func (v *validator) minutes(p string, ms []float64) {
	each(v, p, ms, "threshold", func(mp string, m float64) {
		if !(m > 0) || math.IsInf(m, 0) {
			v.add(mp, "must be a finite number > 0")
		}
	})
	slices.Sort(ms)
}

// each checks the items of the list at path: an item that repeats an
// earlier one is a problem, described by the format what; check sees the
// path and value of every other. It reports whether no item repeats.
// what names an item, such as "meeting", for the message.
func each[T comparable](v *validator, path string, items []T, what string, check func(string, T)) bool {
	seen := make(map[T]int)
	list := path[strings.LastIndexByte(path, '.')+1:]
	for j, x := range items {
		ip := fmt.Sprintf("%s[%d]", path, j)
		if k, dup := seen[x]; dup {
			v.add(ip, "duplicate %s %s (also %s[%d])", what, v.quote(ip, x), list, k)
			continue
		}
		seen[x] = j
		check(ip, x)
	}
	return len(seen) == len(items)
}

// name checks the name of the i-th watch or notifier: present, well formed
// and unique; first remembers the index of each name seen.
func (v *validator) name(p, name string, first map[string]int, list string, i int) {
	switch {
	case name == "":
		v.add(p+".name", "required")
		return
	case !namePattern.MatchString(name):
		v.add(p+".name", "%s must be 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit", v.quote(p+".name", name))
	}
	if k, dup := first[name]; dup {
		v.add(p+".name", "duplicate name %s (also %s[%d])", v.quote(p+".name", name), list, k)
		return
	}
	first[name] = i
}

// checkHTTPURL checks that s is an absolute http or https URL. Its errors
// do not quote the URL, which may hold a credential.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("required")
	case err != nil:
		return errors.New("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an absolute http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("must name a host")
	}
	return nil
}

// checkListen checks a host:port listen address; port 0 picks a free port.
// Its errors show s, or its port, as quote does.
func checkListen(s string, quote func(string) string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("must be host:port, or empty to disable, got %s", quote(s))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %s", quote(port))
	}
	return nil
}

// printable reports whether s has no spaces or control characters.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f
	})
}

// OnCloudflare reports whether a.BaseURL points at Cloudflare's own API,
// whose limits apply: 1,200 requests per 5 minutes per token (which caps
// api.requests_per_5m) and RealtimeKit's 250 requests per 10 seconds.
// Other targets (a proxy, the fake API of tests and load runs) have their
// own.
func (a API) OnCloudflare() bool { return isCloudflareAPI(a.BaseURL) }

// isCloudflareAPI reports whether base points at Cloudflare's own API, whose
// rate limit caps api.requests_per_5m. Other targets (a proxy, the fake API
// of tests and load runs) may be given any budget.
func isCloudflareAPI(base string) bool {
	u, err := url.Parse(base)
	return err != nil || strings.EqualFold(u.Hostname(), "api.cloudflare.com")
}
