package rtkapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
)

// MaxResponseBytes bounds the body of every API response the client reads,
// after any transparent decompression. A sessions page of 100 sessions
// that carry meta and breakout rooms takes a few hundred KiB; a larger
// body comes from a misbehaving API or proxy and is reported as an error
// of KindDecode instead of being held in memory.
const MaxResponseBytes = 8 << 20

// errResponseTooLarge is what a capped body returns once more than
// MaxResponseBytes were read, or at once when the response declared a
// larger Content-Length.
var errResponseTooLarge = errors.New("response larger than " + strconv.Itoa(MaxResponseBytes>>20) + " MiB")

// limitedClient returns a shallow copy of hc whose transport caps every
// response body at limit bytes. hc itself is left as it was.
func limitedClient(hc *http.Client, limit int64) *http.Client {
	cp := *hc
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = &limitTransport{base: base, limit: limit}
	return &cp
}

// limitTransport caps the body of every response of its base transport.
type limitTransport struct {
	base  http.RoundTripper
	limit int64
}

// RoundTrip sends req through the base transport and caps the response
// body. A response that declares a Content-Length over the limit gets a
// body that fails on the first read, and its own body is closed unread.
// The body of an error response (status 400 and up), which the SDK reads
// whole, yields its first maxErrorBody bytes only: the rest is read and
// dropped, so that the connection can be reused, and still fails past the
// limit.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res == nil || res.Body == nil || res.Body == http.NoBody {
		return res, err
	}
	if res.ContentLength > t.limit {
		_ = res.Body.Close()
		res.Body = &limitedBody{err: errResponseTooLarge}
		return res, nil
	}
	body := &limitedBody{rc: res.Body, left: t.limit}
	if res.StatusCode >= 400 {
		body.trim, body.keep = true, maxErrorBody
	}
	res.Body = body
	return res, nil
}

// CloseIdleConnections closes the base transport's idle connections.
func (t *limitTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// limitedBody reads at most left bytes from rc and fails with
// errResponseTooLarge when rc holds more. It asks rc for at most one byte
// beyond the limit. With trim set, it yields only the first keep bytes:
// once they are read, it reads the rest of rc and drops it, then reports
// the end (or errResponseTooLarge).
type limitedBody struct {
	rc   io.ReadCloser // nil when the body was refused up front
	left int64
	trim bool  // yield keep bytes at most
	keep int64 // with trim, the bytes still to yield
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !b.trim {
		return b.read(p)
	}
	if b.keep == 0 {
		return 0, b.drop()
	}
	if int64(len(p)) > b.keep {
		p = p[:b.keep]
	}
	n, err := b.read(p)
	b.keep -= int64(n)
	return n, err
}

// drop reads what is left of the body and forgets it.
func (b *limitedBody) drop() error {
	scratch := make([]byte, 4<<10)
	for b.err == nil {
		_, err := b.read(scratch)
		if err != nil && b.err == nil {
			b.err = err
		}
	}
	return b.err
}

// read reads from rc within the limit.
func (b *limitedBody) read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n, b.left, b.err = int(b.left), 0, errResponseTooLarge
		return n, b.err
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error {
	if b.rc == nil {
		return nil
	}
	return b.rc.Close()
}
