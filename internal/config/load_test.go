package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Secrets of the test environment.
const (
	testToken         = "cf-test-token-0123456789"
	testWebhookSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX" // 24 bytes
	testSlackURL      = "https://hooks.slack.com/services/T000/B000/slack-url-secret"
)

// testEnv returns the environment the fixtures expect.
func testEnv(t *testing.T) func(string) string {
	t.Helper()
	creds, err := filepath.Abs("testdata/good/creds")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CLOUDFLARE_API_TOKEN":     testToken,
		"RTKWATCHD_WEBHOOK_SECRET": testWebhookSecret,
		"SLACK_WEBHOOK_URL":        testSlackURL,
		"CREDENTIALS_DIRECTORY":    creds,
		"STATE_DIR":                "/srv/rtk",
	}
	return func(k string) string { return env[k] }
}

func TestLoadGood(t *testing.T) {
	minimal := Default()
	minimal.API.AccountID = "023e105f4ecef8ad9ca31a8372d0c353"
	minimal.API.Token = NewSecret(testToken)
	minimal.Watches = []Watch{{
		Name: "town-hall", AppID: "app-1", Meetings: []string{"meeting-1"},
		Schedule: "@every 30s", FailingAfter: 3, RecoverAfter: 1,
	}}

	a := Watch{
		Name: "a", AppID: "app-1", Meetings: []string{"m-1", "m-2"},
		Schedule: "*/5 * * * * *",
		Thresholds: Thresholds{
			Participants:    []int{10, 50, 100},
			Hysteresis:      2,
			MinutesConsumed: []float64{60.5, 600},
			Duration:        []time.Duration{90 * time.Minute, 2 * time.Hour, 8 * time.Hour},
		},
		Idle:         Idle{Participants: 1, For: 15 * time.Minute},
		Recordings:   true,
		Livestreams:  true,
		FailingAfter: 5,
		RecoverAfter: 1,
		Notify:       []string{"slack-video"},
	}
	b := a
	b.Name, b.AllLive, b.Meetings, b.Notify = "b", true, nil, nil
	full := Config{
		API: API{
			AccountID:     "023e105f4ecef8ad9ca31a8372d0c353",
			Token:         NewSecret("file-token-abc123"),
			BaseURL:       "http://127.0.0.1:8080/client/v4/",
			Timeout:       2 * time.Second,
			RequestsPer5m: 1200,
		},
		Store: Store{Path: "/srv/rtk/state.db", History: 72 * time.Hour, HistoryMaxEvents: 5000, HistoryMaxMB: 64},
		Log:   Log{Level: "debug", Format: "console"},
		Admin: Admin{Listen: ""},
		Notifiers: []Notifier{{
			Name: "ops", Type: "webhook",
			URL:     NewSecret("https://hooks.example.com/rtk?token=url-file-token"),
			Secret:  NewSecret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
			Secrets: []Secret{NewSecret(testWebhookSecret)},
			Headers: map[string]Secret{"X-Team": NewSecret("video"), "X-Cost": NewSecret("$5 $HOME")},
			Events:  []string{"watch.failing", "watch.recovered"},
		}, {
			Name: "slack-video", Type: "slack", URL: NewSecret(testSlackURL),
			Template: Template{Title: "{{.Title}} ({{.Watch}})", Text: "{{.Meeting}}: {{default \"-\" .Data.live_participants}} live\n"},
			Group:    Group{Wait: 30 * time.Second, Max: 10},
		}, {
			Name: "teams", Type: "teams", URL: NewSecret("https://example.webhook.office.com/workflows/abc?sig=teams-sig"),
			Group: Group{Wait: time.Minute, Max: DefaultGroupMax},
		}, {
			Name: "oncall", Type: "pagerduty", URL: NewSecret(DefaultPagerDutyURL),
			RoutingKey: NewSecret("R0ut1ng-Key-From-File-0123456789"), Severity: "critical",
		}, {
			Name: "discord", Type: "discord", URL: NewSecret("https://discord.com/api/webhooks/1/discord-token"),
		}, {
			Name: "mail", Type: "email",
			SMTP: SMTP{Host: "smtp.example.com", Port: 465, TLS: "tls", Username: "rtk", Password: NewSecret("smtp-password from file")},
			From: "rtkwatchd <rtkwatchd@example.com>", To: []string{"video-ops@example.com", "oncall@example.com"},
			Template: Template{Title: "[rtk] {{.Title}}"},
		}},
		Delivery: Delivery{Timeout: 3 * time.Second, MaxAttempts: 4, MaxAge: 90 * time.Minute, DeadLetterRetention: 48 * time.Hour, CircuitAfter: 5 * time.Minute},
		Heartbeat: Heartbeat{URL: NewSecret("https://hc-ping.example.com/0f1e2d3c-heartbeat-uuid"), Every: 2 * time.Minute,
			Method: "HEAD", Timeout: 5 * time.Second},
		Watches: []Watch{a, b},
		Silences: []Silence{
			{Name: "nightly", Watches: []string{"a"}, Notifiers: []string{"slack-video"}, Schedule: "30 2 * * *", Duration: time.Hour, Timezone: "Europe/Berlin"},
			{Name: "sundays", Schedule: "0 0 * * 0", Duration: 24 * time.Hour},
		},
		Usage: []Usage{{
			AppID: "app-1", Schedule: "@every 5m", DailyMinutes: []float64{5000, 10000}, MonthlyMinutes: []float64{200000},
			PricePerParticipantMinute: 0.002, Notify: []string{"ops"},
		}, {
			AppID: "app-2", Schedule: DefaultUsageSchedule, PricePerParticipantMinute: 0.0015,
		}},
		Metrics: Metrics{Meetings: true, MaxSeries: 300},
	}

	tests := []struct {
		file string
		want Config
	}{
		{"minimal.yaml", minimal},
		{"full.yaml", full},
		{"ha.yaml", withHA(minimal, Etcd{
			Endpoints: []string{"https://etcd-1:2379", "https://etcd-2:2379", "etcd-3:2379"},
			Prefix:    "/rtkwatchd/prod/",
			TLS:       EtcdTLS{CAFile: "/etc/rtkwatchd/etcd-ca.pem", CertFile: "/etc/rtkwatchd/etcd.pem", KeyFile: "/etc/rtkwatchd/etcd-key.pem"},
			Username:  "rtkwatchd", Password: NewSecret("etcd-pass-0123"),
			LeaseTTL: 2 * time.Second, DialTimeout: DefaultHADialTimeout,
		})},
		{"ha_defaults.yaml", withHA(minimal, Etcd{
			Endpoints: []string{"127.0.0.1:2379"}, Prefix: DefaultHAPrefix,
			LeaseTTL: DefaultHALeaseTTL, DialTimeout: DefaultHADialTimeout,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := LoadFile(filepath.Join("testdata/good", tt.file), LoadOptions{Getenv: testEnv(t)})
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// withHA returns c with ha.etcd set to e.
func withHA(c Config, e Etcd) Config {
	c.HA = &HA{Etcd: e}
	return c
}

// TestLoadBad loads every fixture under testdata/bad. Each lists its
// expected problems in "# want: " lines; every one must appear as a
// substring of its own FieldError, in order, and no other problem may.
func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wants := wantLines(t, file)
			if len(wants) == 0 {
				t.Fatal(`fixture has no "# want: " lines`)
			}
			cfg, err := LoadFile(file, LoadOptions{Getenv: testEnv(t)})
			if err == nil {
				t.Fatalf("LoadFile succeeded with %+v; want errors:\n%s", cfg, strings.Join(wants, "\n"))
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %q (%T) is not Errors", err, err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != len(wants) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(wants), err)
			}
			for i, want := range wants {
				if !strings.Contains(got[i], want) {
					t.Errorf("error %d = %q; want it to contain %q", i, got[i], want)
				}
			}
		})
	}
}

// wantLines returns the text after each "# want: " line of a fixture.
func wantLines(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			wants = append(wants, w)
		}
	}
	return wants
}

