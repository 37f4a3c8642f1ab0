package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// groupPass is pass for a lane whose notifier groups its events (l.group
// is set). Such a lane delivers strictly in ID order, one delivery at a
// time: a group mixes meetings, so only one order keeps each meeting's.
// It looks at the first delivery of the outbox:
//
//   - waiting for a retry: nothing is due before it; wait for it, unless
//     a recovery drains the backlog (see health).
//   - a group, or an event already attempted alone: attempt it.
//   - a fresh event (never attempted, not a group): it and the fresh
//     events right after it that were queued within l.group.Wait of it,
//     at most l.group.Max, are the next group. Until Wait has passed and
//     while there are fewer than Max, wait for more (unless flush). Then
//     Combine makes them one stored delivery, durably, before its first
//     attempt: a retry, a restart, or a crash between sending and
//     MarkDelivered sends the same group, with the same content. A lone
//     event goes out as itself.
//
// It makes at most one attempt, and says how long to wait before the next
// pass as pass does. seen, for RunOnce, holds the deliveries attempted
// before: reaching one ends the pass.
func (l *lane) groupPass(ctx context.Context, seen map[uint64]bool, flush bool) (time.Duration, error) {
	wait := l.w.opts.PollInterval
	page, err := l.w.store.PendingAfter(l.name, 0, pendingBatch)
	if err != nil {
		return 0, err
	}
	if len(page) == 0 || ctx.Err() != nil || seen[page[0].ID] {
		return wait, nil
	}
	d, now, drain := page[0], l.w.opts.Now(), l.takeDrain()
	switch {
	case d.Undecodable != "":
		l.quarantine(d)
		return 0, nil
	case d.NextAttempt.After(now) && !(drain && l.drainEarly(d)):
		return min(wait, d.NextAttempt.Sub(now)), nil
	case fresh(d):
		run := l.freshRun(page)
		end := d.QueuedAt().Add(l.group.Wait)
		if len(run) < l.group.Max && now.Before(end) && !flush {
			return min(wait, end.Sub(now)), nil
		}
		if len(run) > 1 {
			if d, err = l.combine(run); err != nil {
				return 0, err
			}
		}
	}
	if seen != nil {
		seen[d.ID] = true
	}
	l.attempt(d, false, func() {})
	return 0, nil
}

// fresh reports whether d is an event that was never attempted, and so
// may join a group.
func fresh(d store.Delivery) bool {
	return d.Attempts == 0 && d.EventType != GroupEventType && d.Undecodable == ""
}

// freshRun returns the fresh deliveries at the head of page that were
// queued within the group's wait of the first, at most its Max.
func (l *lane) freshRun(page []store.Delivery) []store.Delivery {
	end := page[0].QueuedAt().Add(l.group.Wait)
	n := 0
	for n < len(page) && n < l.group.Max && fresh(page[n]) && page[n].QueuedAt().Before(end) {
		n++
	}
	return page[:n]
}

// combine makes run one stored group, named after its first event.
func (l *lane) combine(run []store.Delivery) (store.Delivery, error) {
	ids := make([]uint64, len(run))
	bodies := make([][]byte, len(run))
	for i, d := range run {
		ids[i], bodies[i] = d.ID, d.Body
	}
	return l.w.store.Combine(l.name, ids, store.Combined{
		EventID:   groupIDPrefix + run[0].EventID,
		EventType: GroupEventType,
		Body:      encodeGroup(bodies),
	})
}

// send makes one attempt at d: a stored group through NotifyGroup, any
// other delivery through Notify.
func (l *lane) send(ctx context.Context, d store.Delivery, attempt int) Result {
	if d.EventType != GroupEventType {
		return l.n.Notify(ctx, Message{EventID: d.EventID, EventType: d.EventType, Body: d.Body, Attempt: attempt})
	}
	gn, ok := l.n.(GroupNotifier)
	if !ok {
		// The notifier of this name grouped when the group was made, and
		// a reload gave the name to a type that cannot send one.
		return Result{Err: fmt.Errorf("notifier %s cannot send a group of events (group %s was made for a notifier of another type)", l.name, d.EventID)}
	}
	g, err := decodeGroup(d.EventID, d.Body, attempt)
	if err != nil {
		return Result{Err: err}
	}
	return gn.NotifyGroup(ctx, g)
}

// passOf runs the pass of l's kind: groupPass for a lane that groups,
// pass otherwise. flush, for RunOnce, sends the groups a grouping lane has
// at once: no later pass may come to wait for more.
func (l *lane) passOf(ctx context.Context, seen map[uint64]bool, flush bool) (time.Duration, error) {
	if l.group.IsZero() {
		return l.pass(ctx, seen)
	}
	return l.groupPass(ctx, seen, flush)
}
