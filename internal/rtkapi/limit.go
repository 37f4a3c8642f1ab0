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
	res.Body = &limitedBody{rc: res.Body, left: t.limit}
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
// beyond the limit.
type limitedBody struct {
	rc   io.ReadCloser // nil when the body was refused up front
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
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
