package store

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultCheckWithin is how long Open checks a file at most when
// Options.CheckWithin is zero.
const DefaultCheckWithin = 10 * time.Second

// maxReported is how many of bbolt's consistency errors an ErrDamaged
// error names.
const maxReported = 3

// damagedHelp is what an operator should do about a damaged file.
const damagedHelp = "stop rtkwatchd, then restore the file from a backup, or move it away " +
	"so that rtkwatchd starts with an empty store (its snapshots and undelivered events are lost; " +
	"the first poll of each meeting records a new baseline)"

// damaged returns the ErrDamaged error of the store at path, with what was
// found wrong.
func damaged(path string, found error) error {
	return fmt.Errorf("open store %s: %w: %w; %s", path, ErrDamaged, found, damagedHelp)
}

// safely runs fn and turns a panic in it into an error, and so does it
// with a fault on a page of the memory-mapped file (a page past the end of
// a truncated file): bbolt panics, or faults, where it meets pages that do
// not hold together. A panic while opening leaks the file's descriptor and
// lock, which the process then gives up with its exit.
func safely(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{r}
		}
	}()
	return fn()
}

// panicError is a panic that safely recovered. Its message says what was
// found in plain words; the Go runtime's own text ("invalid memory address
// or nil pointer dereference") means nothing to an operator and is kept for
// DamageDetail.
type panicError struct{ v any }

func (e *panicError) Error() string {
	if _, ok := e.v.(runtime.Error); ok {
		return "its pages do not read back: a page points where no page of the store is"
	}
	return fmt.Sprintf("its pages do not read back: %v", e.v) // bbolt's own words
}

// DamageDetail returns the raw detail behind an ErrDamaged error that a
// panic or a memory fault of bbolt caused, such as the Go runtime's
// message, for a log at debug level; "" when err holds none. The error's
// own text says what was found in plain words.
func DamageDetail(err error) string {
	if pe, ok := errors.AsType[*panicError](err); ok {
		return fmt.Sprint(pe.v)
	}
	return ""
}

// verifyFile checks the existing, non-empty file at path before Open
// trusts it, through a read-only handle of its own that it closes again:
// the check reads every page, and the pages it read leave memory with the
// handle's mapping instead of staying resident in the Store's.
func verifyFile(path string, lockTimeout, within time.Duration) error {
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		return nil // Open says what is wrong, or creates the file
	}
	db, err := openBolt(path, &bolt.Options{Timeout: lockTimeout, ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		return err
	}
	s := &Store{db: db, path: path, readOnly: true}
	err = s.verify(within)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("open store %s: close the check's handle: %w", path, cerr)
	}
	return err
}

// verify reads the whole file once, within the time bound, so that damage
// shows here as ErrDamaged and not later as a panic: first it walks every
// bucket and record (which reaches every page of the tree; a page that
// does not hold together panics or faults, recovered), then it runs
// bbolt's own consistency check (freed pages, unreachable pages, key
// order). The walk stops, without an error, when within runs out; bbolt's
// check cannot be stopped, and reads about what the walk read, so it runs
// only when the walk took less than a third of within.
func (s *Store) verify(within time.Duration) error {
	start := time.Now()
	deadline := start.Add(within)
	tx, err := s.db.Begin(false)
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	err = safely(func() error {
		_, err := walk(tx.Cursor(), deadline, 0)
		return err
	})
	if err != nil {
		return damaged(s.path, err)
	}
	if time.Since(start) >= within/3 {
		return nil
	}
	var problems []string
	for err := range tx.Check() {
		if len(problems) < maxReported {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return damaged(s.path, errors.New(strings.Join(problems, "; ")))
	}
	return nil
}

// maxDepth bounds how deep walk follows nested buckets; rtkwatchd nests two
// levels (outbox/<notifier>), so anything deeper is damage.
const maxDepth = 8

// walk reads every key and value under c, and every nested bucket, reading
// the first and last byte of each value (a value on overflow pages past the
// end of a truncated file faults there) into the sum it returns. It stops,
// with no error, at deadline.
func walk(c *bolt.Cursor, deadline time.Time, depth int) (byte, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("buckets nested more than %d deep", maxDepth)
	}
	var sum byte
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%1024 == 0 && time.Now().After(deadline) {
			return sum, nil
		}
		if v == nil {
			nb := c.Bucket().Bucket(k)
			if nb == nil {
				return sum, fmt.Errorf("key %q has no value and is no bucket", k)
			}
			sub, err := walk(nb.Cursor(), deadline, depth+1)
			if err != nil {
				return sum, err
			}
			sum ^= sub
			continue
		}
		if len(v) > 0 {
			sum ^= v[0] ^ v[len(v)-1]
		}
	}
	return sum, nil
}
