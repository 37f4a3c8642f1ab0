package ha

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnectUnreachableFailsWithinTheDialTimeout(t *testing.T) {
	s := etcdtest.Start(t)
	proxy := etcdtest.NewProxy(t, hostPort(s.Endpoint))
	proxy.Cut()
	for _, tc := range []struct{ name, endpoint string }{
		{"nothing listens", closedPort(t)},
		{"packets lost", "http://" + proxy.Addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const timeout = time.Second
			start := time.Now()
			cli, err := Connect(t.Context(), Options{Endpoints: []string{tc.endpoint}, DialTimeout: timeout})
			took := time.Since(start)
			if err == nil {
				cli.Close()
				t.Fatal("Connect succeeded")
			}
			want := fmt.Sprintf("connect to etcd %s: no answer within 1s", tc.endpoint)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start %q", err, want)
			}
			if took < timeout || took > timeout+slack {
				t.Errorf("Connect took %s, want the dial timeout, %s", took, timeout)
			}
		})
	}
}

func TestConnectRejectsBadOptions(t *testing.T) {
	const password = "pa55-w0rd-never-shown"
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no endpoint", Options{}, "etcd endpoints: at least one is needed"},
		{"no port", Options{Endpoints: []string{"etcd-1"}}, `etcd endpoints[0]: "etcd-1": want host:port or http(s)://host:port`},
		{"bad scheme", Options{Endpoints: []string{"127.0.0.1:2379", "grpc://etcd-1:2379"}}, `etcd endpoints[1]: "grpc://etcd-1:2379": scheme must be http or https`},
		{"path", Options{Endpoints: []string{"https://etcd-1:2379/v3"}}, `etcd endpoints[0]: "https://etcd-1:2379/v3": a client URL has no path or query`},
		{"no host", Options{Endpoints: []string{"https://:2379"}}, `etcd endpoints[0]: "https://:2379": want host:port or http(s)://host:port`},
		{"credentials in the URL", Options{Endpoints: []string{"https://root:" + password + "@etcd-1:2379"}},
			"etcd endpoints[0]: credentials in the URL are not used by etcd: set username and password instead"},
		{"cert without key", Options{Endpoints: []string{"etcd-1:2379"}, CertFile: "c.pem"}, "etcd TLS: a client certificate needs both cert file and key file"},
		{"key without cert", Options{Endpoints: []string{"etcd-1:2379"}, KeyFile: "k.pem"}, "etcd TLS: a client certificate needs both cert file and key file"},
		{"password without user", Options{Endpoints: []string{"etcd-1:2379"}, Password: password}, "etcd auth: username and password go together"},
		{"user without password", Options{Endpoints: []string{"etcd-1:2379"}, Username: "rtk"}, "etcd auth: username and password go together"},
		{"negative timeout", Options{Endpoints: []string{"etcd-1:2379"}, DialTimeout: -time.Second}, "etcd dial timeout -1s: must not be negative"},
		{"every problem at once", Options{Endpoints: []string{"x"}, CertFile: "c.pem", Username: "rtk"},
			"etcd endpoints[0]: \"x\": want host:port or http(s)://host:port\n" +
				"etcd TLS: a client certificate needs both cert file and key file\n" +
				"etcd auth: username and password go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli, err := Connect(t.Context(), tc.opts)
			if err == nil {
				cli.Close()
				t.Fatal("Connect succeeded")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %q\nwant %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %q", err)
			}
		})
	}
}

func TestConnectTLSErrorsNameTheFile(t *testing.T) {
	s := etcdtest.Start(t, etcdtest.WithTLS())
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	good := s.TLS
	for _, tc := range []struct {
		name          string
		ca, cert, key string
		want          string
	}{
		{name: "CA missing", ca: missing, cert: good.ClientCertFile, key: good.ClientKeyFile,
			want: "etcd TLS: read CA file: open " + missing + ": no such file or directory"},
		{name: "CA not PEM", ca: junk, cert: good.ClientCertFile, key: good.ClientKeyFile,
			want: "etcd TLS: CA file " + junk + ": no PEM certificate in it"},
		{name: "CA is a key", ca: good.ClientKeyFile, cert: good.ClientCertFile, key: good.ClientKeyFile,
			want: "etcd TLS: CA file " + good.ClientKeyFile + ": no PEM certificate in it"},
		{name: "cert missing", ca: good.CAFile, cert: missing, key: good.ClientKeyFile,
			want: "etcd TLS: read cert file: open " + missing + ": no such file or directory"},
		{name: "cert not PEM", ca: good.CAFile, cert: junk, key: good.ClientKeyFile,
			want: "etcd TLS: cert file " + junk + ": no PEM certificate in it"},
		{name: "key missing", ca: good.CAFile, cert: good.ClientCertFile, key: missing,
			want: "etcd TLS: read key file: open " + missing + ": no such file or directory"},
		{name: "key is a certificate", ca: good.CAFile, cert: good.ClientCertFile, key: good.ClientCertFile,
			want: "etcd TLS: key file " + good.ClientCertFile + ": no PEM private key in it"},
		{name: "key of another certificate", ca: good.CAFile, cert: good.ClientCertFile, key: good.ServerKeyFile,
			want: "etcd TLS: cert file " + good.ClientCertFile + " with key file " + good.ServerKeyFile + ": tls: private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(t.Context(), Options{Endpoints: []string{s.Endpoint}, CAFile: tc.ca, CertFile: tc.cert, KeyFile: tc.key})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
			}
			key, _ := os.ReadFile(good.ServerKeyFile)
			if strings.Contains(err.Error(), strings.TrimSpace(string(key))[40:80]) {
				t.Errorf("the error shows key material: %v", err)
			}
		})
	}
}

