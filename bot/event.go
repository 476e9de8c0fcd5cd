package bot

import (
	"time"

	"github.com/google/uuid"
)

// MetaPublic marks an update event for the public status page.
const MetaPublic = "public"

// EventKind says what a timeline event records.
type EventKind string

// Event kinds. Lifecycle kinds are written by klaxon; channel kinds record
// what people did in the incident channel.
const (
	EventDeclared     EventKind = "declared"
	EventUpdate       EventKind = "update"
	EventSeverity     EventKind = "severity"
	EventRole         EventKind = "role"
	EventAcknowledged EventKind = "acknowledged"
	EventMitigated    EventKind = "mitigated"
	EventResolved     EventKind = "resolved"
	EventClosed       EventKind = "closed"
	EventReopened     EventKind = "reopened"
	EventNote         EventKind = "note"
	EventChannel      EventKind = "channel" // klaxon created or changed the channel
	EventFollowUp     EventKind = "followup"
	EventPage         EventKind = "page"       // someone was paged
	EventDelivery     EventKind = "delivery"   // a page reached a pager, or failed to
	EventAlert        EventKind = "alert"      // a monitoring system fired or resolved an alert
	EventPostmortem   EventKind = "postmortem" // someone saved a version of the postmortem

	EventMessage       EventKind = "message"
	EventMessageEdit   EventKind = "message_edited"
	EventMessageDelete EventKind = "message_deleted"
	EventReaction      EventKind = "reaction"
	EventPin           EventKind = "pin"
	EventFile          EventKind = "file"
	EventJoin          EventKind = "join"
)

// Event is one entry of an incident's timeline.
type Event struct {
	ID         uuid.UUID `json:"id"`
	IncidentID uuid.UUID `json:"incident_id"`
	Seq        uint64    `json:"seq"` // position in the timeline, assigned by the store
	Kind       EventKind `json:"kind"`
	Actor      User      `json:"actor,omitzero"`
	Time       time.Time `json:"time"`
	Text       string    `json:"text,omitempty"`
	// Ref is the platform message the event is about, if any.
	Ref MessageRef `json:"ref,omitzero"`
	// SourceID is the platform's id for the event that caused this entry
	// (Slack event_id, Discord message id + kind, …). The store records each
	// SourceID once, so redelivered events are not written twice.
	SourceID string `json:"source_id,omitempty"`
	// Highlight marks a key event (a note, a 📌 reaction).
	Highlight bool              `json:"highlight,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
}

// NewEvent returns an event with a fresh time-ordered id.
func NewEvent(kind EventKind, actor User, at time.Time, text string) Event {
	// A chat message's time token (ChatTime) reads as plain text on the
	// timeline, in files and in hooks.
	return Event{ID: NewID(), Kind: kind, Actor: actor, Time: at, Text: PlainTimes(text)}
}

// NewID returns a new UUIDv7: time-ordered, so byte order is creation order.
func NewID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does.
		panic("klaxon: no randomness for UUIDv7: " + err.Error())
	}
	return id
}
