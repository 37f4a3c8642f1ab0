// Package etcdstore keeps rtkwatchd's state in etcd instead of a bbolt
// file, for nodes that run under `ha` (SPEC §11): the same snapshots,
// outbox, dead letters, history and silences, with the same contract as
// *store.Store (the suite in internal/store/storetest runs against both),
// under one key prefix of the cluster.
//
// Every write is one transaction fenced by the leader's term (ha.Fence): a
// node that no longer leads writes nothing and gets ha.ErrFenced. A
// meeting's snapshot and the deliveries of its events are written in one
// transaction; a batch of several meetings is packed into as few
// transactions as etcd's limits allow (ha.Pack), never splitting a
// meeting, so a crash keeps each meeting whole, though a batch may be kept
// in part. A meeting whose snapshot and events do not fit in one
// transaction is refused with ha.ErrTooLarge before anything is written.
//
// Delivery IDs, history sequences and silence IDs come from one counter
// key that every transaction issuing them compares and advances (meta.go),
// so they are unique and ascend in commit order across leaders; the key
// also counts the history's events and bytes for its bounds.
//
// A Commit whose outcome is unknown (etcd did not answer) is not retried
// here: the poller compares its next observation with the snapshot that
// is stored, so a transaction that was applied implies no events again,
// and one that was not is made again with the same event IDs. Nothing is
// ever queued twice under two delivery IDs.
//
// The layout under the prefix P is:
//
//	P + "meta"                               → the counters (meta.go), JSON
//	P + "snapshots/" + watch \x00 meeting     → snapshot bytes
//	P + "outbox/" + notifier \x00 id          → record (id: 16 hex digits)
//	P + "ids/" + id                           → notifier (the outbox by ID)
//	P + "dead/" + id                          → record
//	P + "history/" + cursor                   → history record (cursor: 32 hex digits)
//	P + "history_ids/" + event id             → the event's cursor
//	P + "silences/" + id                      → silence, JSON
//
// A record is the bytes *store.Store keeps (store.EncodeRecord). Reads need
// no fence: any node (a follower, a command) can read.
package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/ha"
)

// DefaultTimeout bounds each request to etcd when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// pageSize is how many keys one range request reads.
const pageSize = 500

// Key names under the prefix.
const (
	keyMeta      = "meta"
	dirHistory   = "history/"
	dirHistIDs   = "history_ids/"
	dirSilences  = "silences/"
	dirSnapshots = "snapshots/"
	dirOutbox    = "outbox/"
	dirIDs       = "ids/"
	dirDead      = "dead/"
	sep          = "\x00"
)

// Options configure a Store.
type Options struct {
	// Prefix is where rtkwatchd's keys live, such as "/rtkwatchd/prod/".
	// Required.
	Prefix string
	// Fence is the leader's term; every write is made on its condition.
	// The zero Fence makes a store that only reads: its writes fail with
	// ha.ErrFenced.
	Fence ha.Fence
	// Timeout bounds each request to etcd; zero means DefaultTimeout.
	Timeout time.Duration
}

// Store is rtkwatchd's state in etcd. Its methods are safe for concurrent
// use; every call ends when the context given to New ends.
type Store struct {
	ctx     context.Context
	kv      clientv3.KV
	prefix  string
	fence   ha.Fence
	timeout time.Duration

	commitMu sync.Mutex // Commit reads and advances the ID counter
}

// New returns a Store on kv (a *clientv3.Client) under o.Prefix. Calls end
// when ctx ends: pass the leader's context, so that a leader that lost its
// term stops waiting on etcd at once.
func New(ctx context.Context, kv clientv3.KV, o Options) (*Store, error) {
	if o.Prefix == "" {
		return nil, errors.New("etcd store: prefix is required")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return &Store{ctx: ctx, kv: kv, prefix: o.Prefix, fence: o.Fence, timeout: o.Timeout}, nil
}

// Prefix returns the prefix of the store's keys.
func (s *Store) Prefix() string { return s.prefix }

// call returns the context of one request.
func (s *Store) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.timeout)
}

// idText is the key form of a delivery ID: 16 hex digits, so that keys sort
// by ID.
func idText(id uint64) string { return fmt.Sprintf("%016x", id) }

// parseID is the inverse of idText.
func parseID(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("delivery key %q is not 16 hex digits", s)
	}
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("delivery key %q: %w", s, err)
	}
	return id, nil
}

// Keys of the layout.
func (s *Store) metaKey() string                 { return s.prefix + keyMeta }
func (s *Store) snapshotDir(watch string) string { return s.prefix + dirSnapshots + watch + sep }
func (s *Store) outboxDir(notifier string) string {
	return s.prefix + dirOutbox + notifier + sep
}
func (s *Store) outboxKey(notifier string, id uint64) string {
	return s.outboxDir(notifier) + idText(id)
}
func (s *Store) idKey(id uint64) string   { return s.prefix + dirIDs + idText(id) }
func (s *Store) deadKey(id uint64) string { return s.prefix + dirDead + idText(id) }
func (s *Store) historyKey(cursor string) string {
	return s.prefix + dirHistory + cursor
}
func (s *Store) historyIDKey(eventID string) string { return s.prefix + dirHistIDs + eventID }
func (s *Store) silenceKey(id uint64) string        { return s.prefix + dirSilences + idText(id) }

// validNotifier reports why a notifier name cannot be part of a key.
func validNotifier(n string) error {
	switch {
	case n == "":
		return errors.New("notifier name is empty")
	case strings.Contains(n, sep):
		return fmt.Errorf("notifier name %q contains a NUL byte", n)
	}
	return nil
}

// rangeAll calls fn for every key and value in [from, end), in key order,
// reading pageSize keys a request, all at the revision of the first page.
// fn must not keep kv's bytes. It stops early, without
// an error, when fn returns false.
func (s *Store) rangeAll(from, end string, opts []clientv3.OpOption, fn func(kv *mvccpb.KeyValue) bool) error {
	var rev int64
	for {
		ctx, cancel := s.call()
		o := append([]clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}, opts...)
		if rev > 0 {
			o = append(o, clientv3.WithRev(rev))
		}
		resp, err := s.kv.Get(ctx, from, o...)
		cancel()
		if err != nil {
			return fmt.Errorf("read %s: %w", strings.TrimPrefix(from, s.prefix), err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if !fn(kv) {
				return nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// prefixEnd is the end of the range of keys that start with p.
func prefixEnd(p string) string { return clientv3.GetPrefixRangeEnd(p) }

// rangeIDs calls fn for every key under dir whose last part is a delivery
// ID above afterID, ascending ID, until fn returns false. A key that is not
// an ID is an error.
func (s *Store) rangeIDs(dir string, afterID uint64, fn func(id uint64, kv *mvccpb.KeyValue) bool) error {
	var perr error
	err := s.rangeAll(dir+idText(afterID+1), prefixEnd(dir), nil, func(kv *mvccpb.KeyValue) bool {
		id, err := parseID(string(kv.Key[len(dir):]))
		if err != nil {
			perr = err
			return false
		}
		return fn(id, kv)
	})
	if err != nil {
		return err
	}
	return perr
}
