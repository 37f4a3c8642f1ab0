package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// rig is an admin server over a real store, and a client of it.
type rig struct {
	st       *store.Store
	srv      *Server
	client   *Client
	requeued atomic.Int32
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{st: st}
	up := func() (bool, string) { return true, "" }
	r.srv, err = Start("127.0.0.1:0", Handlers{
		Registry: prometheus.NewRegistry(), Store: st, Healthy: up, Ready: up,
		Requeued: func() { r.requeued.Add(1) }, Log: zerolog.Nop(),
		Watch: known, Notifier: known,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.srv.Close(context.Background()) })
	if r.client, err = NewClient(r.srv.Addr()); err != nil {
		t.Fatal(err)
	}
	return r
}

// known is the rig's config: every name but those starting with "unknown".
func known(name string) bool { return !strings.HasPrefix(name, "unknown") }

// commit stores a snapshot of meeting in watch, with one event for the
// notifier "ops".
func (r *rig) commit(t *testing.T, watch, meeting, snapshot string) {
	t.Helper()
	err := r.st.Commit([]store.Update{{
		Key:      store.SnapshotKey{Watch: watch, MeetingID: meeting},
		Snapshot: []byte(snapshot),
		Events: []store.NewEvent{{
			ID: "evt_" + meeting, Type: "session.started", CreatedAt: time.Now(),
			Body: []byte(`{}`), Notifiers: []string{"ops"},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshots reads /v1/state through the client.
func (r *rig) snapshots(meeting string) ([]Snapshot, error) {
	var got []Snapshot
	err := r.client.Snapshots(context.Background(), meeting, func(k store.SnapshotKey, b []byte) error {
		got = append(got, Snapshot{Watch: k.Watch, MeetingID: k.MeetingID, Snapshot: b})
		return nil
	})
	return got, err
}

func TestState(t *testing.T) {
	r := newRig(t)
	r.commit(t, "town-hall", "m1", `{"sequence":1}`)
	r.commit(t, "town-hall", "m2", `{"sequence":2}`)
	tests := []struct {
		meeting string
		want    []Snapshot
	}{
		{"", []Snapshot{
			{Watch: "town-hall", MeetingID: "m1", Snapshot: []byte(`{"sequence":1}`)},
			{Watch: "town-hall", MeetingID: "m2", Snapshot: []byte(`{"sequence":2}`)},
		}},
		{"m2", []Snapshot{{Watch: "town-hall", MeetingID: "m2", Snapshot: []byte(`{"sequence":2}`)}}},
		{"m3", nil},
	}
	for _, tt := range tests {
		got, err := r.snapshots(tt.meeting)
		if err != nil {
			t.Fatalf("snapshots of %q: %v", tt.meeting, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("snapshots of %q (-want +got):\n%s", tt.meeting, diff)
		}
	}
}

// TestStateStoreFails: a store that cannot be read is a 500 with the
// reason, never a 200 with an empty list.
func TestStateStoreFails(t *testing.T) {
	r := newRig(t)
	r.commit(t, "town-hall", "m1", `{"sequence":1}`)
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := r.snapshots("")
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusInternalServerError || ae.Path != "/v1/state" ||
		!strings.Contains(ae.Message, "read snapshots") {
		t.Fatalf("snapshots of a closed store: %v (%#v), want a 500 *Error from /v1/state saying it could not read snapshots", err, ae)
	}
	if got != nil {
		t.Errorf("snapshots of a closed store passed %v to the callback", got)
	}

	res, err := http.Get("http://" + r.srv.Addr() + "/v1/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusInternalServerError || res.Header.Get("content-type") == "application/x-ndjson" {
		t.Errorf("GET /v1/state of a closed store: %d %s %q, want a 500 in plain text", res.StatusCode, res.Header.Get("content-type"), body)
	}
}

func TestDeliveriesAndRequeue(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.commit(t, "town-hall", "m1", `{}`)
	outbox, err := r.client.Deliveries(ctx, false, 0, 100)
	if err != nil || len(outbox) != 1 || outbox[0].EventID != "evt_m1" {
		t.Fatalf("outbox = %+v, %v; want the one delivery of evt_m1", outbox, err)
	}
	if err := r.st.DeadLetter("ops", outbox[0].ID, time.Now(), "410 Gone"); err != nil {
		t.Fatal(err)
	}
	dead, err := r.client.Deliveries(ctx, true, 0, 100)
	if err != nil || len(dead) != 1 || dead[0].LastError != "410 Gone" {
		t.Fatalf("dead letters = %+v, %v; want the one with its last error", dead, err)
	}

	_, err = r.client.Requeue(ctx, []uint64{dead[0].ID + 1})
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		t.Errorf("requeue of an unknown ID: %v, want a 404 *Error", err)
	}
	if n := r.requeued.Load(); n != 0 {
		t.Errorf("a failed requeue told the daemon %d times, want 0", n)
	}
	n, err := r.client.Requeue(ctx, nil)
	if err != nil || n != 1 {
		t.Errorf("requeue all = %d, %v; want 1", n, err)
	}
	if n := r.requeued.Load(); n != 1 {
		t.Errorf("the daemon was told of %d requeues, want 1", n)
	}
}

// TestDeliveriesPages: a listing comes MaxPage deliveries an answer at
// most, from after the cursor, however many the client asks for.
func TestDeliveriesPages(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const n = 2*MaxPage + 500
	var evs []store.NewEvent
	for i := range n {
		evs = append(evs, store.NewEvent{ID: fmt.Sprintf("evt_%d", i), Type: "session.started", CreatedAt: time.Now(),
			Body: []byte(`{}`), Notifiers: []string{"ops"}})
	}
	if err := r.st.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "w", MeetingID: "m"}, Snapshot: []byte(`{}`), Events: evs}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after         uint64
		limit         int
		first, last   uint64
		wantDelivered int
	}{
		{0, 1, 1, 1, 1},
		{0, MaxPage, 1, MaxPage, MaxPage},
		{0, MaxPage + 1, 1, MaxPage + 1, MaxPage + 1},
		{10, 2 * MaxPage, 11, 2*MaxPage + 10, 2 * MaxPage},
		{2 * MaxPage, n, 2*MaxPage + 1, n, 500},
		{n, 10, 0, 0, 0},
	}
	for _, tt := range tests {
		got, err := r.client.Deliveries(ctx, false, tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.wantDelivered {
			t.Errorf("Deliveries(after %d, limit %d): %d deliveries, want %d", tt.after, tt.limit, len(got), tt.wantDelivered)
			continue
		}
		if len(got) > 0 && (got[0].ID != tt.first || got[len(got)-1].ID != tt.last) {
			t.Errorf("Deliveries(after %d, limit %d): IDs %d to %d, want %d to %d", tt.after, tt.limit, got[0].ID, got[len(got)-1].ID, tt.first, tt.last)
		}
	}
	for _, q := range []string{"limit=0", "limit=-1", fmt.Sprintf("limit=%d", MaxPage+1), "limit=x", "after=-1", "after=x"} {
		res, err := http.Get("http://" + r.srv.Addr() + "/v1/deliveries?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "is not a") {
			t.Errorf("GET /v1/deliveries?%s: %d %q, want a 400 saying what is wrong", q, res.StatusCode, body)
		}
	}
	res, err := http.Get("http://" + r.srv.Addr() + fmt.Sprintf("/v1/deliveries?limit=%d", MaxPage))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/deliveries?limit=%d: %d, want 200", MaxPage, res.StatusCode)
	}
}

// TestRetryRefusals: the writing endpoint wants the CLI's header and a
// well-formed request.
func TestRetryRefusals(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name, query string
		header      bool
		want        int
	}{
		{"without the CLI header", "all=1", false, http.StatusForbidden},
		{"malformed ID", "ids=1,x", true, http.StatusBadRequest},
		{"neither ids nor all", "", true, http.StatusBadRequest},
		{"all", "all=1", true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+r.srv.Addr()+"/v1/deliveries/retry?"+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header {
				req.Header.Set(cliHeader, "1")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("status %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		listen, want string
	}{
		{"127.0.0.1:9464", "http://127.0.0.1:9464"},
		{":9464", "http://127.0.0.1:9464"},
		{"0.0.0.0:9464", "http://127.0.0.1:9464"},
		{"[::]:9464", "http://127.0.0.1:9464"},
		{"[::1]:9464", "http://[::1]:9464"},
		{"localhost:9464", "http://localhost:9464"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.listen)
		if err != nil {
			t.Errorf("NewClient(%q): %v", tt.listen, err)
			continue
		}
		if c.base != tt.want {
			t.Errorf("NewClient(%q) asks %s, want %s", tt.listen, c.base, tt.want)
		}
	}
	if _, err := NewClient("9464"); err == nil {
		t.Error("NewClient(\"9464\") succeeded, want an error: no host:port")
	}
}

// TestClientNoDaemon: a listener that does not answer is named in the
// error.
func TestClientNoDaemon(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Deliveries(context.Background(), false, 0, 100)
	if err == nil || !strings.Contains(err.Error(), "its admin API at http://"+addr+" does not answer") {
		t.Errorf("Deliveries from nobody: %v, want it to name the address that does not answer", err)
	}
}
