// Package store keeps rtkwatchd's state in one bbolt file: the last snapshot
// of every watched meeting, the outbox of deliveries still to make, the
// dead letters that could not be delivered, the history of committed
// events, and the ad hoc silences.
//
// A meeting's next snapshot and the deliveries of the events it implies are
// written in one transaction, so a crash at any instant either loses both or
// keeps both. The store knows nothing of rtkwatchd's event or snapshot types:
// it keeps the bytes its callers give it, and the meeting each delivery is
// about beside them (only the migration from schema 1 reads an event body).
//
// Open checks the file before anything reads it, so that a damaged store
// is an error that says what to do (ErrDamaged), not a panic.
package store

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned, wrapped, by Open when another process (or another
// Store in this process) holds the file and the lock was not released within
// Options.LockTimeout. A writer holds an exclusive lock for as long as it is
// open; read-only handles share a lock, so they exclude writers but not each
// other.
var ErrLocked = errors.New("locked by another process (a running rtkwatchd daemon or command, or another program that has the file open)")

// ErrSchema is returned, wrapped, by Open when the file carries a schema
// version this build does not read, or holds buckets of something other than
// rtkwatchd. The error names both versions.
var ErrSchema = errors.New("unknown schema version")

// ErrNotFound is returned, wrapped, by MarkDelivered, RecordAttempt,
// DeadLetter and Requeue when a delivery ID is not where the call expects it:
// in the notifier's outbox for the first three, among the dead letters that
// can be delivered again for Requeue.
var ErrNotFound = errors.New("no such delivery")

// ErrDamaged is returned, wrapped, by Open when the file is a bbolt file
// but its pages do not hold together (it was truncated, or overwritten in
// part): reading it would crash. The error names the first problems found
// and what to do: restore a backup, or move the file away so that
// rtkwatchd starts afresh.
var ErrDamaged = errors.New("the store file is damaged")

// SchemaVersion is the version of the layout this package reads and writes.
// It is stored under the key "schema" of the "meta" bucket. A read-write
// Open migrates a file of version 1 (see migrate.go).
const SchemaVersion = "2"

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// Bucket and key names. The layout is:
//
//	meta/schema                       → SchemaVersion
//	snapshots/<watch>\x00<meeting id> → snapshot bytes
//	outbox/<notifier>/<id>            → record (id: 8 bytes, big-endian)
//	dead/<id>                         → record
//	history/…, history_ids/…          → every committed event (history.go)
//	silences/<id>                     → ad hoc silences (silences.go)
//
// A record is a JSON header (notifier, watch and meeting, event id and type,
// attempts, times, last error) and the body (record.go). Delivery IDs come
// from the sequence of the outbox bucket, so they are unique across the
// outbox and the dead letters and survive a move between the two.
var (
	bucketMeta      = []byte("meta")
	bucketSnapshots = []byte("snapshots")
	bucketOutbox    = []byte("outbox")
	bucketDead      = []byte("dead")
	keySchema       = []byte("schema")

	// Files written before the history and the silences lack their
	// buckets until a read-write Open creates them; readers take a missing
	// one as empty.
	allBuckets = [][]byte{bucketMeta, bucketSnapshots, bucketOutbox, bucketDead, bucketHistory, bucketHistoryIDs, bucketSilences}
)

// Options tunes Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock before it gives
	// up with ErrLocked. Zero means DefaultLockTimeout.
	LockTimeout time.Duration

	// CheckWithin bounds how long Open spends checking the file before it
	// trusts it (see ErrDamaged): a large file is checked only in part.
	// Zero means DefaultCheckWithin; a negative value skips the check.
	CheckWithin time.Duration

	// ReadOnly opens the file with a shared lock and no writes: every method
	// that writes returns an error. The file must already have been
	// initialised by a read-write Open. A read-only Open while a writer holds
	// the file (the running daemon) waits LockTimeout and fails with
	// ErrLocked, like a second writer would.
	ReadOnly bool
}

// Store is an open state file. Its methods are safe for concurrent use; each
// runs in a short bbolt transaction and returns copies of the stored bytes,
// never memory that belongs to the database (Snapshots reads a watch's
// snapshots from memory after its first call). MarkDelivered, RecordAttempt
// and DeadLetter calls made concurrently share transactions (and fsyncs);
// each still returns only once its change is on disk.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	group    groupCommit
	mirror   mirror     // the snapshots of the watches read so far
	commitMu sync.Mutex // held across Commit's transaction and its change to mirror
}

