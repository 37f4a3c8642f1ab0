package etcdtest

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func newClient(t *testing.T, endpoint string, s *Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		TLS:         s.ClientTLS(t),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestStartServesAndStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"tls", []Option{WithTLS()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, tc.opts...)
			t.Logf("%s at %s", s.Version, s.Endpoint)
			cli := newClient(t, s.Endpoint, s)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := cli.Put(ctx, "k", "v"); err != nil {
				t.Fatalf("put: %v", err)
			}
			resp, err := cli.Get(ctx, "k")
			if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
				t.Fatalf("get k = %v, %v; want v", resp, err)
			}
			s.Stop()
			s.Stop() // a second Stop is harmless
			if s.cmd.ProcessState == nil {
				t.Fatal("Stop returned before the process exited")
			}
		})
	}
}

func TestServersAreFreshAndSeparate(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint == b.Endpoint {
		t.Fatalf("two servers on one endpoint %s", a.Endpoint)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := newClient(t, a.Endpoint, a).Put(ctx, "only-in-a", "1"); err != nil {
		t.Fatal(err)
	}
	resp, err := newClient(t, b.Endpoint, b).Get(ctx, "only-in-a")
	if err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("b sees a's key: %v, %v", resp, err)
	}
}

// TestProxyCutsAndHeals: a call through a cut proxy hangs until its own
// deadline and never reaches the server; once healed, calls go through.
// Only the call that must hang has a short deadline: the calls that must
// succeed wait as long as a very busy machine may need (StartTimeout), so
// that a slow etcd (a WAL fsync behind other builds) is not taken for a
// proxy that failed to heal.
func TestProxyCutsAndHeals(t *testing.T) {
	s := Start(t)
	p := NewProxy(t, strings.TrimPrefix(s.Endpoint, "http://"))
	cli := newClient(t, "http://"+p.Addr, s)
	put := func(ctx context.Context, key string) error {
		_, err := cli.Put(ctx, key, "v")
		return err
	}
	ctx, cancel := context.WithTimeout(t.Context(), StartTimeout)
	defer cancel()
	if err := put(ctx, "k"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}

	p.Cut()
	cutCtx, cutCancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cutCancel()
	if err := put(cutCtx, "while-cut"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while cut: err = %v, want a deadline exceeded", err)
	}

	p.Heal()
	// Heal closes the silent connections; the client notices on its next
	// call, which may fail at once with Unavailable before it dials again.
	// Poll until a put goes through; each waits until the one deadline.
	ctx, cancel = context.WithTimeout(t.Context(), StartTimeout)
	defer cancel()
	for {
		err := put(ctx, "k")
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("after heal: no put went through in %s: %v", StartTimeout, err)
		}
		select {
		case <-time.After(20 * time.Millisecond): // between polls
		case <-ctx.Done():
		}
	}
	// The put made while cut was dropped, not held back: its connection
	// was closed by Heal, so it can never arrive.
	resp, err := cli.Get(ctx, "while-cut")
	if err != nil || len(resp.Kvs) != 0 {
		t.Errorf("get while-cut = %v, %v; want no key, as the put made while cut never reached the server", resp, err)
	}
}

// TestOnlyTestsImportEtcdtest: this package runs servers; production code
// must never import it.
func TestOnlyTestsImportEtcdtest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	const (
		module = "github.com/rtkwatchd/rtkwatchd"
		self   = module + "/internal/etcdtest"
	)
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == self {
				t.Errorf("%s imports %s outside its tests", f[0], self)
			}
		}
	}
}
