package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
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

// selfSigned returns a server certificate for 127.0.0.1, signed by itself,
// and the pool a client needs to trust it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
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
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// smtpMail is one message the test server accepted.
type smtpMail struct {
	from string
	to   []string
	data []byte
	user string // who authenticated; "" for nobody
	tls  bool   // whether the session was encrypted
}

// smtpServer is a real SMTP server (go-smtp) on loopback that records what
// it accepts and answers as told.
type smtpServer struct {
	addr       string
	user, pass string // when set, AUTH PLAIN with these is required
	// rcpt and data, when set, decide the answers to RCPT TO and DATA.
	rcpt func(to string) error
	data func() error

	mu     sync.Mutex
	mails  []smtpMail
	inData chan struct{} // receives a value when a DATA command starts
}

// smtpMode is how a test server speaks.
type smtpMode int

const (
	smtpPlain    smtpMode = iota // no TLS at all
	smtpStartTLS                 // STARTTLS offered
	smtpImplicit                 // TLS from the first byte
)

// startSMTP starts a server on 127.0.0.1 and returns it with the pool that
// trusts its certificate. configure may set the answers before it serves.
func startSMTP(t *testing.T, mode smtpMode, configure func(*smtpServer)) (*smtpServer, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	ts := &smtpServer{inData: make(chan struct{}, 16)}
	if configure != nil {
		configure(ts)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: ts, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case smtpStartTLS:
		s.TLSConfig = tlsConfig
	case smtpImplicit:
		s.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
	}
	ts.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	})
	return ts, pool
}

// received returns the messages accepted so far.
func (ts *smtpServer) received() []smtpMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]smtpMail(nil), ts.mails...)
}

// hostPort splits the server's address for EmailOptions.
func (ts *smtpServer) hostPort(t *testing.T) (string, int) {
	t.Helper()
	tcp, err := net.ResolveTCPAddr("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	return tcp.IP.String(), tcp.Port
}

// smtpSession is one client's conversation with the test server.
type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	from string
	to   []string
	user string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.user || password != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcpt != nil {
		if err := s.srv.rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	select {
	case s.srv.inData <- struct{}{}:
	default:
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.data != nil {
		if err := s.srv.data(); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.mails = append(s.srv.mails, smtpMail{from: s.from, to: s.to, data: b, user: s.user, tls: isTLS})
	return nil
}

func (s *smtpSession) Reset() { s.from, s.to = "", nil }

func (s *smtpSession) Logout() error { return nil }
