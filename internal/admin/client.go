package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// clientTimeout bounds each request of a [Client].
const clientTimeout = 10 * time.Second

// Client asks a running daemon, through its admin listener, for what the
// CLI cannot read itself while the daemon holds the store's lock.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the daemon whose admin.listen is listen.
// A listener on every address (":9464", "0.0.0.0:9464") is reached over
// loopback. It fails only when listen is not a host:port.
func NewClient(listen string) (*Client, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return &Client{
		base: "http://" + net.JoinHostPort(host, port),
		hc:   &http.Client{Timeout: clientTimeout},
	}, nil
}

// Error is an answer of the admin API other than a 2xx: the daemon
// refused or failed the request, and Message says why.
type Error struct {
	// Path is the endpoint asked, such as "/v1/state".
	Path string
	// StatusCode is the HTTP status of the answer: 400 or 404 when the
	// request itself was wrong, 500 when the daemon could not answer it.
	StatusCode int
	// Message is the body of the answer, trimmed.
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("daemon admin API %s: %s", e.Path, e.Message) }

// do sends one request; out is a func(io.Reader) error that reads the
// body, or a value the JSON body decodes into.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, out any) error {
	return c.send(ctx, method, path, q, nil, out)
}

// send is do with a JSON request body, when in is not nil.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("content-type", "application/json")
	}
	req.Header.Set(cliHeader, "1")
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("the store is locked by the daemon and its admin API at %s does not answer: %w", c.base, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return &Error{Path: path, StatusCode: res.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	if out == nil {
		return nil
	}
	if fn, ok := out.(func(io.Reader) error); ok {
		return fn(res.Body)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// Snapshots calls fn with each of the daemon's stored snapshots, or only
// those of meeting when it is not empty.
func (c *Client) Snapshots(ctx context.Context, meeting string, fn func(store.SnapshotKey, []byte) error) error {
	q := url.Values{}
	if meeting != "" {
		q.Set("meeting", meeting)
	}
	return c.do(ctx, http.MethodGet, "/v1/state", q, func(r io.Reader) error {
		dec := json.NewDecoder(r)
		for {
			var s Snapshot
			if err := dec.Decode(&s); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("decode daemon state: %w", err)
			}
			if err := fn(store.SnapshotKey{Watch: s.Watch, MeetingID: s.MeetingID}, s.Snapshot); err != nil {
				return err
			}
		}
	})
}

// Deliveries lists the daemon's outbox, or its dead letters when failed:
// those with an ID above after, in ascending ID order, at most limit of
// them. It asks for MaxPage at a time.
func (c *Client) Deliveries(ctx context.Context, failed bool, after uint64, limit int) ([]store.Delivery, error) {
	var out []store.Delivery
	for len(out) < limit {
		q := url.Values{}
		if failed {
			q.Set("failed", "1")
		}
		q.Set("after", strconv.FormatUint(after, 10))
		want := min(limit-len(out), MaxPage)
		q.Set("limit", strconv.Itoa(want))
		var page []store.Delivery
		if err := c.do(ctx, http.MethodGet, "/v1/deliveries", q, &page); err != nil {
			return out, err
		}
		out = append(out, page...)
		if len(page) < want {
			break
		}
		after = page[len(page)-1].ID
	}
	return out, nil
}

// Requeue queues the dead letters ids again, or every one when ids is
// empty, and returns how many it queued.
func (c *Client) Requeue(ctx context.Context, ids []uint64) (int, error) {
	q := url.Values{}
	if len(ids) == 0 {
		q.Set("all", "1")
	} else {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = strconv.FormatUint(id, 10)
		}
		q.Set("ids", strings.Join(s, ","))
	}
	var out struct {
		Requeued int `json:"requeued"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/deliveries/retry", q, &out)
	return out.Requeued, err
}
