// Package retryafter reads the Retry-After header of an HTTP response, the
// one way rtkwatchd does, for the RealtimeKit API client and for every
// notifier.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Max is the longest delay Parse returns. It only keeps absurd values from
// overflowing a time.Duration; callers bound the wait they accept
// themselves.
const Max = 365 * 24 * time.Hour

// Parse returns the delay that the Retry-After header value v asks for,
// measured from now. v is delay-seconds ("120"), fractional seconds
// ("1.5", which some servers send), or an HTTP date
// ("Wed, 25 Nov 2026 21:00:00 GMT"), with surrounding spaces allowed. The
// delay is at most Max. Parse returns 0, meaning no delay was asked for,
// when v is empty, negative, not one of those forms (signs, exponents,
// "NaN" and the like included), or a date that is not after now.
func Parse(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isSeconds(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs >= Max.Seconds() {
			// Only a value too large for a float64 fails to parse here.
			return Max
		}
		return time.Duration(secs * float64(time.Second))
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	return min(t.Sub(now), Max)
}

// isSeconds reports whether v is digits, optionally followed by a dot and
// more digits.
func isSeconds(v string) bool {
	whole, frac, dot := strings.Cut(v, ".")
	return allDigits(whole) && (!dot || allDigits(frac))
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