// TestLoadDefaults checks that keys left out take Default's values and keys
// set to a zero value keep it, so that they fail validation instead of
// silently taking the default.
func TestLoadDefaults(t *testing.T) {
	const head = "api: {account_id: abc, token: t}\nwatches: [{name: w, app_id: a, all_live: true}]\n"
	t.Run("left out", func(t *testing.T) {
		cfg, err := Load(strings.NewReader(head), LoadOptions{Getenv: testEnv(t)})
		if err != nil {
			t.Fatal(err)
		}
		want := Default()
		want.API.AccountID, want.API.Token = "abc", NewSecret("t")
		want.Watches = []Watch{{Name: "w", AppID: "a", AllLive: true, Schedule: DefaultSchedule, FailingAfter: DefaultFailingAfter, RecoverAfter: DefaultRecoverAfter}}
		if diff := cmp.Diff(want, *cfg); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("admin disabled", func(t *testing.T) {
		cfg, err := Load(strings.NewReader(head+"admin: {listen: \"\"}\n"), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Admin.Listen != "" {
			t.Errorf("admin.listen = %q, want empty", cfg.Admin.Listen)
		}
	})
	t.Run("explicit zeros", func(t *testing.T) {
		doc := head + "delivery: {max_attempts: 0}\napi2: x\n"
		_, err := Load(strings.NewReader(strings.Replace(doc, "api2: x\n", "", 1)), LoadOptions{})
		want := "line 3: delivery.max_attempts: must be >= 1"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
}

func TestLoadRelativeFileWithoutBaseDir(t *testing.T) {
	t.Chdir("testdata/good")
	doc := "api: {account_id: abc, token_file: secrets/token}\nwatches: [{name: w, app_id: a, all_live: true}]\n"
	cfg, err := Load(strings.NewReader(doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.API.Token.Value(); got != "file-token-abc123" {
		t.Errorf("token = %q, want the file's contents without the trailing newlines", got)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"), LoadOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want os.ErrNotExist", err)
	}
}

func TestLoadLimits(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{
			name: "aliased lists",
			doc: "watches:\n  - &w {name: w, app_id: a, meetings: [" + strings.Repeat("m,", 999) + "m]}\n" +
				"  - {<<: [" + strings.Repeat("*w,", 99) + "*w]}\n" + strings.Repeat("  - *w\n", 100),
			want: "document too large",
		},
		{
			name: "merge bomb",
			doc:  mergeBomb(8, 10),
			want: "document too large",
		},
		{
			name: "merge cycle",
			doc:  "watches:\n  - &w\n    name: w\n    <<: *w\n",
			want: "line 4: watches[0]: alias *w refers to a value that contains it",
		},
		{
			name: "huge list",
			doc:  "watches: [{name: w, app_id: a, meetings: [" + strings.Repeat("m,", maxNodes) + "m]}]\n",
			want: "document too large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.doc), LoadOptions{Getenv: testEnv(t)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestSyntaxErrorLines checks that YAML syntax errors carry the 1-based
// line where the YAML library found the problem and, when it differs, the
// line where the construct it was reading began.
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		// The parser gives up at the end of the input, the line after the last.
		{"a: [x\n", "line 2: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1)"},
		{"a:\n  b: 1\n  c: [x\n  d: 2\n", "line 4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 3)"},
		{"a:\n  b: 1\n c: 2\n", "line 3: invalid YAML: did not find expected key (while parsing a block mapping that starts at line 1)"},
		{"a:\n  b: 1\n  c: d: e\n", "line 3: invalid YAML: mapping values are not allowed in this context"},
		{"a:\n  b: 1\n  c: @x\n", "line 3: invalid YAML: found character that cannot start any token"},
		{"a: 1\nb: *nope\n", "line 2: invalid YAML: unknown anchor 'nope' referenced"},
		// SPEC §9's own example: the } of ${VAR} ends the flow mapping.
		{"smtp: {host: h, password: ${SMTP_PASSWORD}}\n", `line 1: invalid YAML: did not find expected ',' or '}'; inside { } or [ ], quote a ${VAR}: "${VAR}"`},
		{"smtp: {host: h,\n  password: ${P}, x: [y\n", `line 2: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping that starts at line 1); inside { } or [ ], quote a ${VAR}: "${VAR}"`},
		{"smtp: {host: h, password: \"${P}\", x: [y\n", "line 2: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1)"},
		{"a: ${B}\nc: [d\n", "line 3: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2)"},
	}
	for _, tt := range tests {
		_, err := Load(strings.NewReader(tt.doc), LoadOptions{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load(%q) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// mergeBomb returns a document whose merge keys expand to width^depth
// mappings.
func mergeBomb(depth, width int) string {
	var b strings.Builder
	b.WriteString("x0: &m0 {name: w}\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "x%d: &m%d {<<: [", i, i)
		for j := range width {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*m%d", i-1)
		}
		b.WriteString("]}\n")
	}
	fmt.Fprintf(&b, "watches: [{<<: *m%d}]\n", depth-1)
	return b.String()
}

// TestLoadScalars checks how a value from the environment, or quoted,
// decodes: by the type of its field, as if it had been written plain.
func TestLoadScalars(t *testing.T) {
	env := map[string]string{"N": "900", "B": "true", "D": "2s", "NULL": "null", "F": "12.5"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name, api, watch string
		want             func(*Config) any
		wantVal          any
	}{
		{name: "int from env", api: "requests_per_5m: ${N}", want: func(c *Config) any { return c.API.RequestsPer5m }, wantVal: 900},
		{name: "quoted int from env", api: "requests_per_5m: '${N}'", want: func(c *Config) any { return c.API.RequestsPer5m }, wantVal: 900},
		{name: "quoted int", api: `requests_per_5m: "700"`, want: func(c *Config) any { return c.API.RequestsPer5m }, wantVal: 700},
		{name: "duration from env", api: "timeout: ${D}", want: func(c *Config) any { return c.API.Timeout }, wantVal: 2 * time.Second},
		{name: "string that reads as null", api: "token: ${NULL}", want: func(c *Config) any { return c.API.Token.Value() }, wantVal: "null"},
		{name: "string that reads as a number", api: "account_id: '${N}'", want: func(c *Config) any { return c.API.AccountID }, wantVal: "900"},
		{name: "bool from env", watch: "all_live: ${B}", want: func(c *Config) any { return c.Watches[0].AllLive }, wantVal: true},
		{name: "quoted bool", watch: `all_live: "true"`, want: func(c *Config) any { return c.Watches[0].AllLive }, wantVal: true},
		{name: "float from env", watch: "thresholds: {minutes_consumed: ['${F}']}", want: func(c *Config) any { return c.Watches[0].Thresholds.MinutesConsumed }, wantVal: []float64{12.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := map[string]string{"account_id": "abc", "token": "t"}
			if k, v, ok := strings.Cut(tt.api, ": "); ok {
				api[k] = v
			}
			doc := "api:\n"
			for _, k := range slices.Sorted(maps.Keys(api)) {
				doc += "  " + k + ": " + api[k] + "\n"
			}
			doc += "watches:\n  - name: w\n    app_id: a\n    meetings: [m]\n"
			if tt.watch != "" {
				doc += "    " + tt.watch + "\n"
			}
			cfg, err := Load(strings.NewReader(doc), LoadOptions{Getenv: getenv})
			if err != nil {
				t.Fatalf("Load:\n%s\n%v", doc, err)
			}
			if diff := cmp.Diff(tt.wantVal, tt.want(cfg)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
