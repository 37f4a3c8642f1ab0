// Package admin is rtkwatchd's admin HTTP API and the client the CLI uses
// to reach it.
//
// The daemon serves /metrics, /healthz and /readyz to anyone its listener
// lets in, and, on loopback only, the endpoints the CLI needs while the
// daemon holds the store's lock: /v1/state, /v1/deliveries,
// /v1/deliveries/retry, /v1/events, /v1/events/replay and /v1/silences. [Start] runs the server; [Client] asks it.
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// cliHeader must be present on the admin API's writing requests. A
// browser cannot send it cross-origin without a preflight, which the admin
// server never grants, so a web page cannot re-queue dead letters.
const cliHeader = "X-Rtkwatchd-Cli"

// Server serves /metrics, /healthz, /readyz and, for the CLI while the
// daemon holds the store, /v1/state and /v1/deliveries.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve has returned
}

// Handlers are the daemon's answers that the admin server exposes.
type Handlers struct {
	// Registry is what /metrics serves.
	Registry *prometheus.Registry
	// Store is the daemon's open store, read and changed for the CLI.
	Store Store
	// Healthy reports whether the schedules make progress (liveness).
	Healthy func() (bool, string)
	// Ready reports whether the daemon polls and delivers (readiness).
	Ready func() (bool, string)
	// Requeued, when set, is called after dead letters were queued again,
	// or events replayed.
	Requeued func()
	// Watch and Notifier, when set, report whether the daemon's config has
	// a watch or notifier of that name; silences and replays name them.
	Watch, Notifier func(name string) bool
	// Log receives the server's own failures.
	Log zerolog.Logger
}

// Start listens on addr and serves h until [Server.Close].
func Start(addr string, h Handlers) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (admin.listen): %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.Registry, promhttp.HandlerOpts{Registry: h.Registry}))
	mux.HandleFunc("GET /healthz", probe(h.Healthy))
	mux.HandleFunc("GET /readyz", probe(h.Ready))
	// The CLI's endpoints show event bodies and change the store: they
	// answer only on loopback, even when /metrics is exposed further.
	mux.Handle("GET /v1/state", loopbackOnly(h.state))
	mux.Handle("GET /v1/deliveries", loopbackOnly(h.deliveries))
	mux.Handle("POST /v1/deliveries/retry", loopbackOnly(h.retry))
	mux.Handle("GET /v1/events", loopbackOnly(h.events))
	mux.Handle("POST /v1/events/replay", loopbackOnly(h.replay))
	mux.Handle("GET /v1/silences", loopbackOnly(h.listSilences))
	mux.Handle("POST /v1/silences", loopbackOnly(h.addSilence))
	mux.Handle("DELETE /v1/silences/{id}", loopbackOnly(h.removeSilence))
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.Log.Error().Err(err).Msg("admin server stopped")
		}
	}()
	return s, nil
}

// Addr is the address the admin server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in flight finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// loopbackOnly refuses requests that do not come from this host (over
// loopback, or to the listener's own address from that same address), and
// requests whose Host is a name other than localhost, which is how a web
// page would reach the listener through DNS rebinding.
func loopbackOnly(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromThisHost(r) {
			http.Error(w, "only from this host", http.StatusForbidden)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if host != "localhost" && net.ParseIP(host) == nil {
			http.Error(w, "only by address", http.StatusForbidden)
			return
		}
		next(w, r)
	})
}

// fromThisHost reports whether r came over loopback, or from the address
// it was sent to (a client on this host using a non-loopback listener).
func fromThisHost(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	remote := net.ParseIP(host)
	if err != nil || remote == nil {
		return false
	}
	if remote.IsLoopback() {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lhost, _, err := net.SplitHostPort(local.String())
	return err == nil && net.ParseIP(lhost).Equal(remote)
}

// probe answers a health check: 200 "ok", or 503 and why not.
func probe(check func() (bool, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		ok, why := check()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, why)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
