package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// adminCLIHeader must be present on the admin API's writing requests. A
// browser cannot send it cross-origin without a preflight, which the admin
// server never grants, so a web page cannot re-queue dead letters.
const adminCLIHeader = "X-Rtkwatchd-Cli"

// adminServer serves /metrics, /healthz, /readyz and, for the CLI while the
// daemon holds the store, /v1/state and /v1/deliveries.
type adminServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve has returned
}

// adminHandlers are the daemon's answers that the admin server exposes.
type adminHandlers struct {
	registry *prometheus.Registry
	store    *store.Store
	// healthy reports whether the schedules make progress (liveness).
	healthy func() (bool, string)
	// ready reports whether the daemon polls and delivers (readiness).
	ready func() (bool, string)
	// requeued is called after dead letters were queued again.
	requeued func()
	log      zerolog.Logger
}

// startAdmin listens on addr and serves h until shutdown.
func startAdmin(addr string, h adminHandlers) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (admin.listen): %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{Registry: h.registry}))
	mux.HandleFunc("GET /healthz", probe(h.healthy))
	mux.HandleFunc("GET /readyz", probe(h.ready))
	// The CLI's endpoints show event bodies and change the store: they
	// answer only on loopback, even when /metrics is exposed further.
	mux.Handle("GET /v1/state", loopbackOnly(h.state))
	mux.Handle("GET /v1/deliveries", loopbackOnly(h.deliveries))
	mux.Handle("POST /v1/deliveries/retry", loopbackOnly(h.retry))
	s := &adminServer{
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
			h.log.Error().Err(err).Msg("admin server stopped")
		}
	}()
	return s, nil
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

// Addr is the address the admin server listens on.
func (s *adminServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in flight finish until ctx ends.
func (s *adminServer) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

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

// state answers `rtkwatchd state` while the daemon holds the store: the raw
// stored snapshots, one JSON object per line, keyed as in the store.
func (h adminHandlers) state(w http.ResponseWriter, r *http.Request) {
	meeting := r.URL.Query().Get("meeting")
	w.Header().Set("content-type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	err := h.store.ForEachSnapshot(func(k store.SnapshotKey, b []byte) error {
		if meeting != "" && k.MeetingID != meeting {
			return nil
		}
		return enc.Encode(adminSnapshot{Watch: k.Watch, MeetingID: k.MeetingID, Snapshot: b})
	})
	if err != nil {
		h.log.Error().Err(err).Msg("admin: read snapshots")
	}
}

// adminSnapshot is one line of /v1/state.
type adminSnapshot struct {
	Watch     string          `json:"watch"`
	MeetingID string          `json:"meeting_id"`
	Snapshot  json.RawMessage `json:"snapshot"`
}

func (h adminHandlers) deliveries(w http.ResponseWriter, r *http.Request) {
	var (
		list []store.Delivery
		err  error
	)
	if r.URL.Query().Get("failed") != "" {
		list, err = h.store.DeadLetters()
	} else {
		list, err = h.store.Outbox()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func (h adminHandlers) retry(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(adminCLIHeader) == "" {
		http.Error(w, "missing "+adminCLIHeader+" header", http.StatusForbidden)
		return
	}
	var ids []uint64
	if s := r.URL.Query().Get("ids"); s != "" {
		for _, f := range strings.Split(s, ",") {
			id, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				http.Error(w, fmt.Sprintf("bad delivery ID %q", f), http.StatusBadRequest)
				return
			}
			ids = append(ids, id)
		}
	} else if r.URL.Query().Get("all") == "" {
		http.Error(w, "give ids=… or all=1", http.StatusBadRequest)
		return
	}
	n, err := h.store.Requeue(time.Now(), ids...)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	if h.requeued != nil {
		h.requeued()
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"requeued": n})
}
