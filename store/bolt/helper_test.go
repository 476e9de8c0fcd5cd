package bolt_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// openTemp opens a store in a temp dir and, when the test ends, checks the
// file's consistency before closing it.
func openTemp(t testing.TB) *bolt.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "klaxon.db"))
}

func openAt(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { closeChecked(t, s) })
	return s
}

// closeChecked checks consistency and closes s; closing twice is harmless.
func closeChecked(t testing.TB, s *bolt.Store) {
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

// create stores inc and its events in one change, as a declaration does.
func create(s *bolt.Store, inc *bot.Incident, events ...bot.Event) error {
	draft := *inc
	err := s.Update(ctx, func(tx bot.Tx) error {
		draft = *inc
		return tx.CreateIncident(&draft, slices.Clone(events)...)
	})
	if err == nil {
		*inc = draft
	}
	return err
}

// appendEvent appends ev in one change, as channel activity does, sets
// its sequence number and reports whether the timeline grew (a source id
// seen before adds nothing).
func appendEvent(s *bolt.Store, ev *bot.Event) (bool, error) {
	var evs []bot.Event
	err := s.Update(ctx, func(tx bot.Tx) error {
		evs = []bot.Event{*ev}
		return tx.AppendEvents(ev.IncidentID, evs...)
	})
	if err != nil {
		return false, err
	}
	*ev = evs[0]
	return evs[0].Seq != 0, nil
}

// updateIncident changes an incident and appends events in one change.
func updateIncident(s *bolt.Store, id uuid.UUID, fn func(*bot.Incident) ([]bot.Event, error)) (*bot.Incident, error) {
	var out *bot.Incident
	err := s.Update(ctx, func(tx bot.Tx) error {
		cur, err := tx.Incident(id)
		if err != nil {
			return err
		}
		evs, err := fn(cur)
		if err != nil {
			return err
		}
		if err := tx.PutIncident(cur); err != nil {
			return err
		}
		out = cur
		return tx.AppendEvents(id, evs...)
	})
	return out, err
}
