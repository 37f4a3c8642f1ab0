package notify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// The TLS modes of an email notifier.
const (
	// EmailSTARTTLS upgrades the connection with STARTTLS before anything
	// else is said, and never falls back to plaintext: a server that does
	// not offer STARTTLS gets no message.
	EmailSTARTTLS = "starttls"
	// EmailTLS speaks TLS from the first byte (SMTPS, port 465).
	EmailTLS = "tls"
	// EmailNoTLS speaks plaintext: for a relay on the same host or
	// network. It cannot be used with a password.
	EmailNoTLS = "none"
)

// EmailOptions configure an email notifier.
type EmailOptions struct {
	// Name is the notifier's configured name.
	Name string
	// Host and Port are the SMTP server's. Port defaults to 587 for
	// starttls, 465 for tls and 25 for none.
	Host string
	Port int
	// TLS is EmailSTARTTLS (the default when empty), EmailTLS or
	// EmailNoTLS.
	TLS string
	// Username and Password authenticate with SMTP AUTH (PLAIN, else
	// LOGIN), only over TLS; both or neither. The password is a secret:
	// it appears in no error and no log.
	Username string
	Password string
	// From is the sender's address, To the recipients' (at least one).
	From string
	To   []string
	// Template replaces the default subject and text; nil keeps them.
	Template *Template
	// Group gathers events into one email; the zero Group sends each
	// alone.
	Group Group
	// TLSConfig verifies the server; nil verifies it against the system's
	// roots. Its ServerName is set to Host when empty.
	TLSConfig *tls.Config
	// HELO is the name rtkwatchd gives itself in EHLO; the machine's host
	// name when empty.
	HELO string
	// Now dates the messages; time.Now when nil.
	Now func() time.Time
}

// Email sends one message per event (or per group of events, see
// NotifyGroup) over SMTP: a subject (the title, or the template's), and a
// plain-text body with an HTML alternative. Each attempt opens its own
// connection and ends with the attempt's context. Its Message-ID derives
// from the event (or group) and the notifier, so that a redelivery is
// recognisably the same message.
//
// Failures follow SMTP's own meaning: a 4xx reply, a network error, a
// timeout or a TLS failure is retried; a 5xx reply (a recipient refused,
// authentication rejected, the message refused) is a dead letter, as is a
// server that offers no authentication mechanism it can use. A server that
// does not offer STARTTLS under EmailSTARTTLS is retried: it may be a
// passing fault, and the message is never sent in plaintext. It is safe
// for concurrent use.
type Email struct {
	name      string
	host      string
	port      int
	mode      string
	username  string
	password  string
	from      string
	to        []string
	template  *Template
	group     Group
	tlsConfig *tls.Config
	helo      string
	now       func() time.Time
	secrets   []string // the password and its encodings, scrubbed from errors
}

// NewEmail checks opts and returns an Email notifier. Its errors never
// repeat the password.
func NewEmail(opts EmailOptions) (*Email, error) {
	e := &Email{
		name: opts.Name, host: opts.Host, port: opts.Port, mode: opts.TLS,
		username: opts.Username, password: opts.Password, template: opts.Template, group: opts.Group,
		helo: opts.HELO, now: opts.Now,
	}
	fail := func(format string, args ...any) (*Email, error) {
		return nil, fmt.Errorf("email %s: "+format, append([]any{opts.Name}, args...)...)
	}
	if e.mode == "" {
		e.mode = EmailSTARTTLS
	}
	defaultPort := map[string]int{EmailSTARTTLS: 587, EmailTLS: 465, EmailNoTLS: 25}[e.mode]
	switch {
	case defaultPort == 0:
		return fail("tls %q: must be %s, %s or %s", opts.TLS, EmailSTARTTLS, EmailTLS, EmailNoTLS)
	case e.host == "" || strings.ContainsAny(e.host, " /:\r\n") && net.ParseIP(e.host) == nil:
		return fail("smtp host %q: must be a host name or an IP address", e.host)
	case e.port < 0 || e.port > 65535:
		return fail("smtp port %d: must be between 1 and 65535", e.port)
	case (e.username == "") != (e.password == ""):
		return fail("smtp username and password: give both or neither")
	case e.password != "" && e.mode == EmailNoTLS:
		return fail("smtp password: needs tls %s or %s, never sent in plaintext", EmailSTARTTLS, EmailTLS)
	}
	if e.port == 0 {
		e.port = defaultPort
	}
	from, err := netmail.ParseAddress(opts.From)
	if err != nil {
		return fail("from %q: not an email address", opts.From)
	}
	e.from = from.String()
	if len(opts.To) == 0 {
		return fail("to: no recipient")
	}
	for i, to := range opts.To {
		a, err := netmail.ParseAddress(to)
		if err != nil {
			return fail("to[%d] %q: not an email address", i, to)
		}
		e.to = append(e.to, a.String())
	}
	if opts.TLSConfig != nil {
		e.tlsConfig = opts.TLSConfig.Clone()
	} else {
		e.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if e.tlsConfig.ServerName == "" {
		e.tlsConfig.ServerName = e.host
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.password != "" {
		e.secrets = secretForms(e.username, e.password)
	}
	return e, nil
}

// Name returns the notifier's configured name.
func (e *Email) Name() string { return e.name }

// Concurrency returns 2, for the Worker: mail servers limit the
// connections of one client, and a notification is not a mailing.
func (e *Email) Concurrency() int { return 2 }

// Notify renders m.Body (an event) as an email and sends it once, over a
// connection of its own.
func (e *Email) Notify(ctx context.Context, m Message) Result {
	content, err := renderEmail(m.Body, e.template)
	if err != nil {
		return Result{Err: err}
	}
	return e.send(ctx, m.EventID, content)
}

// Grouping returns how the Worker should group this notifier's events.
func (e *Email) Grouping() Group { return e.group }

// NotifyGroup renders g as one email and sends it once, over a connection
// of its own. Its Message-ID derives from the group's id.
func (e *Email) NotifyGroup(ctx context.Context, g GroupMessage) Result {
	content, err := renderEmailGroup(g, e.template)
	if err != nil {
		return Result{Err: err}
	}
	return e.send(ctx, g.ID, content)
}

// send sends content once as the message of id (an event's or a group's).
func (e *Email) send(ctx context.Context, id string, content emailContent) Result {
	msg, err := e.message(id, content)
	if err != nil {
		return Result{Err: err}
	}
	var stops []func() bool
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	client, err := e.client(ctx, &stops)
	if err != nil {
		return Result{Err: fmt.Errorf("send mail via %s: %w", e.addr(), err)}
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return Result{}
	}
	if ctx.Err() != nil {
		err = errors.Join(ctx.Err(), err)
	}
	retry := smtpRetryable(err)
	return Result{Err: &redactedError{msg: "send mail via " + e.addr() + ": " + e.scrub(err.Error()), err: err}, Retry: retry}
}

// addr is the server's host:port, as errors show it.
func (e *Email) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// message builds the MIME message of one event.
func (e *Email) message(eventID string, c emailContent) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(e.from); err != nil {
		return nil, fmt.Errorf("email from: %w", err)
	}
	if err := msg.To(e.to...); err != nil {
		return nil, fmt.Errorf("email to: %w", err)
	}
	msg.Subject(c.subject)
	msg.SetDateWithValue(e.now())
	msg.SetMessageIDWithValue(messageID(eventID, e.name, e.from))
	msg.SetUserAgent(defaultUserAgent)
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	msg.SetBodyString(mail.TypeTextPlain, c.text)
	msg.AddAlternativeString(mail.TypeTextHTML, c.html)
	return msg, nil
}

// messageID is the Message-ID of an event's email from one notifier: the
// same for every attempt, in the sender's domain.
func messageID(eventID, notifier, from string) string {
	domain := "rtkwatchd.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = strings.Trim(from[i+1:], "<>")
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x80 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return r
			}
			return '-'
		}, s)
	}
	return clean(eventID) + "." + clean(notifier) + "@" + clean(domain)
}

