package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// inProcess is the daemon run by `run` in the test's process.
type inProcess struct {
	log     *lockedBuffer
	reloads chan struct{}
	done    chan error // holds the daemon's end, once
	stop    func()     // ends the daemon and checks that it ended well
}

// runInProcess runs `run` on the fixture's config in this process until
// the test ends, or its stop, and then checks that it ended well.
func (f *fixture) runInProcess(t *testing.T) *inProcess {
	t.Helper()
	return runInProcessAt(t, f.config, f.env)
}

// runInProcessAt runs `run` on the config at path, with env as the whole
// environment, as runInProcess does.
func runInProcessAt(t *testing.T, path string, environ map[string]string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &inProcess{log: &lockedBuffer{}, reloads: make(chan struct{}), done: make(chan error, 1)}
	env := &environment{getenv: func(k string) string { return environ[k] }, stdout: d.log, stderr: d.log, reload: d.reloads}
	go func() { d.done <- runEnv(ctx, []string{"run", "--config", path}, env) }()
	d.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-d.done; err != nil {
			t.Errorf("the daemon ended with %v", err)
		}
		if t.Failed() {
			t.Logf("the daemon's log:\n%s", d.log.String())
		}
	})
	t.Cleanup(d.stop)
	return d
}

// reload asks the daemon to reload its config, as SIGHUP does.
func (d *inProcess) reload(t *testing.T) {
	t.Helper()
	select {
	case d.reloads <- struct{}{}:
	case err := <-d.done:
		d.done <- err // for the cleanup
		t.Fatalf("the daemon ended with %v", err)
	}
}

// connCounter is a loopback TCP proxy to a server that counts the
// connections open through it: each from its accept until either side
// closes it.
type connCounter struct {
	ln     net.Listener
	target string // host:port
	open   atomic.Int32
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// newConnCounter proxies to the host of rawURL, and returns rawURL with
// its host replaced by the proxy's.
func newConnCounter(t *testing.T, rawURL string) (*connCounter, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln, target: u.Host, conns: make(map[net.Conn]bool)}
	c.wg.Go(c.accept)
	t.Cleanup(func() {
		ln.Close()
		c.mu.Lock()
		for conn := range c.conns {
			conn.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
	})
	u.Host = ln.Addr().String()
	return c, u.String()
}

func (c *connCounter) accept() {
	for {
		client, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.wg.Go(func() { c.relay(client) })
	}
}

// relay copies both ways until one side closes, then closes both.
func (c *connCounter) relay(client net.Conn) {
	server, err := net.Dial("tcp", c.target)
	if err != nil {
		client.Close()
		return
	}
	c.mu.Lock()
	c.conns[client], c.conns[server] = true, true
	c.mu.Unlock()
	c.open.Add(1)
	ended := make(chan struct{}, 2)
	c.wg.Go(func() { io.Copy(server, client); ended <- struct{}{} })
	c.wg.Go(func() { io.Copy(client, server); ended <- struct{}{} })
	<-ended
	c.open.Add(-1)
	client.Close()
	server.Close()
	c.mu.Lock()
	delete(c.conns, client)
	delete(c.conns, server)
	c.mu.Unlock()
}

// TestReloadClosesIdleConnections: a reload replaces the API client and
// the notifiers; once the replaced ones have nothing in flight, their
// connections kept for reuse are closed, rather than left to their idle
// timeout, so that reloads do not pile up sockets.
func TestReloadClosesIdleConnections(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	api, apiURL := newConnCounter(t, f.params.APIURL)
	hook, hookURL := newConnCounter(t, f.params.HookURL)
	f.params.APIURL, f.params.HookURL = apiURL, hookURL
	f.writeConfig()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("open connections: %d to the API, %d to the receiver", api.open.Load(), hook.open.Load())
		}
	})

	d := f.runInProcess(t)

	pollUntil(t, 10*time.Second, "the start-up poll", func() bool {
		return f.api.ActiveSessionRequests(testApp, "meeting-1") > 0
	})
	// Each reload follows a change of the meeting, so that the new
	// generation's start-up poll finds an event and delivers it: both of
	// its clients then hold a connection.
	const reloads = 6
	delivered := 0
	for i := 1; i <= reloads; i++ {
		if i%2 == 1 {
			f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 1})
		} else {
			f.api.EndSession(testApp, "meeting-1")
		}
		d.reload(t)
		pollUntil(t, 10*time.Second, fmt.Sprintf("reload %d and its event delivered", i), func() bool {
			delivered += len(f.hook.take())
			return strings.Count(d.log.String(), `"message":"config reloaded"`) == i && delivered == i
		})
	}
	// The running generation keeps its own connection to each; every
	// replaced one has closed its.
	pollUntil(t, 10*time.Second, "one open connection to the API and one to the receiver", func() bool {
		return api.open.Load() == 1 && hook.open.Load() == 1
	})
}

// TestReloadRetiresRemovedNotifier: the deliveries of a notifier that a
// reload removes from the config become dead letters that say so.
func TestReloadRetiresRemovedNotifier(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.params.ExtraNotifier = "old"
	f.writeConfig()
	f.hook.status.Store(http.StatusServiceUnavailable) // old's deliveries wait for a retry
	seedOutbox(t, f.params.StorePath, "old", 3)

	ctx, cancel := context.WithCancel(t.Context())
	reload := make(chan struct{})
	var log lockedBuffer
	env := &environment{getenv: func(k string) string { return f.env[k] }, stdout: &log, stderr: &log, reload: reload}
	done := make(chan error, 1)
	go func() { done <- runEnv(ctx, []string{"run", "--config", f.config}, env) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("the daemon ended with %v", err)
			}
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("the daemon's log:\n%s", log.String())
		}
	})
	pollUntil(t, 10*time.Second, "old's first attempts", func() bool { return len(f.hook.take()) > 0 })

	f.params.ExtraNotifier = ""
	f.writeConfig()
	reload <- struct{}{}
	pollUntil(t, 10*time.Second, "the reload", func() bool {
		return strings.Contains(log.String(), `"message":"config reloaded"`)
	})
	stop()

	st, err := store.Open(f.params.StorePath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.PendingAfter("old", 0, 0); err != nil || len(p) != 0 {
		t.Errorf("old's outbox after the reload: %d deliveries, %v; want none", len(p), err)
	}
	dead, err := st.DeadLettersAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 3 {
		t.Fatalf("%d dead letters, want old's 3", len(dead))
	}
	for _, d := range dead {
		if d.Notifier != "old" || d.LastError != "notifier old is no longer configured" {
			t.Errorf("dead letter %d: notifier %s, last error %q; want old's, saying it is no longer configured", d.ID, d.Notifier, d.LastError)
		}
	}
}
