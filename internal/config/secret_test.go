package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v4"
)

const leak = "s3cr3t-value-that-must-not-leak"

func TestSecretFormatting(t *testing.T) {
	s := NewSecret(leak)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"%v", fmt.Sprintf("%v", s), "[redacted]"},
		{"%+v", fmt.Sprintf("%+v", s), "[redacted]"},
		{"%#v", fmt.Sprintf("%#v", s), "[redacted]"},
		{"%s", fmt.Sprintf("%s", s), "[redacted]"},
		{"%q", fmt.Sprintf("%q", s), `"[redacted]"`},
		{"%x", fmt.Sprintf("%x", s), "[redacted]"},
		{"%10.3s", fmt.Sprintf("%10.3s", s), "[redacted]"},
		{"pointer %v", fmt.Sprintf("%v", &s), "[redacted]"},
		{"String", s.String(), "[redacted]"},
		{"GoString", s.GoString(), "[redacted]"},
		{"in struct %+v", fmt.Sprintf("%+v", struct{ T Secret }{s}), "{T:[redacted]}"},
		{"in struct %#v", fmt.Sprintf("%#v", struct{ T Secret }{s}), "struct { T config.Secret }{T:[redacted]}"},
		{"slice %v", fmt.Sprintf("%v", []Secret{s, s}), "[[redacted] [redacted]]"},
		{"json", string(must(json.Marshal(s))), `"[redacted]"`},
		{"json in struct", string(must(json.Marshal(map[string]any{"t": s}))), `{"t":"[redacted]"}`},
		{"text", string(must(s.MarshalText())), "[redacted]"},
		{"yaml", string(must(yaml.Marshal(map[string]Secret{"t": s}))), "t: '[redacted]'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if got := s.Value(); got != leak {
		t.Errorf("Value() = %q, want %q", got, leak)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSecretInLogs(t *testing.T) {
	s := NewSecret(leak)
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().
		Interface("interface", s).
		Any("any", s).
		Stringer("stringer", s).
		Interface("config", Config{API: API{Token: s}, Notifiers: []Notifier{{
			URL: s, Secret: s, Secrets: []Secret{s}, Headers: map[string]Secret{"Authorization": s},
			RoutingKey: s, SMTP: SMTP{Password: s},
		}}}).
		Msg("")
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s, "any", any(s))
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s)

	out := buf.String()
	if strings.Contains(out, leak) {
		t.Fatalf("log output contains the secret:\n%s", out)
	}
	// 13, and the zero heartbeat URL of the config.
	if n := strings.Count(out, "[redacted]"); n != 14 {
		t.Errorf("log output has %d redactions, want 14:\n%s", n, out)
	}
}

func TestSecretWholeConfig(t *testing.T) {
	cfg := Default()
	cfg.API.Token = NewSecret(leak)
	cfg.Notifiers = []Notifier{{
		Name: "n", URL: NewSecret(leak), Secret: NewSecret(leak), Secrets: []Secret{NewSecret(leak)},
		Headers:    map[string]Secret{"Authorization": NewSecret(leak)},
		RoutingKey: NewSecret(leak), SMTP: SMTP{Password: NewSecret(leak)},
	}}
	for _, out := range []string{
		fmt.Sprintf("%v", cfg),
		fmt.Sprintf("%+v", cfg),
		fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%+v", &cfg),
		string(must(json.Marshal(cfg))),
		string(must(yaml.Marshal(cfg))),
	} {
		if strings.Contains(out, leak) {
			t.Errorf("output contains the secret: %s", out)
		}
	}
}

func TestSecretZero(t *testing.T) {
	if !(Secret{}).IsZero() || NewSecret("x").IsZero() {
		t.Error("IsZero is wrong")
	}
	if !NewSecret("a").Equal(NewSecret("a")) || NewSecret("a").Equal(NewSecret("b")) {
		t.Error("Equal is wrong")
	}
}
