package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wneessen/go-mail"

	"github.com/rtkwatchd/rtkwatchd/internal/smtptest"
)

const smtpPassword = "p4ssw0rd-s3cr3t"

func TestEmailGolden(t *testing.T) {
	for name, body := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			c, err := renderEmail(body, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := "Subject: " + c.subject + "\n\n--- text/plain\n" + c.text + "\n--- text/html\n" + c.html
			golden(t, "email/"+name+".txt", []byte(out))
		})
	}
}

func TestEmailSubjectLimit(t *testing.T) {
	tmpl, err := NewTemplate("mail", TemplateOptions{Title: "{{.Meeting}}\r\nBcc: victim@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range SampleEventTypes() {
		for _, title := range []string{oversizedTitle, escapeHeavyTitle} {
			c, err := renderEmail(hostile(t, typ, title), tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if n := countRunes(c.subject); n > emailSubjectMax {
				t.Errorf("%s: subject of %d characters", typ, n)
			}
			if strings.ContainsAny(c.subject, "\r\n\x01") {
				t.Errorf("%s: subject with a control character: %q", typ, c.subject)
			}
			if strings.Contains(c.html, "<!channel>") {
				t.Errorf("%s: unescaped HTML in the HTML part", typ)
			}
		}
	}
}

// emailTo builds an Email for a test server.
func emailTo(t *testing.T, ts *smtptest.Server, opts EmailOptions) *Email {
	t.Helper()
	opts.Host, opts.Port = ts.HostPort(t)
	if opts.Name == "" {
		opts.Name = "mail"
	}
	if opts.From == "" {
		opts.From = "rtkwatchd@example.com"
	}
	if opts.To == nil {
		opts.To = []string{"video-ops@example.com", "Oncall <oncall@example.com>"}
	}
	opts.Now = func() time.Time { return time.Date(2026, 11, 25, 21, 0, 5, 0, time.UTC) }
	e, err := NewEmail(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func trusting(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// TestEmailDelivers sends through a real SMTP server in each TLS mode and
// reads back what it accepted.
func TestEmailDelivers(t *testing.T) {
	tests := []struct {
		name    string
		mode    smtptest.Mode
		tls     string
		auth    bool
		wantTLS bool
	}{
		{"starttls with auth", smtptest.StartTLS, EmailSTARTTLS, true, true},
		{"implicit tls with auth", smtptest.Implicit, EmailTLS, true, true},
		{"plaintext relay", smtptest.Plain, EmailNoTLS, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := smtptest.Start(t, tt.mode, func(s *smtptest.Server) {
				if tt.auth {
					s.User, s.Pass = "rtk", smtpPassword
				}
			})
			opts := EmailOptions{TLS: tt.tls, TLSConfig: trusting(ts.Pool())}
			if tt.auth {
				opts.Username, opts.Password = "rtk", smtpPassword
			}
			e := emailTo(t, ts, opts)
			body := sample(t, "watch.failing")
			if res := e.Notify(t.Context(), Message{EventID: "evt_sample_watch_failing", Body: body, Attempt: 1}); res.Err != nil || res.Retry {
				t.Fatalf("Notify = %+v", res)
			}
			mails := ts.Received()
			if len(mails) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(mails))
			}
			m := mails[0]
			wantUser := ""
			if tt.auth {
				wantUser = "rtk"
			}
			got := []any{m.From, m.To, m.User, m.TLS}
			want := []any{"rtkwatchd@example.com", []string{"video-ops@example.com", "oncall@example.com"}, wantUser, tt.wantTLS}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
			checkMIME(t, m.Data)
		})
	}
}

// checkMIME reads the message as a mail client would: headers, and a
// text/plain part with a text/html alternative.
func checkMIME(t *testing.T, data []byte) {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{
		"Subject":        subject,
		"Message-Id":     msg.Header.Get("Message-Id"),
		"Auto-Submitted": msg.Header.Get("Auto-Submitted"),
		"Date":           msg.Header.Get("Date"),
	}
	want := map[string]string{
		"Subject":        "Watch failing: Company Town Hall",
		"Message-Id":     "<evt_sample_watch_failing.mail@example.com>",
		"Auto-Submitted": "auto-generated",
		"Date":           "Wed, 25 Nov 2026 21:00:05 +0000",
	}
	if diff := cmp.Diff(want, headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("content type %q, %v", mediaType, err)
	}
	parts := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // NextPart decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		parts[ct] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "Error: server: status 503 Service Unavailable") {
		t.Errorf("text/plain part:\n%s", parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], "<h2>Watch failing</h2>") {
		t.Errorf("text/html part:\n%s", parts["text/html"])
	}
}

// TestEmailAnswers classifies the server's answers: 4xx and network
// trouble are retried, 5xx are dead letters, at the edges of each.
func TestEmailAnswers(t *testing.T) {
	reject := smtptest.Reject
	tests := []struct {
		name      string
		configure func(*smtptest.Server)
		password  string // the client's; smtpPassword when empty
		noCA      bool   // the client does not trust the server's certificate
		wantRetry bool
	}{
		{name: "rcpt 450 mailbox busy", configure: func(s *smtptest.Server) { s.Rcpt = func(string) error { return reject(450) } }, wantRetry: true},
		{name: "rcpt 499", configure: func(s *smtptest.Server) { s.Rcpt = func(string) error { return reject(499) } }, wantRetry: true},
		{name: "rcpt 500", configure: func(s *smtptest.Server) { s.Rcpt = func(string) error { return reject(500) } }},
		{name: "rcpt 550 no such user", configure: func(s *smtptest.Server) {
			s.Rcpt = func(to string) error {
				if strings.HasPrefix(to, "oncall") {
					return reject(550)
				}
				return nil
			}
		}},
		{name: "data 451", configure: func(s *smtptest.Server) { s.Data = func() error { return reject(451) } }, wantRetry: true},
		{name: "data 554 refused", configure: func(s *smtptest.Server) { s.Data = func() error { return reject(554) } }},
		{name: "data 599", configure: func(s *smtptest.Server) { s.Data = func() error { return reject(599) } }},
		{name: "auth 535 wrong password", password: "wrong-" + smtpPassword},
		{name: "untrusted certificate", noCA: true, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := smtptest.Start(t, smtptest.StartTLS, func(s *smtptest.Server) {
				s.User, s.Pass = "rtk", smtpPassword
				if tt.configure != nil {
					tt.configure(s)
				}
			})
			opts := EmailOptions{Username: "rtk", Password: tt.password, TLSConfig: trusting(ts.Pool())}
			if opts.Password == "" {
				opts.Password = smtpPassword
			}
			if tt.noCA {
				opts.TLSConfig = nil
			}
			res := emailTo(t, ts, opts).Notify(t.Context(), Message{EventID: "evt_1", Body: sample(t, "session.started"), Attempt: 1})
			if res.Err == nil || res.Retry != tt.wantRetry || res.Broken || res.StatusCode != 0 {
				t.Errorf("Notify = %+v, want an error with Retry %v", res, tt.wantRetry)
			}
			if res.Err != nil && (strings.Contains(res.Err.Error(), smtpPassword) || !strings.HasPrefix(res.Err.Error(), "send mail via 127.0.0.1:")) {
				t.Errorf("error %q", res.Err)
			}
			if n := len(ts.Received()); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
		})
	}
}

