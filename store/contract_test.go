package store_test

import (
	"path/filepath"
	"testing"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "k.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
