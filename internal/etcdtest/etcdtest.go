// Package etcdtest runs a real etcd server for tests: a fresh single-member
// cluster per call of Start, on free loopback ports, with its data in the
// test's temporary directory. It runs the etcd binary found on PATH (Debian's
// etcd-server package, which .ci/run installs); without one, tests skip, or
// fail when CI=true.
//
// It is test equipment: no production package imports it (a test in this
// package checks that). Proxy, beside it, cuts a client off from the server
// to play a network partition.
package etcdtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the name of the etcd server executable looked up on PATH.
const Binary = "etcd"

// StartTimeout bounds how long Start waits for the server to answer its
// health endpoint. A loaded CI machine starts etcd in well under a second;
// the bound is for a machine that is very busy.
const StartTimeout = 30 * time.Second

// startAttempts is how often Start picks new ports when another process
// took one of them between their choice and etcd's bind.
const startAttempts = 5

// Server is one etcd process serving a single-member cluster on loopback.
type Server struct {
	// Endpoint is the client URL, http://127.0.0.1:PORT, or https:// with
	// WithTLS.
	Endpoint string
	// Version is what `etcd --version` printed first ("etcd Version: 3.4.23").
	Version string
	// TLS holds the files of the certificates when the server was started
	// WithTLS; the zero value otherwise.
	TLS TLSFiles

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	logPath string
	stop    sync.Once
}

// Option changes how Start runs the server.
type Option func(*settings)

type settings struct {
	tls bool
}

// WithTLS serves clients over TLS with certificates made for the test and
// requires a client certificate signed by the same CA. The files are in
// Server.TLS.
func WithTLS() Option { return func(s *settings) { s.tls = true } }

// Path returns the etcd binary's path. When there is none it skips the test,
// or fails it when the environment variable CI is "true", so that CI cannot
// pass by running nothing.
func Path(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath(Binary)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("needs the %q server on PATH (Debian: apt-get install etcd-server; .ci/run installs it): %v", Binary, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start runs a fresh etcd in t.TempDir() and returns once it answers, or
// fails the test. The server is stopped when the test ends; its log is
// printed if the test failed.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	path := Path(t)
	var set settings
	for _, o := range opts {
		o(&set)
	}
	version := serverVersion(t, path)
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := start(t, path, set)
		if err == nil {
			s.Version = version
			return s
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("start etcd: %v", lastErr)
	return nil
}

// errPortTaken says that etcd could not bind a port that was free a moment
// before: Start tries again with others.
var errPortTaken = errors.New("a chosen port was taken")

func start(t testing.TB, path string, set settings) (*Server, error) {
	t.Helper()
	dir := t.TempDir()
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	var files TLSFiles
	if set.tls {
		scheme = "https"
		files = writeTLSFiles(t, dir)
	}
	client := fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	args := []string{
		"--name=test",
		"--data-dir=" + filepath.Join(dir, "data"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=test=" + peer,
		"--initial-cluster-state=new",
		// A single member elects itself at once; short ticks also lower
		// the shortest lease the server grants (1.5 election timeouts) to
		// below one second, so tests can use a 1 s lease TTL.
		"--heartbeat-interval=10",
		"--election-timeout=100",
		"--logger=zap",
		"--log-outputs=stderr",
		"--log-level=warn",
	}
	if set.tls {
		args = append(args,
			"--cert-file="+files.ServerCertFile,
			"--key-file="+files.ServerKeyFile,
			"--trusted-ca-file="+files.CAFile,
			"--client-cert-auth",
		)
	}
	logPath := filepath.Join(dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create etcd log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", path, err)
	}
	s := &Server{Endpoint: client, TLS: files, cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("etcd log (%s):\n%s", logPath, tail(logPath, 4096))
		}
	})
	if err := s.waitHealthy(set); err != nil {
		s.Stop()
		log := tail(logPath, 4096)
		if strings.Contains(log, "address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("%w\netcd log:\n%s", err, log)
	}
	return s, nil
}

// waitHealthy polls the server's /health endpoint until it says true, the
// process exits, or StartTimeout passes.
func (s *Server) waitHealthy(set settings) error {
	hc := &http.Client{Timeout: time.Second}
	if set.tls {
		cfg, err := s.TLS.ClientConfig()
		if err != nil {
			return err
		}
		hc.Transport = &http.Transport{TLSClientConfig: cfg}
		defer hc.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := healthy(ctx, hc, s.Endpoint+"/health")
		if ok {
			return nil
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("etcd exited before it answered: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("etcd did not answer %s within %s: %v", s.Endpoint, StartTimeout, last)
		case <-tick.C:
		}
	}
}

func healthy(ctx context.Context, hc *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
		return false, fmt.Errorf("health: %s %s", resp.Status, body)
	}
	return true, nil
}

// Stop kills the server and waits for it to exit. It may be called more
// than once; the test's cleanup calls it too.
func (s *Server) Stop() {
	s.stop.Do(func() {
		s.cmd.Process.Kill()
		<-s.exited
	})
}

// ClientTLS returns the TLS config a client needs for a server started
// WithTLS, or nil for a plain one.
func (s *Server) ClientTLS(t testing.TB) *tls.Config {
	t.Helper()
	if s.TLS == (TLSFiles{}) {
		return nil
	}
	cfg, err := s.TLS.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// serverVersion returns the first line of `etcd --version`.
func serverVersion(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", path, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// tail returns at most the last n bytes of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
