package poller

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestSchedulerProgressed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// fast runs on a 10 s grid moved by its spread offset: count from
		// its first grid point, so that its cycles fall at whole 10 s.
		o := spreadOffset("fast", 10*time.Second)
		start := time.Now().Add(o)
		at := func(d time.Duration) time.Time { return start.Add(d) }
		api := newSchedAPI()
		s, _, _ := startScheduler(t, api, schedWatch("fast", "@every 10s"), schedWatch("slow", "@every 5m"))
		check := func(since time.Time, wantOK bool, wantWhy string) {
			t.Helper()
			ok, why := s.Progressed(since)
			if ok != wantOK || why != wantWhy {
				t.Errorf("at %s, Progressed(%s) = %v, %q; want %v, %q",
					time.Since(start), since.Sub(start), ok, why, wantOK, wantWhy)
			}
		}
		time.Sleep(2*time.Minute + o)
		synctest.Wait()
		// slow finished its cycle at 0s and is not due before 5m.
		check(at(time.Minute), true, "")

		release := api.holdPolls()
		time.Sleep(30 * time.Second) // fast's cycle at 2m10s hangs
		synctest.Wait()
		check(at(2*time.Minute-time.Nanosecond), true, "") // fast's cycle at 2m finished then
		check(at(2*time.Minute), false,
			"watch fast: its cycle, running since "+at(2*time.Minute+10*time.Second).UTC().Format(time.RFC3339)+
				", heard nothing from the API since "+at(2*time.Minute).UTC().Format(time.RFC3339))

		release()
		synctest.Wait()
		check(at(2*time.Minute+30*time.Second), true, "")

		// Stopped, the schedule starts no cycle: fast is overdue at 2m40s.
		stop(t, s)
		time.Sleep(10 * time.Second)
		since := at(2*time.Minute + 30*time.Second)
		check(since, false, "watch fast: no cycle finished since "+since.UTC().Format(time.RFC3339))
	})
}
