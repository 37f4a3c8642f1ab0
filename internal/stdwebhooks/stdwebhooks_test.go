package stdwebhooks

import (
	"bytes"
	"strings"
	"testing"
)

func TestDecodeSecret(t *testing.T) {
	const body = "AAECAwQFBgcICQoLDA0ODw" // 15 bytes before the padding below
	tests := []struct {
		secret string
		want   []byte
		err    string
	}{
		{secret: "whsec_AAECAwQFBgcICQoLDA0ODw==", want: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{secret: "whsec_AAECAwQFBgcICQoLDA0O", err: "must decode to at least 16 bytes, not 15"},
		{secret: "whsec_", err: "must decode to at least 16 bytes, not 0"},
		{secret: "AAECAwQFBgcICQoLDA0ODw==", err: `must start with "whsec_" followed by base64`},
		{secret: "WHSEC_AAECAwQFBgcICQoLDA0ODw==", err: `must start with "whsec_"`},
		{secret: "whsec_" + body, err: `must be "whsec_" followed by valid standard base64 (with = padding)`},
		{secret: "whsec_AAECAwQFBgcICQoLDA0ODw-_", err: "valid standard base64"},
	}
	for _, tt := range tests {
		key, err := DecodeSecret(tt.secret)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("DecodeSecret(%q) error = %v, want it to contain %q", tt.secret, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, SecretPrefix)) && tt.secret != SecretPrefix {
				t.Errorf("DecodeSecret(%q) error %q quotes the secret", tt.secret, err)
			}
		case err != nil:
			t.Errorf("DecodeSecret(%q): %v", tt.secret, err)
		case !bytes.Equal(key, tt.want):
			t.Errorf("DecodeSecret(%q) = %x, want %x", tt.secret, key, tt.want)
		}
	}
}

func TestReserved(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"webhook-signature", true},
		{"Webhook-Id", true},
		{"WEBHOOK-TIMESTAMP", true},
		{HeaderID, true},
		{"content-type", true},
		{"Content-Length", true},
		{"host", true},
		{"User-Agent", true},
		{"X-Team", false},
		{"Authorization", false},
		{"Webhook-Signatures", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Reserved(tt.name); got != tt.want {
			t.Errorf("Reserved(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
