package smtptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoProductionImport: smtptest is test equipment; no package imports it
// outside its tests, so go-smtp never reaches the binary.
func TestNoProductionImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	const module = "github.com/rtkwatchd/rtkwatchd"
	out, err := exec.Command("go", "list", "-deps", module+"/cmd/rtkwatchd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if p := strings.TrimSpace(line); p == module+"/internal/smtptest" || strings.HasPrefix(p, "github.com/emersion/go-smtp") {
			t.Errorf("the binary depends on %s", p)
		}
	}
}