// Open opens the state file at path, creating it (but not its directory)
// when it does not exist and opts.ReadOnly is false. It checks the file
// first, and fails with ErrDamaged, never a panic, when its pages do not
// hold together. A fresh file is given the buckets and the schema version;
// a read-write Open migrates a file of schema 1; otherwise the file must
// carry SchemaVersion, or Open fails with ErrSchema.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: path is empty")
	}
	if opts.LockTimeout < 0 {
		return nil, fmt.Errorf("open store %s: lock timeout %s is negative", path, opts.LockTimeout)
	}
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	if opts.ReadOnly {
		// bbolt would try to initialise an empty file, which a read-only
		// handle cannot do; say what is wrong instead.
		if info, err := os.Stat(path); err == nil && info.Size() == 0 {
			return nil, fmt.Errorf("open store %s: file is empty (never opened read-write by rtkwatchd)", path)
		}
	}
	if within := cmp.Or(opts.CheckWithin, DefaultCheckWithin); within > 0 {
		if err := verifyFile(path, timeout, within); err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		err = db.View(s.checkSchema)
	} else {
		err = db.Update(s.initSchema)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the bbolt file at path, and turns a panic of bbolt while
// it reads the file's first pages into ErrDamaged.
func openBolt(path string, opts *bolt.Options) (*bolt.DB, error) {
	var db *bolt.DB
	err := safely(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	if pe := (*panicError)(nil); errors.As(err, &pe) {
		return nil, damaged(path, err)
	}
	if err != nil {
		return nil, openError(path, opts.ReadOnly, err)
	}
	return db, nil
}

// openError turns an error of bolt.Open into one that tells an operator what
// to do.
func openError(path string, readOnly bool, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open store %s: %w", path, ErrLocked)
	case errors.Is(err, fs.ErrNotExist):
		// The *fs.PathError repeats the path; keep only its cause.
		cause := err
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			cause = pe.Err
		}
		dir := filepath.Dir(path)
		if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
			return fmt.Errorf("open store %s: directory %s does not exist (create it, e.g. with StateDirectory= in the systemd unit): %w", path, dir, cause)
		}
		if readOnly {
			return fmt.Errorf("open store %s: %w (rtkwatchd has not run with this store yet)", path, cause)
		}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("open store %s: not a valid bbolt file: %w", path, err)
	}
	return fmt.Errorf("open store %s: %w", path, err)
}

// initSchema creates the buckets of a fresh file and writes its schema
// version, or checks the version of an existing one.
func (s *Store) initSchema(tx *bolt.Tx) error {
	if tx.Bucket(bucketMeta) == nil {
		if err := s.refuseForeign(tx); err != nil {
			return err
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("open store %s: create bucket %s: %w", s.path, name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch string(meta.Get(keySchema)) {
	case "":
		if err := meta.Put(keySchema, []byte(SchemaVersion)); err != nil {
			return fmt.Errorf("open store %s: write schema version: %w", s.path, err)
		}
	case "1":
		if err := migrateV1(tx, time.Now().UTC()); err != nil {
			return fmt.Errorf("open store %s: migrate schema 1 to %s: %w", s.path, SchemaVersion, err)
		}
	}
	return s.checkSchema(tx)
}

// refuseForeign fails with ErrSchema when a file without our meta bucket
// holds other buckets: it belongs to something else, and writing to it would
// mix two programs' data.
func (s *Store) refuseForeign(tx *bolt.Tx) error {
	if name, _ := tx.Cursor().First(); name != nil {
		return fmt.Errorf("open store %s: no schema version, but a bucket %q (not an rtkwatchd store?): %w", s.path, name, ErrSchema)
	}
	return nil
}

// checkSchema fails unless the file carries SchemaVersion.
func (s *Store) checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if err := s.refuseForeign(tx); err != nil {
			return err
		}
		return fmt.Errorf("open store %s: file has no schema version yet (open it read-write once)", s.path)
	}
	got := meta.Get(keySchema)
	if got == nil {
		return fmt.Errorf("open store %s: meta bucket has no schema version: %w", s.path, ErrSchema)
	}
	if string(got) == "1" && s.readOnly {
		return fmt.Errorf("open store %s: file has version %q, which the first read-write open (the daemon, or `once`) migrates to %q: %w", s.path, got, SchemaVersion, ErrSchema)
	}
	if string(got) != SchemaVersion {
		return fmt.Errorf("open store %s: file has version %q, this rtkwatchd reads version %q: %w", s.path, got, SchemaVersion, ErrSchema)
	}
	return nil
}

// Close releases the file and its lock. It waits for running transactions.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string {
	return s.path
}

// Check runs bbolt's consistency check over the whole file and returns every
// problem it finds, joined, or nil. On a read-write store it holds the write
// lock while it runs, so concurrent writes wait; on a large file that takes a
// while, so call it from tools and tests, not from the hot path.
func (s *Store) Check() error {
	tx, err := s.db.Begin(!s.readOnly)
	if err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check store %s: %w", s.path, errors.Join(errs...))
	}
	return nil
}

// bucket returns a top-level bucket that a read-write Open created, or an
// error if it is missing (the file was damaged).
func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s is missing", name)
	}
	return b, nil
}