// TestEmailSTARTTLSIsMandatory sends to a server that offers no STARTTLS:
// nothing goes out in plaintext, and the attempt is retried.
func TestEmailSTARTTLSIsMandatory(t *testing.T) {
	for _, auth := range []bool{false, true} {
		ts := smtptest.Start(t, smtptest.Plain, nil)
		opts := EmailOptions{TLS: EmailSTARTTLS, TLSConfig: trusting(ts.Pool())}
		if auth {
			opts.Username, opts.Password = "rtk", smtpPassword
		}
		res := emailTo(t, ts, opts).Notify(t.Context(), Message{EventID: "evt_1", Body: sample(t, "session.started"), Attempt: 1})
		if res.Err == nil || !res.Retry {
			t.Errorf("auth %v: Notify = %+v, want a retryable error", auth, res)
		}
		if res.Err != nil && strings.Contains(res.Err.Error(), smtpPassword) {
			t.Errorf("error %q contains the password", res.Err)
		}
		if n := len(ts.Received()); n != 0 {
			t.Errorf("auth %v: %d messages went out in plaintext", auth, n)
		}
	}
}

func TestEmailUnreachable(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Plain, nil)
	e := emailTo(t, ts, EmailOptions{TLS: EmailNoTLS})
	e.port = 1 // nothing listens there
	res := e.Notify(t.Context(), Message{EventID: "evt_1", Body: sample(t, "session.started"), Attempt: 1})
	if res.Err == nil || !res.Retry {
		t.Errorf("Notify = %+v, want a retryable error", res)
	}
}

