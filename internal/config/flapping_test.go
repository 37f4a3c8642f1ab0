package config

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadFlapping(t *testing.T) {
	const head = "api: {account_id: abc, token: t}\nwatches:\n  - {name: w, app_id: a, all_live: true"
	tests := []struct {
		name string
		keys string
		env  map[string]string
		want [3]any // failing_ratio, recover_after, remind_every
	}{
		{"left out: off, 1, never", "", nil, [3]any{0.0, 1, time.Duration(0)}},
		{"set", ", failing_ratio: 0.5, recover_after: 3, remind_every: 1h", nil, [3]any{0.5, 3, time.Hour}},
		{"from the environment", `, failing_ratio: "${RATIO}", recover_after: "${N}", remind_every: "${EVERY}"`,
			map[string]string{"RATIO": "0.3", "N": "5", "EVERY": "90m"}, [3]any{0.3, 5, 90 * time.Minute}},
		{"0 turns the ratio and reminders off", ", failing_ratio: 0, remind_every: 0s", nil, [3]any{0.0, 1, time.Duration(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(strings.NewReader(head+tt.keys+"}\n"), LoadOptions{Getenv: func(k string) string { return tt.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.Watches[0]
			if diff := cmp.Diff(tt.want, [3]any{w.FailingRatio, w.RecoverAfter, w.RemindEvery}); diff != "" {
				t.Errorf("failing_ratio, recover_after, remind_every (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateFlapping checks each key at the edges of what it takes.
func TestValidateFlapping(t *testing.T) {
	const (
		ratio   = "watches[0].failing_ratio: must be a fraction > 0 and <= 1 (of the last 10 polls), or 0 to turn it off"
		recover = "watches[0].recover_after: must be >= 1"
		remind  = "watches[0].remind_every: must be at least 1m, or 0 to turn reminders off"
	)
	tests := []struct {
		name string
		edit func(w *Watch)
		want string
	}{
		{"ratio 1", func(w *Watch) { w.FailingRatio = 1 }, ""},
		{"ratio just over 1", func(w *Watch) { w.FailingRatio = math.Nextafter(1, 2) }, ratio},
		{"ratio just over 0", func(w *Watch) { w.FailingRatio = math.SmallestNonzeroFloat64 }, ""},
		{"ratio 0 is off", func(w *Watch) { w.FailingRatio = 0 }, ""},
		{"ratio just under 0", func(w *Watch) { w.FailingRatio = -math.SmallestNonzeroFloat64 }, ratio},
		{"ratio NaN", func(w *Watch) { w.FailingRatio = math.NaN() }, ratio},
		{"ratio infinite", func(w *Watch) { w.FailingRatio = math.Inf(1) }, ratio},
		{"recover_after 1", func(w *Watch) { w.RecoverAfter = 1 }, ""},
		{"recover_after 0", func(w *Watch) { w.RecoverAfter = 0 }, recover},
		{"recover_after 1000", func(w *Watch) { w.RecoverAfter = 1000 }, ""},
		{"remind_every 1m", func(w *Watch) { w.RemindEvery = time.Minute }, ""},
		{"remind_every just under 1m", func(w *Watch) { w.RemindEvery = time.Minute - time.Nanosecond }, remind},
		{"remind_every 0 is never", func(w *Watch) { w.RemindEvery = 0 }, ""},
		{"remind_every negative", func(w *Watch) { w.RemindEvery = -time.Nanosecond }, remind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c.Watches[0])
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}
