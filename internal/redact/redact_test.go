package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"path is a secret", "https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com"},
		{"user, port, path and query", "http://user:pass@127.0.0.1:8080/hook?token=abc#frag", "http://127.0.0.1:8080"},
		{"user without password", "https://token@example.com/", "https://example.com"},
		{"no path", "https://example.com", "https://example.com"},
		{"scheme is lowered", "HTTPS://Example.com/x", "https://Example.com"},
		{"IPv6 host", "http://[::1]:9000/p", "http://[::1]:9000"},
		{"other scheme", "ftp://files.example.com/secret", "ftp://files.example.com"},
		{"empty", "", ""},
		{"words", "not a url", ""},
		{"no scheme", "example.com/hook?token=abc", ""},
		{"scheme-relative", "//example.com/hook", ""},
		{"no host", "https:///hook", ""},
		{"opaque", "mailto:ops@example.com", ""},
		{"does not parse", "http://user:pa ss@exa mple.com/%zz", ""},
		{"bad port", "http://example.com:port/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := URL(tt.raw); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}
