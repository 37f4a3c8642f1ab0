package notify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// pipeListener is a net.Listener for a receiver inside a synctest bubble:
// each connection is an in-memory net.Pipe that its dial makes. A goroutine
// waiting on a socket is not durably blocked, so over loopback a bubble's
// clock stands still while a receiver hangs; waiting on a pipe is, so the
// clock moves on and a client's timeout ends the hang at exactly its time.
type pipeListener struct {
	conns  chan net.Conn // server ends, from dial to Accept
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial connects a client to the listener: a http.Transport's DialContext.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pipeAddr is the address of a pipeListener.
type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe.test" }

// newPipeReceiver starts a receiver, as newReceiver does, reached over
// in-memory connections instead of loopback, and returns the client that
// reaches it: a notifier's default client with a transport that dials the
// receiver's listener. Call it inside the synctest bubble whose clock the
// receiver's waits should let move; the receiver and the client's idle
// connections are closed when the test ends.
func newPipeReceiver(t testing.TB, respond func(n int, w http.ResponseWriter, r *http.Request)) (*receiver, *http.Client) {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	rc := &receiver{respond: respond, got: make(chan struct{}, 1<<16)}
	rc.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(rc.serve)}}
	rc.srv.Start()
	tr := &http.Transport{DialContext: l.dial}
	client := defaultClient()
	client.Transport = tr
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		rc.srv.Close()
	})
	return rc, client
}
