package rtkapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// shared returns the context bound gives a request under parent, which
// must be a shared one: its cancel func must not end it.
func shared(t *testing.T, d *deadlines, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := d.bound(parent)
	cancel()
	if ctx.Err() != nil {
		t.Fatal("a context that bound shares ended when its request did")
	}
	return ctx
}

// TestDeadlinesShareWithinSlack holds the shared deadline to its edges:
// a request that starts slack after the first still shares its context
// (its whole timeout is left), one a nanosecond later gets a new one, and
// a shared context ends exactly at timeout + slack after the first.
func TestDeadlinesShareWithinSlack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeadlines(10 * time.Second)
		if d.slack != 200*time.Millisecond {
			t.Fatalf("slack %v, want 200ms", d.slack)
		}
		parent := t.Context()
		start := time.Now()
		first := shared(t, d, parent)
		if got := shared(t, d, parent); got != first {
			t.Fatal("two requests at one instant got two contexts")
		}
		if dl, ok := first.Deadline(); !ok || !dl.Equal(start.Add(10*time.Second+200*time.Millisecond)) {
			t.Fatalf("deadline %v (%v), want start + 10.2s", dl.Sub(start), ok)
		}
		time.Sleep(200 * time.Millisecond)
		if got := shared(t, d, parent); got != first {
			t.Fatal("a request slack after the first did not share its context")
		}
		time.Sleep(time.Nanosecond)
		later := shared(t, d, parent)
		if later == first {
			t.Fatal("a request slack + 1ns after the first shared its context: less than its timeout left")
		}
		if dl, _ := later.Deadline(); !dl.Equal(time.Now().Add(10*time.Second + 200*time.Millisecond)) {
			t.Fatalf("the new context's deadline is %v from now, want 10.2s", time.Until(dl))
		}
		// The first ends at its deadline, not a nanosecond sooner.
		time.Sleep(start.Add(10*time.Second + 200*time.Millisecond - time.Nanosecond).Sub(time.Now()))
		synctest.Wait()
		if first.Err() != nil {
			t.Fatalf("ended %v before its deadline", first.Err())
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !errors.Is(first.Err(), context.DeadlineExceeded) || later.Err() != nil {
			t.Fatalf("at the first deadline: first %v, later %v; want the first ended only", first.Err(), later.Err())
		}
	})
}

// funcContext is a context of a type that cannot be compared.
type funcContext struct {
	context.Context
	f func()
}

// TestDeadlinesParents: one parent at a time shares a context; a request
// under another gets one of its own, canceled when it ends, until the
// shared window has passed; a context of a type that cannot be compared
// never shares; a shared context ends with its parent.
func TestDeadlinesParents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeadlines(10 * time.Second)
		parent, cancel := context.WithCancel(t.Context())
		a := shared(t, d, parent)
		type key struct{}
		other := context.WithValue(parent, key{}, 1)
		own, end := d.bound(other)
		if own == a || own.Value(key{}) != 1 {
			t.Fatal("a request under another parent shared a context, or lost its parent's values")
		}
		if dl, _ := own.Deadline(); !dl.Equal(time.Now().Add(10 * time.Second)) {
			t.Fatalf("a context of its own ends %v from now, want the timeout, 10s", time.Until(dl))
		}
		end()
		if own.Err() == nil {
			t.Fatal("a context of its own outlived its request")
		}
		odd := funcContext{Context: parent}
		x, endX := d.bound(odd)
		y, endY := d.bound(odd)
		if x == y || x == a {
			t.Fatal("contexts of a type that cannot be compared shared a context")
		}
		endX()
		endY()

		if got := shared(t, d, parent); got != a {
			t.Fatal("the sharing parent lost its context to requests under others")
		}
		// Past the shared window (slack, 200 ms), another parent takes over.
		time.Sleep(200*time.Millisecond + time.Nanosecond)
		b := shared(t, d, other)
		if b == a || b.Value(key{}) != 1 {
			t.Fatal("another parent did not take over the sharing once the window had passed")
		}
		c := shared(t, d, other)
		cancel()
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(a.Err(), context.Canceled) {
			t.Fatalf("after the parent was canceled: %v, %v", c.Err(), a.Err())
		}
	})
}

// TestDeadlinesUncomparableParent: a parent of a type that can be
// compared but holds a value that cannot (context.WithoutCancel around
// such a context) neither shares nor panics, even as the only parent.
func TestDeadlinesUncomparableParent(t *testing.T) {
	d := newDeadlines(time.Minute)
	wrapped := context.WithoutCancel(funcContext{Context: t.Context()})
	first, end := d.bound(wrapped) // the only parent yet: it is the one that shares
	end()
	second, end := d.bound(wrapped)
	end()
	if first == second {
		t.Fatal("a context that cannot be compared shared a context")
	}
}

// TestRequestsShareDeadlineNotFate: of two requests sharing a deadline,
// the one that ends first leaves the other running, and each times out
// between timeout and timeout + slack after it was sent.
func TestRequestsShareDeadlineNotFate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &heldTransport{release: make(chan struct{})}
		c := New(Options{BaseURL: "http://api.test/client/v4/", AccountID: testAccount, Token: testToken,
			Timeout: time.Second, HTTPClient: &http.Client{Transport: tr}})
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := c.ActiveSession(t.Context(), testApp, "m-1")
				errs <- err
			}()
		}
		synctest.Wait()
		tr.release <- struct{}{}
		if err := <-errs; err != nil {
			t.Fatalf("first answer: %v", err)
		}
		synctest.Wait()
		if tr.holding.Load() != 1 {
			t.Fatal("the first request's end ended the second")
		}
		tr.release <- struct{}{}
		if err := <-errs; err != nil {
			t.Fatalf("second answer: %v", err)
		}

		// Nothing answers now: the first request times out at timeout +
		// slack (1.02 s); one sent slack later shares its deadline, so
		// gets exactly its timeout; one sent a nanosecond after that gets
		// timeout + slack.
		hang := func(after time.Duration) chan time.Duration {
			took := make(chan time.Duration, 1)
			go func() {
				time.Sleep(after)
				sent := time.Now()
				_, err := c.ActiveSession(t.Context(), testApp, "m-1")
				if asError(t, err).Kind != KindTimeout {
					t.Errorf("sent after %v: %v, want a timeout", after, err)
				}
				took <- time.Since(sent)
			}()
			return took
		}
		// Wait out the deadline shared by the two answered requests first.
		time.Sleep(2 * time.Second)
		a, b, n := hang(0), hang(20*time.Millisecond), hang(20*time.Millisecond+time.Nanosecond)
		for _, tt := range []struct {
			name string
			took chan time.Duration
			want time.Duration
		}{{"first", a, 1020 * time.Millisecond}, {"slack later", b, time.Second}, {"slack + 1ns later", n, 1020 * time.Millisecond}} {
			if got := <-tt.took; got != tt.want {
				t.Errorf("%s: timed out after %v, want %v", tt.name, got, tt.want)
			}
		}
	})
}
