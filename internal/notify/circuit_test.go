package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// TestWorkerDrainsAfterRecovery queues two events of a new meeting every
// 5s while the receiver is down, which it is for 45s: the first delivery
// after it is back, at 45s, drains the whole backlog at once, each meeting
// in order, where the heads' backoffs would have held meeting 0 until
// 76.5s (its retries at 0.9s, 4.5s, 18.9s, 76.5s).
func TestWorkerDrainsAfterRecovery(t *testing.T) {
	var up atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		log := &timedLog{Notifier: newTestWebhook(t, "ops", rc.srv.URL, bubbleClient())}
		w := NewWorker(st, []Notifier{log}, WorkerOptions{Rand: half})
		startWorker(t, w)
		for i := range 10 {
			if i == 9 {
				up.Store(true)
			}
			m := fmt.Sprintf("m%d", i)
			commitMeeting(t, st, time.Now(), m, m+"-1", m+"-2")
			w.Wake()
			time.Sleep(5 * time.Second)
		}
		if n := len(pending(t, st, "ops")); n != 0 {
			t.Fatalf("%d deliveries pending at 50s, want none", n)
		}
		for i := range 10 {
			first, second := log.times(fmt.Sprintf("m%d-1", i)), log.times(fmt.Sprintf("m%d-2", i))
			if len(first) == 0 || len(second) != 1 {
				t.Fatalf("meeting %d: attempts %v and %v", i, first, second)
			}
			if got, want := first[len(first)-1].Sub(start), 45*time.Second; got != want {
				t.Errorf("meeting %d's first event delivered at %s, want %s", i, got, want)
			}
			if got, want := second[0].Sub(start), 45*time.Second; got != want {
				t.Errorf("meeting %d's second event delivered at %s, want %s", i, got, want)
			}
		}
		// Per-meeting order: each second event reached the receiver after
		// its meeting's first was delivered.
		pos := make(map[string]int)
		for i, r := range rc.requests() {
			pos[r.Header.Get("Webhook-Id")] = i // the last request of each id
		}
		for i := range 10 {
			if a, b := pos[fmt.Sprintf("m%d-1", i)], pos[fmt.Sprintf("m%d-2", i)]; a > b {
				t.Errorf("meeting %d: second event (request %d) before the first was delivered (request %d)", i, b, a)
			}
		}
	})
}

// switchDialer dials a closed port until up, then the receiver.
type switchDialer struct {
	up          atomic.Bool
	closed, rcv string
}

