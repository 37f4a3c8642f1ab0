package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
	"github.com/rtkwatchd/rtkwatchd/internal/ha"
)

// haCheckConfig is a config with ha on endpoint, logged in with a password
// read from a file, and a watch of all live meetings (so that --online asks
// only etcd).
const haCheckConfig = `api:
  account_id: 023e105f4ecef8ad9ca31a8372d0c353
  token: ${CLOUDFLARE_API_TOKEN}
watches:
  - name: everything
    app_id: app-1
    all_live: true
ha:
  etcd:
    endpoints: [%s]
    prefix: /rtkwatchd/check/
    %s
    lease_ttl: 3s
    dial_timeout: 2s
`

// haPassword is the etcd password of the check tests: it must never show.
const haPassword = "etcd-pw-Zq81xx"

// writeHAConfig writes haCheckConfig for endpoint, with auth lines, and
// returns its path.
func writeHAConfig(t *testing.T, endpoint, auth string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd-password"), []byte(haPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	auth = strings.ReplaceAll(auth, "DIR", dir)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(haCheckConfig, endpoint, auth)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckHA(t *testing.T) {
	srv := etcdtest.Start(t)
	path := writeHAConfig(t, srv.Endpoint, "")

	r := runCLI(t, secretEnv(), "check", "--config", path)
	r.wantCode(t, exitOK)
	if want := "store etcd " + srv.Endpoint + " prefix /rtkwatchd/check/ lease 3s\n"; !strings.Contains(squeeze(r.stdout), want) {
		t.Errorf("check output lacks %q:\n%s", want, r.stdout)
	}
	if strings.Contains(r.stdout, "etcd answers") {
		t.Errorf("check without --online connected to etcd:\n%s", r.stdout)
	}

	r = runCLI(t, secretEnv(), "check", "--online", "--config", path)
	r.wantCode(t, exitOK)
	if want := "etcd answers at 1 endpoint(s); prefix /rtkwatchd/check/; leader: none yet\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("check --online output lacks %q:\n%s", want, r.stdout)
	}
}

// TestCheckHAOfflineCluster: a cluster that does not answer is an error
// within dial_timeout that says what was tried, and shows no password.
func TestCheckHAOfflineCluster(t *testing.T) {
	path := writeHAConfig(t, "http://"+freeLoopbackAddr(t), "username: rtkwatchd\n    password_file: DIR/etcd-password")
	r := runCLI(t, secretEnv(), "check", "--online", "--config", path)
	if r.code == exitOK {
		t.Fatalf("check --online against no cluster succeeded:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "connect to etcd (ha.etcd)") {
		t.Errorf("error does not say it connected to etcd:\n%s", r.stderr)
	}
	r.noSecrets(t, haPassword)
}

// TestCheckHATLS: check --online reaches a cluster that requires client
// certificates with the files of ha.etcd.tls, and not without them.
func TestCheckHATLS(t *testing.T) {
	srv := etcdtest.Start(t, etcdtest.WithTLS())
	f := srv.TLS
	path := writeHAConfig(t, srv.Endpoint, fmt.Sprintf("tls: {ca_file: %s, cert_file: %s, key_file: %s}", f.CAFile, f.ClientCertFile, f.ClientKeyFile))
	r := runCLI(t, secretEnv(), "check", "--online", "--config", path)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "etcd answers at 1 endpoint(s)") {
		t.Errorf("check --online over TLS:\n%s", r.stdout)
	}

	path = writeHAConfig(t, srv.Endpoint, fmt.Sprintf("tls: {ca_file: %s}", f.CAFile))
	if r := runCLI(t, secretEnv(), "check", "--online", "--config", path); r.code == exitOK {
		t.Errorf("check --online without a client certificate succeeded:\n%s", r.stdout)
	}
}

// TestCheckHAAuth: check --online logs in with ha.etcd.username and the
// password from password_file; a wrong password is refused without being
// shown.
func TestCheckHAAuth(t *testing.T) {
	srv := etcdtest.Start(t)
	cli, err := ha.Connect(t.Context(), ha.Options{Endpoints: []string{srv.Endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", haPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enable auth, step %d: %v", i, err)
		}
	}
	cli.Close()

	path := writeHAConfig(t, srv.Endpoint, "username: root\n    password_file: DIR/etcd-password")
	r := runCLI(t, secretEnv(), "check", "--online", "--config", path)
	r.wantCode(t, exitOK)
	r.noSecrets(t, haPassword)

	path = writeHAConfig(t, srv.Endpoint, "username: root\n    password: wrong-pw-Lk2")
	r = runCLI(t, secretEnv(), "check", "--online", "--config", path)
	if r.code == exitOK {
		t.Fatalf("check --online with a wrong password succeeded:\n%s", r.stdout)
	}
	r.noSecrets(t, haPassword, "wrong-pw-Lk2")
}
