package config

import (
	"slices"
	"strings"
	"time"
)

// Heartbeat defaults.
const (
	DefaultHeartbeatEvery   = time.Minute
	DefaultHeartbeatMethod  = "GET"
	DefaultHeartbeatTimeout = 10 * time.Second
	DefaultCircuitAfter     = 10 * time.Minute
)

// heartbeatMethods are the HTTP methods a heartbeat may use.
var heartbeatMethods = []string{"GET", "HEAD", "POST"}

// Heartbeat configures a dead man's switch: a URL (Healthchecks.io, say)
// requested after each interval in which every watch made progress, so
// that the switch fires when rtkwatchd stops or stalls.
type Heartbeat struct {
	// URL is requested after each good interval; it usually holds a token,
	// so it is a Secret, from heartbeat.url or heartbeat.url_file. Empty
	// disables the heartbeat.
	URL Secret `yaml:"url"`
	// Every is the interval.
	Every time.Duration `yaml:"every"`
	// Method is GET, HEAD or POST (an empty body).
	Method string `yaml:"method"`
	// Timeout bounds each request; it is at most Every.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether a heartbeat URL is set.
func (h Heartbeat) Enabled() bool { return !h.URL.IsZero() }

// defaultHeartbeat is the heartbeat of Default: disabled, with the
// defaults a URL would take.
func defaultHeartbeat() Heartbeat {
	return Heartbeat{Every: DefaultHeartbeatEvery, Method: DefaultHeartbeatMethod, Timeout: DefaultHeartbeatTimeout}
}

// heartbeat checks the heartbeat section.
func (v *validator) heartbeat(h Heartbeat) {
	if !h.Enabled() {
		if h != defaultHeartbeat() {
			v.add("heartbeat.url", "required: set url or url_file, or remove heartbeat")
		}
		return
	}
	if err := checkHTTPURL(h.URL.Value()); err != nil {
		v.add("heartbeat.url", "%v", err)
	}
	if h.Every < time.Second {
		v.add("heartbeat.every", "must be >= 1s")
	}
	if !slices.Contains(heartbeatMethods, h.Method) {
		v.add("heartbeat.method", "must be one of %s, got %q", strings.Join(heartbeatMethods, ", "), clip(h.Method))
	}
	switch {
	case h.Timeout <= 0:
		v.add("heartbeat.timeout", "must be > 0")
	case h.Timeout > h.Every && h.Every >= time.Second:
		v.add("heartbeat.timeout", "must be <= heartbeat.every (%s)", h.Every)
	}
}
