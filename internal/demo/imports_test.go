package demo

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyDemoRunsOnTheFake: internal/rtkfake is test equipment. The demo
// is the one production package that runs on it; no other package may
// import it outside its tests.
func TestOnlyDemoRunsOnTheFake(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	const (
		module = "github.com/rtkwatchd/rtkwatchd"
		fake   = module + "/internal/rtkfake"
	)
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == fake && f[0] != module+"/internal/demo" {
				t.Errorf("%s imports %s outside its tests; only internal/demo may", f[0], fake)
			}
		}
	}
}
