package store

import "github.com/klaxon-bot/klaxon/bot"

// Counts are the store's totals for /metrics.
type Counts struct {
	// TimelineEvents is every timeline event ever appended: each
	// incident's timeline bucket numbers its events from a sequence.
	TimelineEvents uint64
	// Deliveries counts page deliveries by status (pending, sent, failed,
	// cancelled).
	Deliveries map[bot.DeliveryStatus]int
	// OutboxDue is how many outbox queues (pages, hooks, chat) wait for
	// their next attempt.
	OutboxDue int
	// Incidents counts every incident by status and severity: kept as
	// counters (bbolt) or grouped in the database (PostgreSQL), so
	// /metrics does not read them all.
	Incidents map[IncidentClass]int
}

// IncidentClass is an incident's status and severity name.
type IncidentClass struct{ Status, Severity string }
