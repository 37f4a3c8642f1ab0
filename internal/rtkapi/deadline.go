package rtkapi

import (
	"context"
	"reflect"
	"sync"
	"time"
)

// deadlineSlack is the share of the timeout by which requests that start
// close together share one deadline (see [deadlines]).
const deadlineSlack = 50 // timeout/50: 200 ms of a 10 s timeout

// deadlines hands out the contexts that bound each request of a Client
// to its timeout. Requests that start within slack of one another under
// the same parent context share one context, whose deadline is slack
// after the timeout of the first of them: each request ends no sooner
// than timeout and no later than timeout + slack after it is sent, and a
// poll allocates no context, timer or channel of its own (at 2,000 polls
// a second, a context.WithTimeout per request was a tenth of the bytes
// allocated and its timers' upkeep a few percent of the CPU).
//
// A shared context is never canceled before its deadline, so one request
// ending never ends another; each ends by its own timer, or with its
// parent. One parent at a time shares: a request under another parent
// gets a context of its own, canceled when it ends, unless the shared
// context's window has passed, in which case its parent becomes the one
// that shares. So at most (timeout+slack)/slack shared contexts are live
// at once, whatever the callers' contexts (51 for any timeout).
type deadlines struct {
	timeout time.Duration
	slack   time.Duration

	mu     sync.Mutex
	parent context.Context    // what ctx derives from
	ctx    context.Context    // the shared context; nil before the first request
	until  time.Time          // ctx's deadline
	cancel context.CancelFunc // ends ctx; never called, as ctx ends by its deadline
}

// newDeadlines returns the deadlines of requests that time out after
// timeout.
func newDeadlines(timeout time.Duration) *deadlines {
	return &deadlines{timeout: timeout, slack: timeout / deadlineSlack}
}

// bound returns a context that ends with parent, or between d.timeout and
// d.timeout + d.slack from now, whichever comes first, and the func the
// caller calls once its request has ended (it ends a context of the
// request's own, and does nothing to a shared one).
func (d *deadlines) bound(parent context.Context) (context.Context, context.CancelFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// The clock is read under the lock: a request held up between the two
	// would otherwise be handed a context with less than its timeout left.
	now := time.Now()
	fresh := d.ctx != nil && d.until.Sub(now) >= d.timeout
	switch same := sameContext(d.parent, parent); {
	case fresh && same:
		return d.ctx, noCancel
	case fresh:
		return context.WithTimeout(parent, d.timeout)
	}
	// The context this one replaces ends by its own deadline, which the
	// requests still using it rely on: it is not canceled here.
	d.parent, d.until = parent, now.Add(d.timeout+d.slack)
	d.ctx, d.cancel = context.WithDeadline(parent, d.until)
	return d.ctx, noCancel
}

// noCancel is the cancel func of a shared context: it ends by itself.
func noCancel() {}

// sameContext reports whether a and b are the same context. Contexts are
// compared by identity, as their values (a trace, say) differ even where
// their deadlines and cancellation agree: only pointers are compared, and
// a context of any other type is never the same as another. (A struct
// such as context.WithoutCancel's is comparable by type but can hold a
// value that is not, which == would panic on.)
func sameContext(a, b context.Context) bool {
	if a == nil || b == nil {
		return false
	}
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Kind() == reflect.Pointer && a == b
}
