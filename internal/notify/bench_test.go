package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

// BenchmarkWebhookDeliveries measures signed deliveries per second to a
// loopback receiver: through the Webhook notifier alone (one lane's work
// without the store), and end to end through the Worker draining a real
// bbolt outbox, from the Worker's start until the outbox is empty, with one
// attempt in flight and with the default eight.
func BenchmarkWebhookDeliveries(b *testing.B) {
	b.Run("notifier", func(b *testing.B) {
		var got atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			got.Add(1)
		}))
		defer srv.Close()
		body := eventBody(b, testEvents()[diff.TypeSessionEnded])
		w := newTestWebhook(b, "ops", srv.URL+"/rtk", nil)
		ctx := context.Background()
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			res := w.Notify(ctx, Message{EventID: fmt.Sprintf("evt_%d", i), Body: body, Attempt: 1})
			if res.Err != nil {
				b.Fatal(res.Err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	})

	for _, parallel := range []int{1, 8} {
		b.Run(fmt.Sprintf("worker+store/parallel=%d", parallel), func(b *testing.B) {
			benchWorker(b, parallel)
		})
	}
}

// benchWorker delivers b.N events queued in a real store through a Worker
// with the given Parallel, and reports deliveries per second end to end.
func benchWorker(b *testing.B, parallel int) {
	// The receiver says when it has every event, so that the clock does
	// not share the machine with a poller meanwhile.
	var got atomic.Int64
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if got.Add(1) == int64(b.N) {
			close(all)
		}
	}))
	defer srv.Close()
	st := openStore(b)
	const batch = 500
	for i := 0; i < b.N; i += batch {
		var ids []string
		for j := i; j < min(i+batch, b.N); j++ {
			ids = append(ids, fmt.Sprintf("evt_%d", j))
		}
		commitEvents(b, st, time.Now(), []string{"ops"}, ids...)
	}
	w := NewWorker(st, []Notifier{newTestWebhook(b, "ops", srv.URL+"/rtk", nil)}, WorkerOptions{Parallel: parallel})

	b.ResetTimer()
	start := time.Now()
	stop := startWorker(b, w)
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("receiver got %d of %d deliveries in 5 minutes", got.Load(), b.N)
	}
	// The last outcomes may still be on their way to the disk.
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	for {
		depth, err := st.OutboxDepth()
		if err != nil {
			b.Fatal(err)
		}
		if depth["ops"] == 0 {
			break
		}
		<-tick.C
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	if n := got.Load(); n != int64(b.N) {
		b.Fatalf("receiver got %d deliveries, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
