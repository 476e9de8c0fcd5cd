package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "k.db"), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