func (s *switchDialer) client() *http.Client {
	c := defaultClient()
	c.Transport = &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		addr := s.closed
		if s.up.Load() {
			addr = s.rcv
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	return c
}

// closedPort returns an address on loopback that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// notice is what the tests compare of a notifier event.
type notice struct {
	ID, Type, Notifier string
	FailingFor         int64
	At                 time.Duration
}

// notices returns the notifier events a receiver got, with when the
// worker attempted them (from log) counted from start.
func notices(t *testing.T, rc *receiver, log *timedLog, start time.Time) []notice {
	t.Helper()
	var out []notice
	for _, r := range rc.requests() {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				ID, Notifier, Error string
				FailingFor          int64 `json:"failing_for_seconds"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Type, "notifier.") {
			continue
		}
		if !strings.Contains(ev.Data.Error, "connection refused") {
			t.Errorf("%s error = %q, want the refused connection", ev.Type, ev.Data.Error)
		}
		at := log.times(ev.Data.ID)
		if len(at) != 1 {
			t.Fatalf("%s attempted at %v, want once", ev.Type, at)
		}
		out = append(out, notice{ev.Data.ID, ev.Type, ev.Data.Notifier, ev.Data.FailingFor, at[0].Sub(start)})
	}
	return out
}

// TestWorkerCircuit sends to a receiver on a closed port: after 10m of
// failures its lane pauses, notifier.failing goes to the other notifier,
// the paused lane probes once a minute with its oldest delivery without
// counting attempts, and when the receiver answers again
// notifier.recovered follows and the backlog drains.
func TestWorkerCircuit(t *testing.T) {
	ops := newReceiver(t, nil)
	down := newReceiver(t, nil)
	sw := &switchDialer{closed: closedPort(t), rcv: strings.TrimPrefix(down.srv.URL, "http://")}
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		commitEvents(t, st, start, []string{"down", "ops"}, "evt_1")
		opsLog := &timedLog{Notifier: newTestWebhook(t, "ops", ops.srv.URL, bubbleClient())}
		downLog := &timedLog{Notifier: newTestWebhook(t, "down", down.srv.URL, sw.client())}
		reg := prometheus.NewRegistry()
		w := NewWorker(st, []Notifier{downLog, opsLog}, WorkerOptions{Rand: half, Metrics: NewMetrics(reg)})
		startWorker(t, w)
		head := pending(t, st, "down")[0]
		circuitOpen := `rtkwatchd_notifier_circuit_open{notifier="down"}`

		time.Sleep(10*time.Minute - time.Nanosecond)
		if got := notices(t, ops, opsLog, start); len(got) != 0 {
			t.Errorf("notices before circuit_after: %+v", got)
		}
		time.Sleep(time.Nanosecond + 30*time.Second)
		failing := notice{noticeID("down", typeNotifierFailing, head.ID), typeNotifierFailing, "down", 600, 10 * time.Minute}
		if diff := cmp.Diff([]notice{failing}, notices(t, ops, opsLog, start)); diff != "" {
			t.Errorf("notices at the other notifier (-want +got):\n%s", diff)
		}
		if v := gather(t, reg)[circuitOpen]; v != 1 {
			t.Errorf("circuit_open = %v after 10m30s, want 1", v)
		}
		// Retries at 0.9s, 4.5s, 18.9s, 76.5s and 306.9s; the next, at
		// 1228.5s, falls while paused.
		if got := pending(t, st, "down")[0].Attempts; got != 6 {
			t.Errorf("attempts before the pause = %d, want 6", got)
		}
		commitEvents(t, st, time.Now(), []string{"down"}, "evt_2", "evt_3")
		w.Wake()

		time.Sleep(5 * time.Minute) // to 15m30s: probes at 11m … 15m
		var probes []time.Duration
		for _, at := range downLog.times("evt_1")[6:] {
			probes = append(probes, at.Sub(start))
		}
		if diff := cmp.Diff([]time.Duration{11 * time.Minute, 12 * time.Minute, 13 * time.Minute, 14 * time.Minute, 15 * time.Minute}, probes); diff != "" {
			t.Errorf("probes (-want +got):\n%s", diff)
		}
		if n := len(downLog.times("evt_2")) + len(downLog.times("evt_3")); n != 0 {
			t.Errorf("paused lane attempted newer deliveries %d times", n)
		}
		if got := pending(t, st, "down")[0].Attempts; got != 6 {
			t.Errorf("attempts after 5 probes = %d, want still 6", got)
		}

		sw.up.Store(true)
		time.Sleep(time.Minute) // the probe at 16m succeeds
		recovered := notice{noticeID("down", typeNotifierRecovered, head.ID), typeNotifierRecovered, "down", 960, 16 * time.Minute}
		if diff := cmp.Diff([]notice{failing, recovered}, notices(t, ops, opsLog, start)); diff != "" {
			t.Errorf("notices at the other notifier (-want +got):\n%s", diff)
		}
		for _, id := range []string{"evt_2", "evt_3"} {
			if diff := cmp.Diff([]time.Time{start.Add(16 * time.Minute)}, downLog.times(id)); diff != "" {
				t.Errorf("attempts at %s (-want +got):\n%s", id, diff)
			}
		}
		if n := len(pending(t, st, "down")); n != 0 {
			t.Errorf("%d deliveries of down pending after the recovery", n)
		}
		for _, r := range down.requests() {
			if strings.HasPrefix(r.Header.Get("Webhook-Id"), "evt_") && r.Header.Get("Webhook-Id") != "evt_1" &&
				r.Header.Get("Webhook-Id") != "evt_2" && r.Header.Get("Webhook-Id") != "evt_3" {
				t.Errorf("the failing notifier got its own notice %s", r.Header.Get("Webhook-Id"))
			}
		}
		if v := gather(t, reg)[circuitOpen]; v != 0 {
			t.Errorf("circuit_open = %v after the recovery, want 0", v)
		}
		kept := keptNotices(t, st, func(e store.HistoryEvent) string { return e.Type + " " + e.EventID })
		if diff := cmp.Diff([]string{typeNotifierFailing + " " + failing.ID, typeNotifierRecovered + " " + recovered.ID}, kept); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

// TestWorkerCircuitAfterRestart starts with a delivery that failed before
// a restart, queued 20m ago: the circuit opens as soon as this process
// sees it fail too, and the notice has the id that the run before the
// restart gave it, so when that run queued it already, the history holds
// it and nothing is sent again.
func TestWorkerCircuitAfterRestart(t *testing.T) {
	for _, sentBefore := range []bool{false, true} {
		t.Run(fmt.Sprintf("sent before %v", sentBefore), func(t *testing.T) {
			ops := newReceiver(t, nil)
			sw := &switchDialer{closed: closedPort(t)}
			synctest.Test(t, func(t *testing.T) {
				st := openStore(t)
				start := time.Now()
				commitEvents(t, st, start.Add(-20*time.Minute), []string{"down"}, "evt_1")
				head := pending(t, st, "down")[0]
				if err := st.RecordAttempt("down", head.ID, 3, start.Add(time.Minute), "refused before"); err != nil {
					t.Fatal(err)
				}
				id := noticeID("down", typeNotifierFailing, head.ID)
				if sentBefore {
					e := store.NewEvent{ID: id, Type: typeNotifierFailing, CreatedAt: start.Add(-10 * time.Minute),
						Body: []byte(`{"type":"notifier.failing"}`), Notifiers: []string{"ops"}}
					if _, err := st.Enqueue(e); err != nil {
						t.Fatal(err)
					}
					if err := st.MarkDelivered("ops", pending(t, st, "ops")[0].ID); err != nil {
						t.Fatal(err)
					}
				}
				opsLog := &timedLog{Notifier: newTestWebhook(t, "ops", ops.srv.URL, bubbleClient())}
				downLog := &timedLog{Notifier: newTestWebhook(t, "down", "http://down.invalid", sw.client())}
				startWorker(t, NewWorker(st, []Notifier{downLog, opsLog}, WorkerOptions{Rand: half}))

				time.Sleep(59 * time.Second)
				if got := notices(t, ops, opsLog, start); len(got) != 0 {
					t.Errorf("notices before this process saw a failure: %+v", got)
				}
				time.Sleep(2 * time.Second) // the retry at 1m fails
				var want []notice
				if !sentBefore {
					want = []notice{{id, typeNotifierFailing, "down", 21 * 60, time.Minute}}
				}
				if diff := cmp.Diff(want, notices(t, ops, opsLog, start)); diff != "" {
					t.Errorf("notices (-want +got):\n%s", diff)
				}
				if n := len(pending(t, st, "ops")); n != 0 {
					t.Errorf("%d deliveries pending at ops", n)
				}
			})
		})
	}
}

// TestWorkerInheritsCircuit stops a worker whose circuit is open, as a
// config reload does, and starts another that inherits it: it goes on
// probing without a second notifier.failing, and sends notifier.recovered
// when the receiver is back.
func TestWorkerInheritsCircuit(t *testing.T) {
	ops := newReceiver(t, nil)
	down := newReceiver(t, nil)
	sw := &switchDialer{closed: closedPort(t), rcv: strings.TrimPrefix(down.srv.URL, "http://")}
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		start := time.Now()
		commitEvents(t, st, start, []string{"down"}, "evt_1")
		head := pending(t, st, "down")[0]
		opsLog := &timedLog{Notifier: newTestWebhook(t, "ops", ops.srv.URL, bubbleClient())}
		downLog := &timedLog{Notifier: newTestWebhook(t, "down", down.srv.URL, sw.client())}
		first := NewWorker(st, []Notifier{downLog, opsLog}, WorkerOptions{Rand: half})
		stopFirst := startWorker(t, first)
		time.Sleep(10*time.Minute + 30*time.Second)
		stopFirst()

		second := NewWorker(st, []Notifier{downLog, opsLog}, WorkerOptions{Rand: half})
		second.Inherit(first)
		startWorker(t, second)
		time.Sleep(time.Minute) // the probe at 11m, on the inherited schedule, fails, not counted
		if got := pending(t, st, "down")[0].Attempts; got != 6 {
			t.Errorf("attempts = %d, want still 6", got)
		}
		sw.up.Store(true)
		time.Sleep(time.Minute) // the probe at 12m succeeds
		want := []notice{
			{noticeID("down", typeNotifierFailing, head.ID), typeNotifierFailing, "down", 600, 10 * time.Minute},
			{noticeID("down", typeNotifierRecovered, head.ID), typeNotifierRecovered, "down", 720, 12 * time.Minute},
		}
		if diff := cmp.Diff(want, notices(t, ops, opsLog, start)); diff != "" {
			t.Errorf("notices (-want +got):\n%s", diff)
		}
	})
}
