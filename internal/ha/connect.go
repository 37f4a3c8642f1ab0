package ha

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DefaultDialTimeout is how long Connect waits for the cluster when
// Options.DialTimeout is zero.
const DefaultDialTimeout = 5 * time.Second

// How the client checks a connection that has been quiet: a ping after
// keepAliveTime, dropped after keepAliveTimeout without an answer, so that a
// member that vanished without closing the connection is left for another.
// etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 5 * time.Second
)

// Options say how to reach etcd. The password is a plain string: this
// package never puts it in an error or a log line.
type Options struct {
	// Endpoints are the cluster's client URLs: "https://etcd-1:2379", or
	// "host:port" for plain HTTP. At least one.
	Endpoints []string
	// CAFile is a PEM file of the CAs that sign the members' certificates;
	// empty means the system's roots. CertFile and KeyFile are a client
	// certificate and its key, both or neither. Any of the three, or an
	// https endpoint, turns TLS on.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate with etcd's own users, both or
	// neither.
	Username, Password string
	// DialTimeout bounds Connect: the connection, the authentication and
	// a first read. Zero means DefaultDialTimeout.
	DialTimeout time.Duration
}

// Connect opens a client on the cluster and returns it once the cluster has
// answered a read, so that a cluster that cannot be reached, refuses the
// credentials or has no quorum is an error here, within the dial timeout,
// rather than a hang later. The caller closes the client.
func Connect(ctx context.Context, o Options) (*clientv3.Client, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	tlsConfig, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	timeout := o.DialTimeout
	if timeout == 0 {
		timeout = DefaultDialTimeout
	}
	where := strings.Join(o.Endpoints, ",")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            o.Endpoints,
		TLS:                  tlsConfig,
		Username:             o.Username,
		Password:             o.Password,
		DialTimeout:          timeout,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %s: %w", where, connectError(err, o, timeout))
	}
	// The key etcdctl's health check reads; a user allowed to read only
	// rtkwatchd's prefix gets "permission denied", which proves as much.
	_, err = cli.Get(ctx, "health")
	if err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		cli.Close()
		return nil, fmt.Errorf("connect to etcd %s: %w", where, connectError(err, o, timeout))
	}
	return cli, nil
}

// connectError words the usual reasons a connection fails.
func connectError(err error, o Options, timeout time.Duration) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer within %s: %w", timeout, err)
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return fmt.Errorf("user %q: %w", o.Username, err)
	}
	return err
}

// validate checks Options without touching the network or the files.
func (o Options) validate() error {
	var errs []error
	if len(o.Endpoints) == 0 {
		errs = append(errs, errors.New("etcd endpoints: at least one is needed"))
	}
	for i, ep := range o.Endpoints {
		if err := checkEndpoint(ep); err != nil {
			errs = append(errs, fmt.Errorf("etcd endpoints[%d]: %w", i, err))
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("etcd TLS: a client certificate needs both cert file and key file"))
	}
	if (o.Username == "") != (o.Password == "") {
		errs = append(errs, errors.New("etcd auth: username and password go together"))
	}
	if o.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("etcd dial timeout %s: must not be negative", o.DialTimeout))
	}
	return errors.Join(errs...)
}

// checkEndpoint accepts "host:port" and http(s)://host:port. The endpoint
// is named only when it carries no credentials.
func checkEndpoint(ep string) error {
	hostport := ep
	if scheme, rest, ok := strings.Cut(ep, "://"); ok {
		u, err := url.Parse(ep)
		if err != nil {
			return errors.New("not a URL")
		}
		if u.User != nil {
			return errors.New("credentials in the URL are not used by etcd: set username and password instead")
		}
		if scheme != "http" && scheme != "https" {
			return fmt.Errorf("%q: scheme must be http or https", ep)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return fmt.Errorf("%q: a client URL has no path or query", ep)
		}
		hostport = strings.TrimSuffix(rest, "/")
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("%q: want host:port or http(s)://host:port", ep)
	}
	return nil
}

// tlsConfig reads the TLS files into a config, or returns nil when no file
// is set and no endpoint is https. Every error names the file.
func (o Options) tlsConfig() (*tls.Config, error) {
	https := false
	for _, ep := range o.Endpoints {
		https = https || strings.HasPrefix(ep, "https://")
	}
	if o.CAFile == "" && o.CertFile == "" && !https {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd TLS: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd TLS: CA file %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := loadKeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd TLS: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadKeyPair reads a client certificate and its key, and says which file
// is at fault: the one that cannot be read or holds no PEM block of its
// kind, or both when they do not belong together. The key's bytes never
// reach the error.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read cert file: %w", err)
	}
	if !hasPEM(certPEM, func(typ string) bool { return typ == "CERTIFICATE" }) {
		return tls.Certificate{}, fmt.Errorf("cert file %s: no PEM certificate in it", certFile)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read key file: %w", err)
	}
	if !hasPEM(keyPEM, func(typ string) bool { return strings.HasSuffix(typ, "PRIVATE KEY") }) {
		return tls.Certificate{}, fmt.Errorf("key file %s: no PEM private key in it", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert file %s with key file %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// hasPEM reports whether data holds a PEM block of a type that want accepts.
func hasPEM(data []byte, want func(typ string) bool) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if want(b.Type) {
			return true
		}
	}
}
