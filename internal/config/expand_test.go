package config

import "testing"

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "B_2": "b$x", "DIR": "/run/credentials/rtkwatchd.service"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${B_2}z", want: "xalphayb$xz"},
		{in: "${DIR}/cf-token", want: "/run/credentials/rtkwatchd.service/cf-token"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "$A $HOME", want: "$A $HOME"},
		{in: "cost: 5$", want: "cost: 5$"},
		{in: "$", want: "$"},
		{in: "${UNSET}", err: "environment variable UNSET is not set"},
		{in: "ab${A", err: `"${" at offset 2 has no closing "}" (write $$ for a literal $)`},
		{in: "${}", err: `"${…}" at offset 0 is not a variable name like ${NAME} (write $$ for a literal $)`},
		{in: "${A:-x}", err: `"${…}" at offset 0 is not a variable name like ${NAME} (write $$ for a literal $)`},
		{in: "${9A}", err: `"${…}" at offset 0 is not a variable name like ${NAME} (write $$ for a literal $)`},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, getenv)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("expand(%q) error = %v", tt.in, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