func TestConnectOverTLS(t *testing.T) {
	s := etcdtest.Start(t, etcdtest.WithTLS())
	opts := Options{Endpoints: []string{s.Endpoint}, CAFile: s.TLS.CAFile, CertFile: s.TLS.ClientCertFile, KeyFile: s.TLS.ClientKeyFile, DialTimeout: 10 * time.Second}
	cli, err := Connect(t.Context(), opts)
	if err != nil {
		t.Fatalf("Connect with the client certificate: %v", err)
	}
	defer cli.Close()
	if _, err := cli.Put(t.Context(), testPrefix+"k", "v"); err != nil {
		t.Fatalf("put over TLS: %v", err)
	}

	// The server requires a client certificate: without one, a clear
	// failure within the dial timeout.
	opts.CertFile, opts.KeyFile, opts.DialTimeout = "", "", time.Second
	if cli, err := Connect(t.Context(), opts); err == nil {
		cli.Close()
		t.Fatal("Connect without a client certificate succeeded")
	}
	// Nor does a plain-HTTP client get through.
	if cli, err := Connect(t.Context(), Options{Endpoints: []string{strings.Replace(s.Endpoint, "https", "http", 1)}, DialTimeout: time.Second}); err == nil {
		cli.Close()
		t.Fatal("Connect over plain HTTP to a TLS server succeeded")
	}
}

func TestConnectWithUserAndPassword(t *testing.T) {
	s := etcdtest.Start(t)
	enableAuth(t, s.Endpoint, "rootpw-Zq81", "rtk", "rtkpw-Xk42")

	t.Run("right password", func(t *testing.T) {
		cli, err := Connect(t.Context(), Options{Endpoints: []string{s.Endpoint}, Username: "rtk", Password: "rtkpw-Xk42", DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		defer cli.Close()
		// rtk may write under the prefix only; Connect's probe read of
		// "health" was refused, and Connect took that as an answer.
		if _, err := cli.Put(t.Context(), testPrefix+"k", "v"); err != nil {
			t.Errorf("put under the prefix: %v", err)
		}
		if _, err := cli.Put(t.Context(), "/elsewhere", "v"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Errorf("put outside the prefix: %v, want permission denied", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wrong-pw-Hh3"
		cli, err := Connect(t.Context(), Options{Endpoints: []string{s.Endpoint}, Username: "rtk", Password: wrong, DialTimeout: 10 * time.Second})
		if err == nil {
			cli.Close()
			t.Fatal("Connect succeeded")
		}
		want := fmt.Sprintf(`connect to etcd %s: user "rtk": etcdserver: authentication failed, invalid user ID or password`, s.Endpoint)
		if err.Error() != want || !errors.Is(err, rpctypes.ErrAuthFailed) {
			t.Errorf("error:\n got %q\nwant %q (wrapping rpctypes.ErrAuthFailed)", err, want)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("the error shows the password: %q", err)
		}
	})
}

// enableAuth turns on etcd's authentication with a root user and a user
// that may read and write testPrefix only.
func enableAuth(t *testing.T, endpoint, rootPassword, user, password string) {
	t.Helper()
	cli := connect(t, endpoint)
	ctx := t.Context()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", rootPassword); return err },
		func() error { _, err := cli.RoleAdd(ctx, "root"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "rtkwatchd"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "rtkwatchd", testPrefix, clientv3.GetPrefixRangeEnd(testPrefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, user, password); return err },
		func() error { _, err := cli.UserGrantRole(ctx, user, "rtkwatchd"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("enable auth, step %d: %v", i, err)
		}
	}
}