// TestEmailEndsWithItsContext cancels an attempt while the server holds
// it in DATA: Notify returns at once, retryable, though go-mail's own
// timeout is far away.
func TestEmailEndsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	ts := smtptest.Start(t, smtptest.Plain, func(s *smtptest.Server) {
		s.Data = func() error { <-release; return nil }
	})
	t.Cleanup(func() { close(release) })
	e := emailTo(t, ts, EmailOptions{TLS: EmailNoTLS})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan Result, 1)
	body := sample(t, "session.started")
	go func() {
		done <- e.Notify(ctx, Message{EventID: "evt_1", Body: body, Attempt: 1})
	}()
	select {
	case <-ts.InData():
	case <-time.After(10 * time.Second):
		t.Fatal("the message never reached DATA")
	}
	cancel()
	select {
	case res := <-done:
		if res.Err == nil || !res.Retry || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("Notify = %+v, want a retryable cancellation", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not return after its context ended")
	}
}

func TestSMTPRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&textproto.Error{Code: 421, Msg: "service not available"}, true},
		{fmt.Errorf("dial failed: %w", &textproto.Error{Code: 499}), true},
		{fmt.Errorf("dial failed: %w", &textproto.Error{Code: 500}), false},
		{fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535}), false},
		{&textproto.Error{Code: 599}, false},
		{mail.ErrNoSupportedAuthDiscovered, false},
		{fmt.Errorf("dial failed: %w", mail.ErrPlainAuthNotSupported), false},
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
		{errors.New("STARTTLS mode set to: \"TLSMandatory\", but target host does not support STARTTLS"), true},
	}
	for _, tt := range tests {
		if got := smtpRetryable(tt.err); got != tt.want {
			t.Errorf("smtpRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNewEmailErrors(t *testing.T) {
	ok := EmailOptions{Name: "mail", Host: "smtp.example.com", From: "rtk@example.com", To: []string{"ops@example.com"}}
	tests := []struct {
		edit func(*EmailOptions)
		want string
	}{
		{func(o *EmailOptions) { o.TLS = "ssl" }, `email mail: tls "ssl": must be starttls, tls or none`},
		{func(o *EmailOptions) { o.Host = "" }, `email mail: smtp host "": must be a host name or an IP address`},
		{func(o *EmailOptions) { o.Host = "smtp.example.com:587" }, `email mail: smtp host "smtp.example.com:587": must be a host name or an IP address`},
		{func(o *EmailOptions) { o.Port = -1 }, "email mail: smtp port -1: must be between 1 and 65535"},
		{func(o *EmailOptions) { o.Port = 65536 }, "email mail: smtp port 65536: must be between 1 and 65535"},
		{func(o *EmailOptions) { o.Password = smtpPassword }, "email mail: smtp username and password: give both or neither"},
		{func(o *EmailOptions) { o.Username = "rtk" }, "email mail: smtp username and password: give both or neither"},
		{func(o *EmailOptions) { o.Username, o.Password, o.TLS = "rtk", smtpPassword, EmailNoTLS },
			"email mail: smtp password: needs tls starttls or tls, never sent in plaintext"},
		{func(o *EmailOptions) { o.From = "rtkwatchd" }, `email mail: from "rtkwatchd": not an email address`},
		{func(o *EmailOptions) { o.To = nil }, "email mail: to: no recipient"},
		{func(o *EmailOptions) { o.To = []string{"ops@example.com", "a@b\r\nBcc: c@d"} }, `email mail: to[1] "a@b\r\nBcc: c@d": not an email address`},
	}
	for _, tt := range tests {
		o := ok
		tt.edit(&o)
		_, err := NewEmail(o)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewEmail error %v, want %q", err, tt.want)
		}
	}
	for port, want := range map[string]int{EmailSTARTTLS: 587, EmailTLS: 465, EmailNoTLS: 25, "": 587} {
		o := ok
		o.TLS = port
		e, err := NewEmail(o)
		if err != nil || e.port != want {
			t.Errorf("tls %q: port %v, %v; want %d", port, e, err, want)
		}
	}
	o := ok
	o.Port = 65535
	if _, err := NewEmail(o); err != nil {
		t.Errorf("port 65535: %v", err)
	}
}
