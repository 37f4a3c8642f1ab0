package store

import (
	"errors"
	"fmt"
	"runtime/debug"
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
	return fmt.Errorf("open store %s: %w: %v; %s", path, ErrDamaged, found, damagedHelp)
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

// panicError is a panic that safely recovered.
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("its pages do not read back (%v)", e.v) }

// verify reads the whole file once, within the time bound, so that damage
// shows here as ErrDamaged and not later as a panic: first it walks every
// bucket and record (which reaches every page of the tree; a page that
// does not hold together panics or faults, recovered), then it runs
// bbolt's own consistency check (freed pages, unreachable pages, key
// order). It stops checking, without an error, when within runs out; the
// consistency check then finishes in the background, unheeded.
func (s *Store) verify(within time.Duration) error {
	deadline := time.Now().Add(within)
	tx, err := s.db.Begin(false)
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	err = safely(func() error {
		_, err := walk(tx.Cursor(), deadline, 0)
		return err
	})
	if err != nil {
		_ = tx.Rollback()
		return damaged(s.path, err)
	}
	if time.Now().After(deadline) {
		return tx.Rollback()
	}
	problems := s.consistency(tx, deadline)
	if len(problems) > 0 {
		return damaged(s.path, errors.Join(problems...))
	}
	return nil
}

// consistency runs bbolt's check in tx and returns up to maxReported of
// its errors, or what it found by deadline. It rolls tx back once the
// check is over, even if that is after deadline.
func (s *Store) consistency(tx *bolt.Tx, deadline time.Time) []error {
	errs := tx.Check()
	var problems []error
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case err, ok := <-errs:
			if !ok {
				_ = tx.Rollback()
				return problems
			}
			if len(problems) < maxReported {
				problems = append(problems, err)
			}
		case <-timer.C:
			go func() {
				for range errs {
				}
				_ = tx.Rollback()
			}()
			return problems
		}
	}
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
