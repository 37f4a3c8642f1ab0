package poller

import (
	"context"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkapi"
)

// dayLayout is the layout of the analytics' dates.
const dayLayout = "2006-01-02"

// pollUsage runs one cycle of a usage block's job: it reads the app's
// daywise analytics of the current UTC month up to today and applies the
// usage rules to the block's stored state. Its events carry the watch
// UsageEventWatch and the meeting WatchMeetingID: they are the app's.
func (p *Poller) pollUsage(ctx context.Context, w Watch, prevs map[string][]byte) []meetingStep {
	app := diff.Meeting{Watch: UsageEventWatch, AccountID: p.opts.AccountID, AppID: w.AppID, MeetingID: WatchMeetingID}
	s, ok := pollSignal(ctx, p, w, prevs[UsageMeetingID], signalPoll[diff.UsageObservation, diff.UsageState]{
		signal: diff.SignalUsage, meeting: UsageMeetingID,
		read: func(ctx context.Context) signalRead[diff.UsageObservation] { return p.readUsage(ctx, w) },
		apply: func(prev diff.UsageState, obs diff.UsageObservation) (diff.UsageState, []diff.Event, []diff.Skipped) {
			return diff.ApplyUsage(app, prev, obs, *w.Usage)
		},
	})
	if !ok {
		return nil
	}
	return []meetingStep{s}
}

// readUsage reads the app's session minutes from the first day of the
// current UTC month to today.
func (p *Poller) readUsage(ctx context.Context, w Watch) signalRead[diff.UsageObservation] {
	now := p.opts.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	u, err := request(ctx, p, w.Name, func(ctx context.Context) (rtkapi.Usage, error) {
		return p.api.DaywiseUsage(ctx, w.AppID, first.Format(dayLayout), now.Format(dayLayout))
	})
	return completed(p, err, u.Problems, func(at time.Time, f *diff.Failure) diff.UsageObservation {
		obs := diff.UsageObservation{At: at, Failure: f}
		for _, d := range u.Days {
			obs.Days = append(obs.Days, diff.UsageDay(d))
		}
		return obs
	})
}
