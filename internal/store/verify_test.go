package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

func TestOpenDamaged(t *testing.T) {
	for _, dmg := range storetest.Damages() {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/read-only=%v", dmg.Name, readOnly), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "state.db")
				storetest.Fill(t, path)
				dmg.Apply(t, path)
				s, err := store.Open(path, store.Options{ReadOnly: readOnly})
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded on a damaged file, want ErrDamaged")
				}
				if !errors.Is(err, store.ErrDamaged) {
					t.Fatalf("Open: %v; want ErrDamaged", err)
				}
				for _, want := range []string{"open store " + path + ": the store file is damaged: ", "restore the file from a backup, or move it away"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Open: %v\nwant it to contain %q", err, want)
					}
				}
				for _, bad := range []string{"runtime error", "nil pointer", "invalid memory address", "fault"} {
					if strings.Contains(err.Error(), bad) {
						t.Errorf("Open: %v\nshows the Go runtime's words %q; DamageDetail is for those", err, bad)
					}
				}
				if d := store.DamageDetail(err); strings.Contains(err.Error(), "a page points where no page") && !strings.HasPrefix(d, "runtime error") {
					t.Errorf("Open: %v\nDamageDetail = %q, want the runtime's message for the log", err, d)
				}
				t.Logf("Open: %v (detail: %q)", err, store.DamageDetail(err))
			})
		}
	}
}

func TestDamageDetailOfOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), store.ErrDamaged, fmt.Errorf("open: %w", store.ErrDamaged)} {
		if d := store.DamageDetail(err); d != "" {
			t.Errorf("DamageDetail(%v) = %q, want \"\"", err, d)
		}
	}
}

// TestOpenCheckBounded: the check stops when CheckWithin runs out, and a
// negative CheckWithin skips it; either way a sound file opens.
func TestOpenCheckBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	storetest.Fill(t, path)
	for _, within := range []time.Duration{time.Nanosecond, -1, time.Minute} {
		s, err := store.Open(path, store.Options{CheckWithin: within})
		if err != nil {
			t.Fatalf("Open with CheckWithin %s: %v", within, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
