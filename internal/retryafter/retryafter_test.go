package retryafter

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// now has a fraction of a second, as a real clock does; HTTP dates
	// have none.
	now := time.Date(2026, 11, 25, 21, 0, 0, 250_000_000, time.UTC)
	whole := now.Truncate(time.Second)
	date := func(d time.Duration) string { return whole.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"absent", "", 0},
		{"blank", "   ", 0},
		{"zero", "0", 0},
		{"one second", "1", time.Second},
		{"seconds", "120", 2 * time.Minute},
		{"spaces around", " 7 ", 7 * time.Second},
		{"leading zeros", "007", 7 * time.Second},
		{"fraction", "1.5", 1500 * time.Millisecond},
		{"fraction below one", "0.25", 250 * time.Millisecond},
		{"zero fraction", "0.0", 0},
		{"just under Max", "31535999", Max - time.Second},
		{"Max", "31536000", Max},
		{"over Max", "31536001", Max},
		{"beyond a float64", "1" + strings.Repeat("0", 400), Max},
		{"negative", "-5", 0},
		{"negative fraction", "-0.5", 0},
		{"plus sign", "+5", 0},
		{"exponent", "1e3", 0},
		{"hex", "0x10", 0},
		{"NaN", "NaN", 0},
		{"infinity", "Inf", 0},
		{"trailing dot", "1.", 0},
		{"leading dot", ".5", 0},
		{"comma", "1,5", 0},
		{"two dots", "1.2.3", 0},
		{"unit", "5s", 0},
		{"words", "tomorrow", 0},
		{"date a minute ahead", date(time.Minute), time.Minute - 250*time.Millisecond},
		{"date one second ahead", date(time.Second), 750 * time.Millisecond},
		{"date earlier in the current second", date(0), 0},
		{"date in the past", date(-time.Minute), 0},
		{"date beyond Max", date(2 * Max), Max},
		{"RFC 850 date", whole.Add(time.Minute).Format(time.RFC850), time.Minute - 250*time.Millisecond},
		{"ANSI C date", whole.Add(time.Minute).Format(time.ANSIC), time.Minute - 250*time.Millisecond},
		{"date with spaces around", " " + date(time.Minute) + " ", time.Minute - 250*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.in, now); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
