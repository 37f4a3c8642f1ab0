package rtkapi

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/cloudflare/cloudflare-go/v6/option"
)

// maxPrepared bounds the requests a client keeps built: past it, the
// oldest half is dropped. 16,384 is eight times the meetings of the
// largest configuration measured (2,000), at about 600 bytes each.
const maxPrepared = 16384

// errBuilt stops the SDK once it has built a request, so that the request
// can be kept instead of sent.
var errBuilt = errors.New("rtkapi: request built, not sent")

// prepared keeps the requests that the SDK built for requests that never
// change, by key: a meeting's active session, asked for every cycle. The
// SDK builds each of them once (its path, query, authorization and its
// own headers, exactly as it would send them, with its retries off) and
// the client sends it again, with each send's context: building it anew
// each time costs more CPU than the whole rest of a request (see
// BenchmarkClientOverhead). All the kept requests of a client share one
// header map when their headers are equal, which the SDK makes them.
// Requests that change (a page of a list) are built every time.
//
// A kept request is never modified: net/http reads a request, it does not
// write it, and each send is a shallow copy with its own context.
type prepared struct {
	limit int // the most kept; 0 means maxPrepared

	mu     sync.Mutex
	reqs   map[preparedKey]*http.Request
	order  []preparedKey // oldest first
	header http.Header
}

// preparedKey names a kept request: the app and meeting of an active
// session, path-escaped. A struct, not a joined string, so that a lookup
// allocates nothing.
type preparedKey struct{ app, meeting string }

// get returns the request kept under key, or builds it with build (an SDK
// call given the options to pass), keeps it and returns it.
func (p *prepared) get(key preparedKey, build func(context.Context, ...option.RequestOption) error) (*http.Request, error) {
	p.mu.Lock()
	req, ok := p.reqs[key]
	p.mu.Unlock()
	if ok {
		return req, nil
	}
	req, err := capture(build)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.reqs[key]; ok { // built meanwhile by another call
		return kept, nil
	}
	switch {
	case p.header == nil:
		p.header = req.Header
	case equalHeader(p.header, req.Header):
		req.Header = p.header
	}
	if p.reqs == nil {
		p.reqs = make(map[preparedKey]*http.Request)
	}
	if limit := cmp.Or(p.limit, maxPrepared); len(p.reqs) >= limit {
		for _, k := range p.order[:len(p.order)/2] {
			delete(p.reqs, k)
		}
		p.order = slices.Delete(p.order, 0, len(p.order)/2)
	}
	p.reqs[key] = req
	p.order = append(p.order, key)
	return req, nil
}

// capture has the SDK build the request of one call, and returns it
// unsent: a middleware takes the request the SDK hands to its HTTP client
// and ends the call there.
func capture(build func(context.Context, ...option.RequestOption) error) (*http.Request, error) {
	var req *http.Request
	err := build(context.Background(), option.WithMiddleware(func(r *http.Request, _ option.MiddlewareNext) (*http.Response, error) {
		req = r
		return nil, errBuilt
	}))
	if req == nil || !errors.Is(err, errBuilt) {
		if err == nil {
			err = errors.New("the SDK sent no request")
		}
		return nil, err
	}
	return req, nil
}

// buildError is the error of a request the SDK could not build.
func (c *Client) buildError(err error) *Error {
	return &Error{Kind: KindClient, Message: "build request: " + c.scrub(err.Error())}
}

// equalHeader reports whether a and b hold the same values.
func equalHeader(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

// sendFunc makes one request and returns its response: a 2xx with its
// body unread, or another status with its body read whole through the
// transport's cap and readable again, as the SDK leaves an error
// response. An error comes with a nil response, but for
// errResponseTooLarge, which comes with the response it is about.
type sendFunc func(context.Context) (*http.Response, error)

// viaSDK is the sendFunc of an SDK call, which builds and sends its
// request.
func viaSDK(call func(context.Context, ...option.RequestOption) error) sendFunc {
	return func(ctx context.Context) (*http.Response, error) {
		var res *http.Response
		err := call(ctx, option.WithResponseBodyInto(&res))
		if err != nil && res != nil && res.StatusCode >= 400 && !errors.Is(err, errResponseTooLarge) {
			// The SDK's error for an error status: it read the body
			// and left it readable in res.Body.
			return res, nil
		}
		return res, err
	}
}

// resend is the sendFunc of a request the SDK built before (see
// prepared): it sends req with the send's context through the client's
// body-capped transport, and reads an error response's body as the SDK
// does. It goes to the transport itself, not through http.Client.Do,
// which copies every header of every request in case of a redirect: the
// API answers this route without one, and a 3xx is an unexpected
// response, never followed.
func (c *Client) resend(req *http.Request) sendFunc {
	return func(ctx context.Context) (*http.Response, error) {
		res, err := c.hc.Transport.RoundTrip(req.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if res.StatusCode >= 400 {
			b, err := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if err != nil {
				if errors.Is(err, errResponseTooLarge) {
					return res, err
				}
				return nil, err
			}
			res.Body = &readBody{Reader: bytes.NewReader(b), b: b}
		}
		return res, nil
	}
}

// readBody is a response body read whole, which readErrorBody takes as it
// is rather than reading it again.
type readBody struct {
	*bytes.Reader
	b []byte
}

// Close does nothing: the body was read and closed before.
func (*readBody) Close() error { return nil }
