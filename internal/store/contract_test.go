package store_test

import (
	"path/filepath"
	"testing"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
	"github.com/rtkwatchd/rtkwatchd/internal/store/storetest"
)

// TestContract runs the store contract against bbolt files, each checked
// for consistency before it is closed.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Check(); err != nil {
				t.Errorf("consistency check: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}
