package store_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// openTemp opens a store in a temp dir and, when the test ends, checks the
// file's consistency before closing it.
func openTemp(t testing.TB) *store.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "klaxon.db"))
}

func openAt(t testing.TB, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { closeChecked(t, s) })
	return s
}

// closeChecked checks consistency and closes s; closing twice is harmless.
func closeChecked(t testing.TB, s *store.Store) {
	t.Helper()
	if err := s.Check(); err != nil && !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		t.Errorf("consistency check of %s: %v", s.Path(), err)
	}
	s.Close()
}

var t0 = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func newIncident(title string) *bot.Incident {
	return &bot.Incident{
		Title:      title,
		Severity:   bot.DefaultSeverities()[0],
		Status:     bot.StatusOpen,
		Platform:   bot.PlatformConsole,
		DeclaredBy: bot.User{ID: "alice", Name: "alice"},
		DeclaredAt: t0,
		UpdatedAt:  t0,
	}
}
