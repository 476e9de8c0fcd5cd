package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Store persists incidents and their timelines. Every change goes through
// Update, one write transaction that is durable (fsync) when it returns.
type Store interface {
	Updater
	Incident(ctx context.Context, id uuid.UUID) (*Incident, error)
	IncidentByNumber(ctx context.Context, n int64) (*Incident, error)
	IncidentByChannel(ctx context.Context, platform Platform, channelID string) (*Incident, error)
	ListIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, error)
	// Events returns up to limit events with Seq >= from, in order
	// (limit <= 0 means all).
	Events(ctx context.Context, incidentID uuid.UUID, from uint64, limit int) ([]Event, error)
	CountEvents(ctx context.Context, incidentID uuid.UUID) (int, error)
	// LastAbout returns the newest event of one of kinds about the message
	// ref, looking back through at most the newest limit events; found is
	// false when there is none.
	LastAbout(ctx context.Context, incidentID uuid.UUID, ref MessageRef, limit int, kinds ...EventKind) (ev Event, found bool, err error)
}

// IncidentFilter selects incidents for ListIncidents, newest first.
type IncidentFilter struct {
	ActiveOnly bool  // only open, acknowledged and mitigated incidents
	Limit      int   // 0 means no limit
	Before     int64 // only incidents numbered below this (paging through the list); 0: all
	// DeclaredSince, when set, ends the list (newest first) at the first
	// incident declared before it: a window reads only its incidents.
	DeclaredSince time.Time
}

// Reminder kinds.
const (
	RemindUpdate    = "update"    // the commander should post a status update
	RemindCommander = "commander" // the incident has no commander
)

// Reminder is a due row: remind about an incident at a time.
type Reminder struct {
	IncidentID uuid.UUID
	Kind       string
	At         time.Time
}

// ReminderStore reads reminder timers, kept as rows (written through
// Tx.SetReminder), so a restart loses none.
type ReminderStore interface {
	// DueReminders lists reminders due at now, oldest first.
	DueReminders(ctx context.Context, now time.Time) ([]Reminder, error)
}

// TimelineReader streams an incident's timeline, oldest first, without
// loading it all: fn sees one event at a time.
type TimelineReader interface {
	EachEvent(ctx context.Context, incidentID uuid.UUID, fn func(Event) error) error
	// EachEventBrief is EachEvent for reports: the events carry only their
	// kind, actor, time, text and highlight, which is much cheaper to read.
	EachEventBrief(ctx context.Context, incidentID uuid.UUID, fn func(Event) error) error
}

// PostmortemStore keeps the latest postmortem draft of each incident
// (written through Tx.PutPostmortem).
type PostmortemStore interface {
	Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error)
	// PostmortemVersions lists the incident's edited versions, oldest first.
	PostmortemVersions(ctx context.Context, incidentID uuid.UUID) ([]PostmortemVersion, error)
}

// PostmortemVersion is one save of an incident's postmortem in the web
// editor: who, when, and the Markdown. Once there is one, the latest is
// the incident's postmortem: the API, the upload and a fresh request serve
// it instead of a draft made from the timeline.
type PostmortemVersion struct {
	IncidentID uuid.UUID `json:"incident_id"`
	N          int       `json:"n"`  // 1, 2, … assigned by the store
	By         string    `json:"by"` // person id
	At         time.Time `json:"at"`
	Markdown   string    `json:"markdown"`
}

// AlertStore remembers which incident an alert group belongs to while the
// incident is open, so repeats of the group do not declare again (written
// through Tx.SetAlertIncident, with the declaration).
type AlertStore interface {
	AlertIncident(ctx context.Context, key string) (uuid.UUID, bool, error)
}
