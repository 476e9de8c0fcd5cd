package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
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
	if _, err := reopen(broken); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d (broken)", len(broken))) {
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

// TestUpgradeFromSchemaV1 opens a file written by the first schema with the
// current build: the data is kept and the on-call history bucket appears.
func TestUpgradeFromSchemaV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	old, err := open(path, Options{}, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	inc := &bot.Incident{Title: "from v1", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen}
	if err := old.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.schemaVersion(); v != SchemaVersion() {
		t.Errorf("upgraded file at schema %d; want %d", v, SchemaVersion())
	}
	if got, err := s.IncidentByNumber(ctx, 1); err != nil || got.Title != "from v1" {
		t.Errorf("incident after upgrade = %+v, %v", got, err)
	}
	if err := s.AddOnCallChange(ctx, &bot.OnCallChange{Kind: bot.ChangeOverride, Override: &bot.Override{Schedule: "x", Person: "a"}}); err != nil {
		t.Errorf("on-call history after upgrade: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}
