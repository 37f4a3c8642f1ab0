// Package smtptest runs a real SMTP server (emersion/go-smtp) on loopback
// for tests: in plaintext, with STARTTLS or with TLS from the first byte,
// with a certificate made for the test, optionally requiring AUTH PLAIN,
// and answering RCPT TO and DATA as the test says. It records what it
// accepts.
//
// It is test equipment: no production package imports it (a test in this
// package checks that).
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how a Server speaks.
type Mode int

// The modes of a Server.
const (
	// Plain offers no TLS at all.
	Plain Mode = iota
	// StartTLS offers STARTTLS.
	StartTLS
	// Implicit speaks TLS from the first byte (SMTPS).
	Implicit
)

// Mail is one message a Server accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
	// User is who authenticated; "" for nobody.
	User string
	// TLS reports whether the session was encrypted.
	TLS bool
}

// Server is a running SMTP server. Set its exported fields in the
// configure function of Start, before it serves.
type Server struct {
	// User and Pass, when User is set, are the only credentials AUTH PLAIN
	// accepts, and authentication is required before MAIL FROM.
	User, Pass string
	// Rcpt and Data, when set, decide the answers to RCPT TO and DATA: a
	// non-nil error (see Reject) refuses.
	Rcpt func(to string) error
	Data func() error

	addr    string
	pool    *x509.CertPool
	certPEM []byte

	mu     sync.Mutex
	mails  []Mail
	inData chan struct{}
}

// Start starts a server on 127.0.0.1 that t's cleanup stops. configure,
// when not nil, sets the server's answers before it serves.
func Start(t testing.TB, mode Mode, configure func(*Server)) *Server {
	t.Helper()
	cert := selfSigned(t)
	ts := &Server{inData: make(chan struct{}, 16), pool: x509.NewCertPool()}
	ts.pool.AddCert(cert.Leaf)
	ts.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	if configure != nil {
		configure(ts)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: ts, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case StartTLS:
		s.TLSConfig = tlsConfig
	case Implicit:
		s.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
	}
	ts.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		// Close only closes the listeners Serve has taken on: when the
		// test ends before Serve's goroutine ran, the listener is still
		// ours to close, or Serve would wait in Accept for ever.
		_ = ln.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	})
	return ts
}

// selfSigned returns a server certificate for 127.0.0.1, signed by itself.
func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rtkwatchd test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
}

// Addr is the server's host:port.
func (ts *Server) Addr() string { return ts.addr }

// HostPort splits the server's address.
func (ts *Server) HostPort(t testing.TB) (string, int) {
	t.Helper()
	tcp, err := net.ResolveTCPAddr("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	return tcp.IP.String(), tcp.Port
}

// Pool is the certificate pool that trusts the server.
func (ts *Server) Pool() *x509.CertPool { return ts.pool }

// CertPEM is the server's certificate in PEM, for a process that reads
// its roots from a file (SSL_CERT_FILE).
func (ts *Server) CertPEM() []byte { return ts.certPEM }

// Received returns the messages accepted so far.
func (ts *Server) Received() []Mail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Mail(nil), ts.mails...)
}

// InData receives a value whenever a DATA command starts.
func (ts *Server) InData() <-chan struct{} { return ts.inData }

// Reject is the SMTP reply of code (with the enhanced code class.0.0), to
// return from Rcpt or Data.
func Reject(code int) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "no"}
}

// session is one client's conversation with the server.
type session struct {
	srv  *Server
	conn *smtp.Conn
	from string
	to   []string
	user string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.User || password != s.srv.Pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.Rcpt != nil {
		if err := s.srv.Rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	select {
	case s.srv.inData <- struct{}{}:
	default:
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.Data != nil {
		if err := s.srv.Data(); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.mails = append(s.srv.mails, Mail{From: s.from, To: s.to, Data: b, User: s.user, TLS: isTLS})
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }
