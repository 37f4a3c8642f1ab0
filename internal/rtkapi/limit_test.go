package rtkapi

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingBody counts the bytes read from a response body.
type countingBody struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b countingBody) Close() error { return b.rc.Close() }

// countingTransport counts the body bytes its callers read.
type countingTransport struct {
	rt   http.RoundTripper
	read atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.rt.RoundTrip(req)
	if err == nil {
		res.Body = countingBody{rc: res.Body, n: &t.read}
	}
	return res, err
}

func TestLimitedBody(t *testing.T) {
	const limit = 10
	tests := []struct {
		name    string
		size    int
		oneByte bool
		wantN   int
		wantErr error
	}{
		{name: "under", size: 9, wantN: 9},
		{name: "at the limit", size: 10, wantN: 10},
		{name: "at the limit, one byte a read", size: 10, oneByte: true, wantN: 10},
		{name: "one over", size: 11, wantN: 10, wantErr: errResponseTooLarge},
		{name: "one over, one byte a read", size: 11, oneByte: true, wantN: 10, wantErr: errResponseTooLarge},
		{name: "far over", size: 1 << 20, wantN: 10, wantErr: errResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pulled atomic.Int64
			var r io.Reader = bytes.NewReader(make([]byte, tt.size))
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			b := &limitedBody{rc: countingBody{rc: io.NopCloser(r), n: &pulled}, left: limit}
			got, err := io.ReadAll(b)
			if len(got) != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Errorf("read %d bytes, err %v; want %d bytes, err %v", len(got), err, tt.wantN, tt.wantErr)
			}
			if pulled.Load() > limit+1 {
				t.Errorf("pulled %d bytes from the body, want at most %d", pulled.Load(), limit+1)
			}
			if _, err := b.Read(make([]byte, 4)); tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("read after the limit: err %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// hugeBody answers with status and a JSON-looking body of size bytes, in
// chunks, until the client stops reading. declare sets Content-Length.
func hugeBody(status, size int, declare bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if declare {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.WriteHeader(status)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		if _, err := io.WriteString(w, `{"success":true,"data":{"meta":"`); err != nil {
			return
		}
		for written := 0; written < size && r.Context().Err() == nil; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

func TestClientResponseTooLarge(t *testing.T) {
	const huge = 300 << 20
	tests := []struct {
		name    string
		handler http.HandlerFunc
		list    bool // read the sessions list rather than an active session
		want    Error
		maxRead int64
	}{
		{
			name:    "200 streamed",
			handler: hugeBody(http.StatusOK, huge, false),
			want:    Error{Kind: KindDecode, StatusCode: 200, Message: "200 OK with a body larger than 8 MiB"},
			maxRead: MaxResponseBytes + 1,
		},
		{
			name:    "500 streamed",
			handler: hugeBody(http.StatusInternalServerError, huge, false),
			want:    Error{Kind: KindDecode, StatusCode: 500, Message: "500 Internal Server Error with a body larger than 8 MiB"},
			maxRead: MaxResponseBytes + 1,
		},
		{
			name:    "sessions list streamed",
			handler: hugeBody(http.StatusOK, huge, false),
			list:    true,
			want:    Error{Kind: KindDecode, StatusCode: 200, Message: "200 OK with a body larger than 8 MiB"},
			maxRead: MaxResponseBytes + 1,
		},
		{
			name:    "200 declared",
			handler: hugeBody(http.StatusOK, huge, true),
			want:    Error{Kind: KindDecode, StatusCode: 200, Message: "200 OK with a body larger than 8 MiB"},
		},
		{
			name:    "404 declared",
			handler: hugeBody(http.StatusNotFound, huge, true),
			want:    Error{Kind: KindDecode, StatusCode: 404, Message: "404 Not Found with a body larger than 8 MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			base := srv.Client().Transport
			ct := &countingTransport{rt: base}
			hc := &http.Client{Transport: ct}
			c := newTestClient(t, srv.URL+"/client/v4/", func(o *Options) {
				o.HTTPClient, o.Timeout = hc, 30*time.Second
			})
			if hc.Transport != ct {
				t.Fatal("New replaced the caller's transport")
			}
			var err error
			if tt.list {
				_, _, err = c.readList(t.Context(), testApp, LiveList(0))
			} else {
				_, err = c.ActiveSession(t.Context(), testApp, "m-1")
			}
			if diff := cmp.Diff(tt.want, *asError(t, err)); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if got := ct.read.Load(); got > tt.maxRead {
				t.Errorf("read %d bytes of the body, want at most %d", got, tt.maxRead)
			}
		})
	}
}

// TestClientResponseAtLimit checks that a body of exactly
// MaxResponseBytes is still read and decoded.
func TestClientResponseAtLimit(t *testing.T) {
	session := `{"success":true,"data":{"id":"s-1","associated_id":"m-1","status":"LIVE","live_participants":3,"minutes_consumed":1.5,"started_at":"2026-03-01T09:00:01.000Z","created_at":"2026-03-01T09:00:01.000Z","updated_at":"2026-03-01T09:00:01.000Z"}}`
	for _, size := range []int{MaxResponseBytes, MaxResponseBytes + 1} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := session + strings.Repeat(" ", size-len(session))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body) // no Content-Length: chunked
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL+"/client/v4/", func(o *Options) { o.Timeout = 30 * time.Second })
			s, err := c.ActiveSession(t.Context(), testApp, "m-1")
			if size <= MaxResponseBytes {
				if err != nil || s.LiveParticipants != 3 {
					t.Fatalf("got %+v, %v; want the session", s, err)
				}
				return
			}
			if asError(t, err).Kind != KindDecode {
				t.Fatalf("got %+v, %v; want a decode failure", s, err)
			}
		})
	}
}

// idleCounter is a transport that counts the calls to close its idle
// connections.
type idleCounter struct {
	http.RoundTripper
	closed atomic.Int32
}

func (t *idleCounter) CloseIdleConnections() { t.closed.Add(1) }

// TestClientCloseIdleConnections: closing the client's idle connections
// reaches the caller's transport through the body cap.
func TestClientCloseIdleConnections(t *testing.T) {
	tr := &idleCounter{RoundTripper: http.DefaultTransport}
	c := New(Options{BaseURL: "http://127.0.0.1:1/client/v4/", AccountID: testAccount, Token: testToken,
		HTTPClient: &http.Client{Transport: tr}})
	c.CloseIdleConnections()
	if n := tr.closed.Load(); n != 1 {
		t.Errorf("the transport's idle connections were closed %d times; want once", n)
	}
}

// TestLimitedBodyTrim: an error body yields its first keep bytes and ends
// there, once the rest is read and dropped within the limit.
func TestLimitedBodyTrim(t *testing.T) {
	const limit, keep = 100, 10
	tests := []struct {
		name    string
		size    int
		wantN   int
		wantErr error
	}{
		{name: "under keep", size: 9, wantN: 9},
		{name: "at keep", size: 10, wantN: 10},
		{name: "over keep", size: 11, wantN: 10},
		{name: "at the limit", size: 100, wantN: 10},
		{name: "over the limit", size: 101, wantN: 10, wantErr: errResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pulled atomic.Int64
			r := iotest.HalfReader(bytes.NewReader(make([]byte, tt.size)))
			b := &limitedBody{rc: countingBody{rc: io.NopCloser(r), n: &pulled}, left: limit, trim: true, keep: keep}
			got, err := io.ReadAll(b)
			if len(got) != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Errorf("read %d bytes, err %v; want %d bytes, err %v", len(got), err, tt.wantN, tt.wantErr)
			}
			if want := min(int64(tt.size), limit+1); pulled.Load() != want {
				t.Errorf("pulled %d bytes from the body, want %d (all of it, within the limit)", pulled.Load(), want)
			}
		})
	}
}

// TestClientErrorBodyTrimmed: a 503 with a 1 MiB page is a server failure,
// and its connection is reused for the next request.
func TestClientErrorBodyTrimmed(t *testing.T) {
	page := "<html>" + strings.Repeat("busy ", 1<<18) + "</html>"
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, page)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	ct := &countingTransport{rt: srv.Client().Transport}
	c := newTestClient(t, srv.URL+"/client/v4/", func(o *Options) {
		o.HTTPClient, o.Timeout = &http.Client{Transport: ct}, 30*time.Second
	})
	for range 3 {
		_, err := c.ActiveSession(t.Context(), testApp, "m-1")
		if e := asError(t, err); e.Kind != KindServer || e.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %+v, want a server failure with status 503", e)
		}
	}
	if got := ct.read.Load(); got != 3*int64(len(page)) {
		t.Errorf("read %d bytes of the bodies, want all %d of them, so that the connection is reused", got, 3*len(page))
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 requests, want 1", n)
	}
}
