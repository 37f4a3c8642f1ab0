package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that no input makes Load panic or hang, that every
// failure is reported as Errors, and that a loaded Config is valid.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, "../../config.example.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("a: &a [*a]\nwatches: *a\n")
	f.Add("watches: [{<<: {<<: {name: x}}}]\n")
	f.Add("api: {timeout: ${X}}\n")

	env := map[string]string{
		"CLOUDFLARE_API_TOKEN":     testToken,
		"RTKWATCHD_WEBHOOK_SECRET": testWebhookSecret,
		"SLACK_WEBHOOK_URL":        testSlackURL,
		"X":                        "10s",
	}
	getenv := func(k string) string { return env[k] }
	base, err := filepath.Abs("testdata/good")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := Load(strings.NewReader(doc), LoadOptions{Getenv: getenv, BaseDir: base})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Load error %q is %T, want non-empty Errors", err, err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load returned a Config that Validate rejects: %v", err)
		}
	})
}