// client returns a go-mail client for one attempt. Its connection is dialled
// here so that it can be closed the moment ctx ends: go-mail bounds the
// conversation with its own timeout only, which is set to what is left of
// ctx's deadline.
func (e *Email) client(ctx context.Context, stops *[]func() bool) (*mail.Client, error) {
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	opts := []mail.Option{
		mail.WithPort(e.port),
		mail.WithTimeout(timeout),
		mail.WithTLSConfig(e.tlsConfig),
		mail.WithDialContextFunc(e.dialer(ctx, stops)),
	}
	switch e.mode {
	case EmailSTARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case EmailTLS:
		// The dialer speaks TLS; go-mail must not try STARTTLS on top.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS), mail.WithSSL())
	case EmailNoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if e.username != "" {
		opts = append(opts, mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(e.username), mail.WithPassword(e.password))
	}
	if e.helo != "" {
		opts = append(opts, mail.WithHELO(e.helo))
	}
	return mail.NewClient(e.host, opts...)
}

// dialer returns the dial function of one attempt: TCP, then TLS for
// EmailTLS, with the connection closed as soon as ctx ends. It adds to
// stops what the caller calls once the attempt is over.
func (e *Email) dialer(ctx context.Context, stops *[]func() bool) mail.DialContextFunc {
	return func(dialCtx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, network, address)
		if err != nil {
			return nil, err
		}
		if e.mode == EmailTLS {
			tc := tls.Client(conn, e.tlsConfig)
			if err := tc.HandshakeContext(dialCtx); err != nil {
				_ = conn.Close()
				return nil, err
			}
			conn = tc
		}
		*stops = append(*stops, context.AfterFunc(ctx, func() { _ = conn.Close() }))
		return conn, nil
	}
}

// smtpRetryable says whether an SMTP failure may pass: by the reply code
// of go-mail's typed errors (4xx yes, 5xx no), never by their text.
func smtpRetryable(err error) bool {
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500 && code < 600:
			return false
		case code >= 400 && code < 500:
			return true
		}
		// No reply code: the message or the connection failed.
		return se.Reason != mail.ErrGetSender && se.Reason != mail.ErrGetRcpts && se.Reason != mail.ErrNoUnencoded
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code < 500 || te.Code >= 600
	}
	for _, permanent := range []error{
		mail.ErrPlainAuthNotSupported, mail.ErrLoginAuthNotSupported, mail.ErrNoSupportedAuthDiscovered,
	} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true // network, timeout, TLS, no STARTTLS offered
}

// scrub removes the password, in every form it travels in, from s.
func (e *Email) scrub(s string) string {
	for _, p := range e.secrets {
		s = strings.ReplaceAll(s, p, "…")
	}
	return s
}

// secretForms lists the forms in which SMTP AUTH carries a password: as
// is, base64 (LOGIN), and the base64 PLAIN response, longest first.
func secretForms(username, password string) []string {
	forms := []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + username + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(password)),
		password,
	}
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return forms
}
