package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkConcurrentOutcomes compares the two ways of sharing one
// transaction among concurrent small writes: the store's own group commit
// (group.go, which Store.write uses) and bbolt's DB.Batch, with its default
// MaxBatchDelay (10ms) and shorter ones. Each of `writers` goroutines records attempts of its own
// outbox deliveries, one call after another, as the lanes of a worker
// record the outcomes of their attempts in flight; a notifier lane has at
// most 8 attempts in flight, and up to 32 outcomes on their way to the
// store. It reports writes per second.
func BenchmarkConcurrentOutcomes(b *testing.B) {
	modes := []struct {
		name  string
		delay time.Duration // of DB.Batch; 0 uses the group commit
	}{
		{"group", 0},
		{"bbolt_batch_10ms", 10 * time.Millisecond},
		{"bbolt_batch_1ms", time.Millisecond},
		{"bbolt_batch_500us", 500 * time.Microsecond},
		{"bbolt_batch_2ms", 2 * time.Millisecond},
	}
	for _, m := range modes {
		for _, writers := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/writers=%d", m.name, writers), func(b *testing.B) {
				benchOutcomes(b, writers, m.delay)
			})
		}
	}
}

func benchOutcomes(b *testing.B, writers int, batchDelay time.Duration) {
	s := mustOpen(b)
	const perWriter = 64
	queueDeliveries(b, s, writers*perWriter)
	write := s.write
	if batchDelay > 0 {
		s.db.MaxBatchDelay = batchDelay
		write = func(fn func(q *queue) error) error {
			return s.db.Batch(func(tx *bolt.Tx) error {
				q, err := openQueue(tx)
				if err != nil {
					return err
				}
				return fn(q)
			})
		}
	}
	var mu sync.Mutex
	n := 0
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if n >= b.N {
			return 0, false
		}
		n++
		return n, true
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for {
				i, ok := next()
				if !ok {
					return
				}
				id := uint64(w*perWriter + i%perWriter + 1)
				err := write(func(q *queue) error {
					d, err := q.get("ops", id)
					if err != nil {
						return err
					}
					d.Attempts, d.NextAttempt, d.LastError = i, t0, "503 Service Unavailable"
					return q.put(d)
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// queueDeliveries commits n events for notifier "ops", IDs 1 to n.
func queueDeliveries(b *testing.B, s *Store, n int) {
	b.Helper()
	var evs []NewEvent
	for i := range n {
		e := testEvent(fmt.Sprintf("evt_%d", i), "ops")
		evs = append(evs, e)
	}
	if err := s.Commit([]Update{{Key: SnapshotKey{Watch: "bench", MeetingID: "m"}, Snapshot: benchSnapshot, Events: evs}}); err != nil {
		b.Fatal(err)
	}
}
