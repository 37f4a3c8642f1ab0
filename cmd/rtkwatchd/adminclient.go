package main

import (
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

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// adminClient asks a running daemon, through its admin listener, for what
// the CLI cannot read itself while the daemon holds the store's lock.
type adminClient struct {
	base string
	hc   *http.Client
}

// daemonAdmin returns a client of the running daemon's admin API, or an
// error that explains why the store could not be read when there is none.
func daemonAdmin(cfg *config.Config, openErr error) (*adminClient, error) {
	if !errors.Is(openErr, store.ErrLocked) {
		return nil, openErr
	}
	if cfg.Admin.Listen == "" {
		return nil, fmt.Errorf("%w; with admin.listen set, this command asks the running daemon instead", openErr)
	}
	host, port, err := net.SplitHostPort(cfg.Admin.Listen)
	if err != nil {
		return nil, openErr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return &adminClient{
		base: "http://" + net.JoinHostPort(host, port),
		hc:   &http.Client{Timeout: 10 * time.Second},
	}, nil
}

func (c *adminClient) do(ctx context.Context, method, path string, q url.Values, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set(adminCLIHeader, "1")
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("the store is locked by the daemon and its admin API at %s does not answer: %w", c.base, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		err := fmt.Errorf("daemon admin API %s: %s", path, strings.TrimSpace(string(msg)))
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusBadRequest {
			return usageError(err) // the daemon says what in the request was wrong
		}
		return err
	}
	if fn, ok := out.(func(io.Reader) error); ok {
		return fn(res.Body)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// snapshots reads the daemon's stored snapshots, optionally of one meeting.
func (c *adminClient) snapshots(ctx context.Context, meeting string, fn func(store.SnapshotKey, []byte) error) error {
	q := url.Values{}
	if meeting != "" {
		q.Set("meeting", meeting)
	}
	return c.do(ctx, http.MethodGet, "/v1/state", q, func(r io.Reader) error {
		dec := json.NewDecoder(r)
		for {
			var s adminSnapshot
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

func (c *adminClient) deliveries(ctx context.Context, failed bool) ([]store.Delivery, error) {
	q := url.Values{}
	if failed {
		q.Set("failed", "1")
	}
	var list []store.Delivery
	err := c.do(ctx, http.MethodGet, "/v1/deliveries", q, &list)
	return list, err
}

func (c *adminClient) requeue(ctx context.Context, ids []uint64) (int, error) {
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
