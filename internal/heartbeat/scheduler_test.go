package heartbeat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/poller"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// hangingAPI finds no session, or, while hanging, holds every request
// until its context ends, as an API that stopped answering does.
type hangingAPI struct {
	mu   sync.Mutex
	hang chan struct{} // closed to release; nil while answering
}

func (a *hangingAPI) setHang(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case on && a.hang == nil:
		a.hang = make(chan struct{})
	case !on && a.hang != nil:
		close(a.hang)
		a.hang = nil
	}
}

func (a *hangingAPI) answer(ctx context.Context) error {
	a.mu.Lock()
	hang := a.hang
	a.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return rtkapi.ErrNoActiveSession
}

func (a *hangingAPI) ActiveSession(ctx context.Context, _, _ string) (*rtkapi.Session, error) {
	return nil, a.answer(ctx)
}

func (a *hangingAPI) SessionsPage(ctx context.Context, _ string, _ rtkapi.ListQuery) (rtkapi.Page, error) {
	if err := a.answer(ctx); err != rtkapi.ErrNoActiveSession {
		return rtkapi.Page{}, err
	}
	return rtkapi.Page{Sessions: []rtkapi.Session{}}, nil
}

func (a *hangingAPI) Meeting(context.Context, string, string) error { return nil }

// The test's watch polls no app-wide signal.
func (a *hangingAPI) Recordings(context.Context, string, rtkapi.ListOptions) (rtkapi.RecordingList, error) {
	return rtkapi.RecordingList{}, nil
}

func (a *hangingAPI) Livestreams(context.Context, string, rtkapi.ListOptions) (rtkapi.LivestreamList, error) {
	return rtkapi.LivestreamList{}, nil
}

func (a *hangingAPI) DaywiseUsage(context.Context, string, string, string) (rtkapi.Usage, error) {
	return rtkapi.Usage{}, nil
}

// TestHeartbeatFollowsTheScheduler runs the real scheduler over an API
// that hangs from 2m to 5m15s: the heartbeat is requested each minute
// up to 2m (the first cycle after 2m hangs, so nothing finishes in the minute to 3m),
// not at 3m, 4m or 5m, and again from 6m, the first interval after the
// API answers again.
func TestHeartbeatFollowsTheScheduler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	synctest.Test(t, func(t *testing.T) {
		api := &hangingAPI{}
		w := poller.Watch{Name: "town-hall", AppID: "app", Meetings: []string{"m"}, Schedule: "@every 30s",
			Rules: diff.Rules{FailingAfter: 3}}
		s, err := poller.NewScheduler(poller.New(api, poller.Options{AccountID: "acc", Logger: zerolog.Nop()}),
			[]poller.Watch{w}, poller.SchedulerOptions{Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = s.Stop(ctx)
		})
		rec := &recorder{start: time.Now(), next: &http.Transport{DisableKeepAlives: true}}
		h, err := New(Options{URL: srv.URL + "/" + token, Progressed: s.Progressed,
			Client: &http.Client{Transport: rec}, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		run(t, h)

		// The watch's cycles fall every 30 s at its spread offset, unknown
		// here: the API hangs from 2m, before the first cycle after it.
		time.Sleep(2 * time.Minute)
		api.setHang(true)
		time.Sleep(3*time.Minute + 15*time.Second)
		api.setHang(false)
		time.Sleep(2*time.Minute + 10*time.Second) // to 7m25s
		synctest.Wait()
		want := []time.Duration{time.Minute, 2 * time.Minute, 6 * time.Minute, 7 * time.Minute}
		if diff := cmp.Diff(want, rec.times()); diff != "" {
			t.Errorf("heartbeats (-want +got):\n%s", diff)
		}
	})
}
