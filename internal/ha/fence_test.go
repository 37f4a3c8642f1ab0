package ha

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rtkwatchd/rtkwatchd/internal/etcdtest"
)

// electOnce runs an Elector on cli until it leads and returns its fence.
// The term lasts until the test ends.
func electOnce(t *testing.T, cli *clientv3.Client) Fence {
	t.Helper()
	n := startNode(t, cli, "fence-holder", 10*time.Second)
	return n.waitWon(t, 10*time.Second).fence
}

func TestCommitUnderTheFence(t *testing.T) {
	s := etcdtest.Start(t)
	cli := connect(t, s.Endpoint)
	f := electOnce(t, cli)
	key := testPrefix + "snapshots/m1"

	resp, err := f.Commit(t.Context(), cli, nil, clientv3.OpPut(key, "s1"), clientv3.OpGet(key))
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := string(resp.Responses[1].GetResponseRange().Kvs[0].Value); got != "s1" {
		t.Errorf("read in the transaction = %q, want s1", got)
	}
	if _, err := f.Commit(t.Context(), cli, nil); err != nil {
		t.Errorf("Commit with no operations (a check): %v", err)
	}

	// The caller's own comparison fails: ErrConflict, nothing written.
	stale := clientv3.Compare(clientv3.Value(key), "=", "s0")
	_, err = f.Commit(t.Context(), cli, []clientv3.Cmp{stale}, clientv3.OpPut(key, "s2"))
	if !errors.Is(err, ErrConflict) || errors.Is(err, ErrFenced) {
		t.Errorf("Commit with a failing comparison: %v, want ErrConflict alone", err)
	}
	fresh := clientv3.Compare(clientv3.Value(key), "=", "s1")
	if _, err := f.Commit(t.Context(), cli, []clientv3.Cmp{fresh}, clientv3.OpPut(key, "s2")); err != nil {
		t.Errorf("Commit with a holding comparison: %v", err)
	}
	if got := value(t, cli, key); got != "s2" {
		t.Errorf("%s = %q, want s2", key, got)
	}
}

func TestFencedWritesAreRefused(t *testing.T) {
	s := etcdtest.Start(t)
	cli := connect(t, s.Endpoint)
	f := electOnce(t, cli)
	key := testPrefix + "snapshots/m1"
	if _, err := cli.Put(t.Context(), key, "before"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		fence Fence
		want  string
	}{
		{"zero fence", Fence{}, "commit fenced transaction: the zero fence: " + ErrFenced.Error()},
		{"key of no one", Fence{Key: testPrefix + "election/1", Rev: f.Rev},
			"commit fenced transaction: election key " + testPrefix + "election/1 (revision " + itoa(f.Rev) + ") is gone: " + ErrFenced.Error()},
		{"an older term of the same key", Fence{Key: f.Key, Rev: f.Rev - 1},
			"commit fenced transaction: election key " + f.Key + " was created again at revision " + itoa(f.Rev) + ", not " + itoa(f.Rev-1) + ": " + ErrFenced.Error()},
		{"a later term of the same key", Fence{Key: f.Key, Rev: f.Rev + 1},
			"commit fenced transaction: election key " + f.Key + " was created again at revision " + itoa(f.Rev) + ", not " + itoa(f.Rev+1) + ": " + ErrFenced.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Even with a comparison that holds, nothing is written.
			holds := clientv3.Compare(clientv3.Value(key), "=", "before")
			_, err := tc.fence.Commit(t.Context(), cli, []clientv3.Cmp{holds}, clientv3.OpPut(key, "after"))
			if !errors.Is(err, ErrFenced) || err.Error() != tc.want {
				t.Errorf("error:\n got %v\nwant %s", err, tc.want)
			}
			if got := value(t, cli, key); got != "before" {
				t.Errorf("%s = %q after a fenced write", key, got)
			}
		})
	}
}

func TestDeposedLeaderCannotWrite(t *testing.T) {
	s := etcdtest.Start(t)
	aCli, bCli := connect(t, s.Endpoint), connect(t, s.Endpoint)
	a := startNode(t, aCli, "node-a", 10*time.Second)
	fa := a.waitWon(t, 10*time.Second).fence
	b := startNode(t, bCli, "node-b", 10*time.Second)
	key := testPrefix + "outbox/1"

	if _, err := fa.Commit(t.Context(), aCli, nil, clientv3.OpPut(key, "a")); err != nil {
		t.Fatalf("a's write while it leads: %v", err)
	}
	// a's lease is revoked behind its back (as when it expires); b leads.
	if _, err := bCli.Revoke(t.Context(), leaseOf(t, fa)); err != nil {
		t.Fatal(err)
	}
	fb := b.waitWon(t, 5*time.Second).fence
	// a's lead function may still be finishing a write: refused.
	if _, err := fa.Commit(t.Context(), aCli, nil, clientv3.OpPut(key, "a again")); !errors.Is(err, ErrFenced) {
		t.Errorf("a's write after it was deposed: %v, want ErrFenced", err)
	}
	if _, err := fb.Commit(t.Context(), bCli, nil, clientv3.OpPut(key, "b")); err != nil {
		t.Errorf("b's write: %v", err)
	}
	if got := value(t, aCli, key); got != "b" {
		t.Errorf("%s = %q, want b", key, got)
	}
}

func value(t *testing.T, cli *clientv3.Client, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
