package notify

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFit is the one table of the truncation every renderer uses: each
// limit at its exact edge, both ways, for every way of counting.
func TestFit(t *testing.T) {
	runes := textLimit{count: countRunes}
	mrkdwn := textLimit{count: countRunes, escape: escapeMrkdwn}
	jsonBytes := textLimit{count: countJSONBytes}
	tests := []struct {
		name  string
		limit textLimit
		max   int
		in    string
		want  string
	}{
		{"fits exactly", runes, 5, "abcde", "abcde"},
		{"one over", runes, 5, "abcdef", "abcd…"},
		{"empty", runes, 0, "", ""},
		{"no room for the ellipsis", runes, 0, "a", ""},
		{"only the ellipsis", runes, 1, "ab", "…"},
		{"characters, not bytes", runes, 3, "héé", "héé"},
		{"characters, not bytes, one over", runes, 3, "hééé", "hé…"},
		{"astral characters count once", runes, 2, "🎥🎥", "🎥🎥"},
		{"spaces before the ellipsis go", runes, 5, "abc   defgh", "abc…"},
		{"escaped form fits exactly", mrkdwn, 6, "a&", "a&amp;"},
		{"escaped form one over", mrkdwn, 5, "a&", "a…"},
		{"never cuts inside an escape", mrkdwn, 6, "<<", "&lt;…"},
		{"escape at the very edge", mrkdwn, 9, "<<", "&lt;&lt;"},
		{"escape one short of the edge", mrkdwn, 7, "<<", "&lt;…"},
		{"json bytes fit exactly", jsonBytes, 4, `a"b`, `a"b`},
		{"json bytes one over", jsonBytes, 3, `a"b`, "…"},
		{"json bytes of multibyte", jsonBytes, 6, "aé…", "aé…"},
		{"json bytes of multibyte, one short", jsonBytes, 5, "aé…", "a…"},
		{"json bytes of multibyte, one over", jsonBytes, 6, "aéé€", "aé…"},
		{"json control characters take six", jsonBytes, 9, "\x01b\x02", "\x01…"},
		{"json control characters at the edge", jsonBytes, 13, "\x01b\x02", "\x01b\x02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.limit.within(tt.max)
			got := l.fit(tt.in)
			if got != tt.want {
				t.Errorf("fit(%q) within %d = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if n := l.count(got); n > tt.max {
				t.Errorf("fit(%q) = %q measures %d, over %d", tt.in, got, n, tt.max)
			}
		})
	}
}

// TestCountJSONBytes holds countJSONBytes to what encoding/json writes.
func TestCountJSONBytes(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\b\f", "\x00\x01\x1f",
		"<html> & friends", "é€🎥", "\u2028\u2029", "bad \xff utf-8", "valid \ufffd", strings.Repeat("\x7f", 3),
	} {
		b, err := json.Marshal(s) // escapes <, > and &; countJSONBytes counts without
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := len(strings.TrimSuffix(sb.String(), "\n")) - 2
		if got := countJSONBytes(s); got != want {
			t.Errorf("countJSONBytes(%q) = %d, want %d (encoded %s; with HTML escapes %s)", s, got, want, sb.String(), b)
		}
	}
}

// TestShrink cuts the longest text by the excess, at the exact edge, and
// reports a message that cannot fit.
func TestShrink(t *testing.T) {
	runes := textLimit{count: countRunes}
	tests := []struct {
		name     string
		a, b     string
		overhead int
		max      int
		wantA    string
		wantB    string
		wantFits bool
	}{
		{"fits exactly", "abcdefghij", "wxyz", 3, 17, "abcdefghij", "wxyz", true},
		{"one over", "abcdefghij", "wxyz", 3, 16, "abcdefgh…", "wxyz", true},
		{"the longest goes first", "abcdefghij", "wxyz", 3, 12, "abcd…", "wxyz", true},
		{"then the next", "abcdefghij", "wxyz", 3, 4, "", "…", true},
		{"nothing left to cut", "abc", "de", 5, 4, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a, tt.b
			total := func() int { return tt.overhead + countRunes(a) + countRunes(b) }
			fits := shrink([]*string{&a, &b}, runes, tt.max, total)
			if fits != tt.wantFits || a != tt.wantA || b != tt.wantB {
				t.Errorf("shrink = %v, %q, %q; want %v, %q, %q", fits, a, b, tt.wantFits, tt.wantA, tt.wantB)
			}
			if fits && total() > tt.max {
				t.Errorf("fits, but total %d > %d", total(), tt.max)
			}
		})
	}
}
