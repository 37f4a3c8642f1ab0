// Package ha lets several rtkwatchd nodes share one etcd cluster with one of
// them in charge: it connects to etcd, elects a leader, tells the leader the
// moment it stops being one, and fences the leader's writes so that a node
// that was deposed (a partition, a pause, a lease that expired unnoticed)
// cannot write at all.
//
// The pieces, each in its own file:
//
//   - Connect (connect.go) opens a client from Options and proves that the
//     cluster answers within the dial timeout.
//   - Elector (elector.go, term.go) campaigns under <prefix>election with a
//     lease of ElectorOptions.LeaseTTL and calls the caller's lead function
//     while this node leads, with a context that ends as soon as the
//     leadership is lost. It exports rtkwatchd_ha_leader. The campaign is
//     the algorithm of etcd's concurrency.Election on the same keys (so
//     etcdctl and concurrency.Election see the same leader), written here
//     because concurrency.Election.Campaign, when its context ends, resigns
//     with the client's context, which has no deadline: a node cut off
//     from etcd could not stop.
//   - Fence (fence.go) is the token of one term of leadership: the leader's
//     election key and its create revision. Fence.Commit runs a transaction
//     only while that key still exists with that revision, and returns
//     ErrFenced otherwise.
//   - Limits (limits.go): etcd refuses a transaction of more than MaxTxnOps
//     operations or MaxRequestBytes bytes; Pack groups writes into
//     transactions that respect both, never splitting a group, and
//     refuses a group too large for one transaction with ErrTooLarge.
//
// Secrets (the password, the keys in the TLS files) never reach an error or
// a log line of this package.
package ha

import "errors"

// ErrFenced is returned, wrapped, by Fence.Commit when the fence no longer
// holds: the election key it names is gone or was created again by another
// term, so the caller is not (or no longer) the leader it was. Nothing of
// the transaction was written. A leader that sees it must stop writing.
var ErrFenced = errors.New("fenced: this node is no longer the leader")

// ErrConflict is returned, wrapped, by Fence.Commit when the fence held but
// one of the caller's own comparisons failed. Nothing was written.
var ErrConflict = errors.New("a comparison of the transaction failed")

// ErrTooLarge is returned, wrapped, by Pack and Fence.Commit when a group
// of operations cannot fit in one etcd transaction: more than MaxTxnOps
// operations, or more than MaxRequestBytes bytes. The error says which and
// by how much.
var ErrTooLarge = errors.New("too large for one etcd transaction")

// ErrLeaseLost is the cause (context.Cause) of a lead context that ended
// because this node's lease expired, was revoked, or could not be renewed
// before it would have expired on the server.
var ErrLeaseLost = errors.New("leadership lost: the lease expired or could not be renewed in time")

// ErrKeyDeleted is the cause of a lead context that ended because this
// node's election key was deleted while it led.
var ErrKeyDeleted = errors.New("leadership lost: the election key was deleted")

// ErrClientClosed is returned by Elector.Run, and is the cause of a lead
// context that ended, when the etcd client was closed under the elector.
var ErrClientClosed = errors.New("etcd client closed")
