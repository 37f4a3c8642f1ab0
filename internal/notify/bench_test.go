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
// without the store), and through the Worker draining a real bbolt outbox.
func BenchmarkWebhookDeliveries(b *testing.B) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer srv.Close()
	body := eventBody(b, testEvents()[diff.TypeSessionEnded])

	b.Run("notifier", func(b *testing.B) {
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

	b.Run("worker+store", func(b *testing.B) {
		st := openStore(b)
		const batch = 500
		for i := 0; i < b.N; i += batch {
			var ids []string
			for j := i; j < min(i+batch, b.N); j++ {
				ids = append(ids, fmt.Sprintf("evt_%d", j))
			}
			commitEvents(b, st, time.Now(), []string{"ops"}, ids...)
		}
		before := got.Load()
		b.ResetTimer()
		start := time.Now()
		stop := startWorker(b, NewWorker(st, []Notifier{newTestWebhook(b, "ops", srv.URL+"/rtk", nil)}, WorkerOptions{}))
		tick := time.NewTicker(time.Millisecond)
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
		if n := got.Load() - before; n != int64(b.N) {
			b.Fatalf("receiver got %d deliveries, want %d", n, b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	})
}
