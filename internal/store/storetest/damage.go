// Package storetest is for the tests of rtkwatchd's state stores: Run
// runs the contract every store keeps (contract.go), and the damages
// damage store files the way disks and people do, for the tests of the
// bbolt store and of the commands that open it.
package storetest

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Offsets in a bbolt page: its header is id (8 bytes), flags (2), count (2)
// and overflow (4); a branch page's elements follow, each pos (4), ksize
// (4) and the child's page id (8).
const (
	flagsOffset        = 8
	headerSize         = 16
	branchPgidOffset   = 8
	branchPageElemSize = 16
)

// Damage is one way to damage a store file.
type Damage struct {
	Name string
	// Apply damages the file at path, which no one has open.
	Apply func(t testing.TB, path string)
}

// Damages returns the damages a store must survive as an error: the file
// cut to its two header pages (8 KiB), a leaf page's flags flipped, and a
// branch page's first child pointer aimed past the file, then at a header
// page, and aimed at its second child, which then has two parents. The
// file must hold enough data for a branch page, as Fill writes.
func Damages() []Damage {
	return []Damage{
		{"truncated to 8 KiB", func(t testing.TB, path string) { Truncate(t, path, 8<<10) }},
		{"leaf flags flipped", func(t testing.TB, path string) { SetPageFlags(t, path, "leaf", 0xff) }},
		{"leaf turned branch", func(t testing.TB, path string) { SetPageFlags(t, path, "leaf", 0x01) }},
		{"branch pointer past the end", func(t testing.TB, path string) { SetBranchPointer(t, path, 1<<40) }},
		{"branch pointer at a header page", func(t testing.TB, path string) { SetBranchPointer(t, path, 1) }},
		// The pages still read; only bbolt's consistency check sees it.
		{"branch pointers doubled", DoubleBranchChild},
	}
}

// Fill writes a store at path, and closes it, with enough snapshots and
// pending deliveries (2,000 of each, in one bucket each) for branch pages,
// so that every damage of Damages applies to it.
func Fill(t testing.TB, path string) {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.Update
	for i := range 2000 {
		meeting := fmt.Sprintf("meeting-%04d", i)
		batch = append(batch, store.Update{
			Key: store.SnapshotKey{Watch: "fill", MeetingID: meeting}, Snapshot: []byte(strings.Repeat("s", 600)),
			Events: []store.NewEvent{{ID: "evt_" + meeting, Type: "session.started", CreatedAt: time.Now(),
				Body: []byte(`{"data":{"id":"evt_` + meeting + `"}}`), Notifiers: []string{"ops"}}},
		})
	}
	if err := s.Commit(batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Truncate cuts the file at path to size bytes.
func Truncate(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// SetPageFlags sets the flags of the first page of type typ ("leaf",
// "branch") in use, the way a flipped bit on disk would.
func SetPageFlags(t testing.TB, path, typ string, flags uint16) {
	t.Helper()
	id, size := findPage(t, path, typ)
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], flags)
	writeAt(t, path, b[:], id*size+flagsOffset)
}

// SetBranchPointer aims the first child pointer of the first branch page in
// use at page id.
func SetBranchPointer(t testing.TB, path string, pageID uint64) {
	t.Helper()
	id, size := findPage(t, path, "branch")
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], pageID)
	writeAt(t, path, b[:], id*size+headerSize+branchPgidOffset)
}

// DoubleBranchChild aims the first child pointer of the first branch page
// in use at its second child, as a misdirected write might.
func DoubleBranchChild(t testing.TB, path string) {
	t.Helper()
	id, size := findPage(t, path, "branch")
	b := make([]byte, 8)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadAt(b, id*size+headerSize+branchPageElemSize+branchPgidOffset)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, b, id*size+headerSize+branchPgidOffset)
}

// findPage returns the id of the first page of type typ that is in use, and
// the page size, or fails the test.
func findPage(t testing.TB, path, typ string) (id, pageSize int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for i := 2; ; {
			p, err := tx.Page(i)
			if err != nil {
				return err
			}
			if p == nil {
				return nil
			}
			if p.Type == typ {
				id = int64(i)
				return nil
			}
			i += 1 + p.OverflowCount
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 {
		t.Fatalf("%s has no %s page in use: give it more data", path, typ)
	}
	return id, int64(db.Info().PageSize)
}

// writeAt writes b into the file at path at offset off.
func writeAt(t testing.TB, path string, b []byte, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// OverwriteDelivery replaces the stored record of outbox delivery id of
// notifier in the store file at path, which no one has open, with value:
// a record that does not decode, as a bug or a stray write would leave.
func OverwriteDelivery(t testing.TB, path, notifier string, id uint64, value []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		nb := tx.Bucket([]byte("outbox")).Bucket([]byte(notifier))
		if nb == nil {
			t.Fatalf("%s has no outbox of %s", path, notifier)
		}
		return nb.Put(binary.BigEndian.AppendUint64(nil, id), value)
	})
	if err != nil {
		t.Fatal(err)
	}
}
