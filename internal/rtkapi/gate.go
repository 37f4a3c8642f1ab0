package rtkapi

import (
	"context"
	"io"
)

// DefaultMaxInFlight is how many requests a [Gate] lets through at once
// when none is configured. RealtimeKit allows 250 requests per 10 s: at a
// tenth of a second or more for each, 16 at once keep pace with that.
const DefaultMaxInFlight = 16

// smallBody is how much of its response body every request in flight may
// hold without asking: an active session, an error, a page of a hundred
// sessions without meta all fit. A body that grows past it waits for the
// one lane that large bodies share.
const smallBody = 128 << 10

// Gate bounds what the clients that share it hold at once, whatever the
// number of watches, cycles and clients: at most MaxInFlight requests in
// flight, and response bodies of at most MaxInFlight × 128 KiB plus one
// body of up to [MaxResponseBytes]. A daemon makes one Gate for its whole
// life and gives it to every [Client] it builds, so that the bound
// outlives a reload.
//
// A request takes a slot before it is sent, and gives it back once its
// body has been read whole. A body that outgrows 128 KiB waits, before it
// grows any further, for the lane of large bodies, which it holds until
// the caller has decoded it: a large body never waits while another large
// body waits for it, so the gate cannot deadlock, and two 8 MiB bodies are
// never held at once.
//
// A Gate is safe for concurrent use.
type Gate struct {
	slots chan struct{} // one per request in flight
	large chan struct{} // held by the one body that outgrew smallBody
}

// NewGate returns a gate that lets maxInFlight requests through at once;
// maxInFlight <= 0 means [DefaultMaxInFlight].
func NewGate(maxInFlight int) *Gate {
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return &Gate{slots: make(chan struct{}, maxInFlight), large: make(chan struct{}, 1)}
}

// MaxInFlight reports how many requests the gate lets through at once.
func (g *Gate) MaxInFlight() int { return cap(g.slots) }

// InFlight reports how many requests hold a slot now.
func (g *Gate) InFlight() int { return len(g.slots) }

// enter takes a slot for one request, waiting for one to be free until ctx
// ends.
func (g *Gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave gives back the slot that enter took.
func (g *Gate) leave() { <-g.slots }

// readBody reads r whole, size bytes when size >= 0 (a Content-Length),
// and returns its bytes with the func that gives back the lane of large
// bodies, which the caller calls once it is done with them (it does
// nothing for a small body). On an error it returns no bytes and holds
// nothing. It waits for the lane only until ctx ends.
func (g *Gate) readBody(ctx context.Context, r io.Reader, size int64) ([]byte, func(), error) {
	var large bool
	release := func() {
		if large {
			large = false
			<-g.large
		}
	}
	fail := func(err error) ([]byte, func(), error) {
		release()
		return nil, func() {}, err
	}
	take := func() error {
		select {
		case g.large <- struct{}{}:
			large = true
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if size > MaxResponseBytes {
		return fail(errResponseTooLarge)
	}
	// Room for one byte more than the body, so that the read that finds
	// the end never makes the buffer grow: a body of smallBody bytes stays
	// small.
	capacity := 1 << 10
	if size >= 0 {
		capacity = int(size) + 1
	}
	if capacity > smallBody+1 {
		if err := take(); err != nil {
			return fail(err)
		}
	}
	buf := make([]byte, 0, capacity)
	for {
		if len(buf) == cap(buf) {
			next := 2 * cap(buf)
			switch {
			case large:
			case cap(buf) > smallBody:
				if err := take(); err != nil {
					return fail(err)
				}
			default:
				next = min(next, smallBody+1)
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, release, nil
		case err != nil:
			return fail(err)
		}
	}
}
