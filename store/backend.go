// Package store is the contract every klaxon store keeps: Backend (the
// bot interfaces plus operations), the records stores dump and load to
// move between each other, and the group commit they share. Two siblings
// implement it: store/bolt (one embedded bbolt file, the default) and
// store/pg (PostgreSQL, for replicas). store/storetest holds both to it.
package store

import (
	"context"
	"io"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Backend is everything klaxon runs on, whichever database holds it: the
// embedded bbolt file (store/bolt) or PostgreSQL (store/pg). The contract
// suite in store/storetest holds both to the same behaviour.
type Backend interface {
	bot.Store
	bot.JobStore
	bot.PageStore
	bot.ReminderStore
	bot.TimelineReader
	bot.PostmortemStore
	bot.ProfileStore
	bot.SessionStore
	bot.SubscriberStore
	bot.IdempotencyStore
	bot.AlertStore
	bot.FollowUpStore
	bot.HeartbeatStore
	bot.OnCallStore
	Dumper // moving to the other store
	// Counts are the totals for /metrics.
	Counts(ctx context.Context) (Counts, error)
	// PruneSeen forgets de-duplication records older than before.
	PruneSeen(before time.Time) (int, error)
	// Ready reports whether the store takes writes.
	Ready() error
	// Check reports the first inconsistency found, or nil.
	Check() error
	// Backup writes a consistent copy of the store to w, where the
	// database has such a thing (bbolt); others say how to back up.
	Backup(w io.Writer) (int64, error)
	// Export writes every incident and its timeline as JSON lines.
	Export(w io.Writer) (incidents, events int, err error)
	Close() error
}
