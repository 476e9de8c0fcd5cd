package store

import (
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	reopen := func(ms []migration) (*Store, error) { return open(path, Options{}, ms) }

	s, err := reopen(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.schemaVersion(); v != SchemaVersion() {
		t.Errorf("fresh file at schema %d; want %d", v, SchemaVersion())
	}
	s.Close()

	// A newer build adds a migration: it runs once, in order.
	runs := 0
	next := append(append([]migration(nil), migrations...), migration{"add widgets", func(tx *bolt.Tx) error {
		runs++
		_, err := tx.CreateBucket([]byte("widgets")) // fails if run twice
		return err
	}})
	for range 2 {
		s, err = reopen(next)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if runs != 1 {
		t.Errorf("new migration ran %d times; want 1", runs)
	}

	// A failing migration leaves the file at its old version.
	broken := append(append([]migration(nil), next...), migration{"broken", func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
			return err
		}
		return errBroken
	}})
	if _, err := reopen(broken); err == nil || !strings.Contains(err.Error(), "migration 3 (broken)") {
		t.Fatalf("broken migration: err = %v", err)
	}
	s, err = reopen(next)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.schemaVersion(); v != len(next) {
		t.Errorf("after failed migration schema = %d; want %d", v, len(next))
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("half-done")) != nil {
			t.Error("failed migration left a bucket behind")
		}
		return nil
	})
	s.Close()

	// An older build refuses a file a newer build wrote.
	if _, err := reopen(migrations); err == nil || !strings.Contains(err.Error(), "newer than this klaxon") {
		t.Errorf("old build on new file: err = %v", err)
	}
}

var errBroken = errorString("boom")

type errorString string

func (e errorString) Error() string { return string(e) }
