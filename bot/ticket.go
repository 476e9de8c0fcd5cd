package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Ticket is a follow-up's issue in a tracker.
type Ticket struct {
	Tracker string `json:"tracker"`       // the configured tracker's id
	ID      string `json:"id,omitempty"`  // the tracker's own name: "412", "PAY-88"; empty until made
	Ref     string `json:"ref,omitempty"` // how people name it: "payments#412", "PAY-88"
	URL     string `json:"url,omitempty"`
	// Closed is the ticket's state as klaxon last knew it, so the sync
	// acts on changes in the tracker, not on its own lag.
	Closed bool `json:"closed,omitempty"`
	// Failed says the tracker refused the ticket for good (the reason is
	// in the log and the channel).
	Failed bool `json:"failed,omitempty"`
}

// Made reports whether the ticket exists in its tracker.
func (t *Ticket) Made() bool { return t != nil && t.ID != "" }

// TicketIssue is what a ticket is made from: one follow-up.
type TicketIssue struct {
	// FollowUp is carried by the ticket (a label, a marker), so an attempt
	// after a crash finds the ticket an earlier one made.
	FollowUp      uuid.UUID
	Key           string // F-3
	Text          string
	Incident      string // INC-42
	IncidentTitle string
	Owner         string // a display name
	Due           Date
	Created       time.Time
}

// TicketState is a ticket's state in its tracker.
type TicketState struct {
	ID      string // as in Ticket.ID
	Closed  bool
	Updated time.Time // its last change, as the tracker has it
}

// Tracker is one configured issue tracker (GitHub Issues, Jira Cloud).
// Each call is one attempt; its error says, as bot.Transient reads it,
// whether trying again may work and how long the tracker asked to wait.
type Tracker interface {
	// Create makes a ticket for is.
	Create(ctx context.Context, is TicketIssue) (Ticket, error)
	// Find looks for a ticket an earlier attempt made for is.
	Find(ctx context.Context, is TicketIssue) (t Ticket, found bool, err error)
	// SearchLag is how long after its creation a ticket may still be
	// missing from Find: 0 where Find reads what was just written.
	SearchLag() time.Duration
	// SetClosed closes or reopens ticket id.
	SetClosed(ctx context.Context, id string, closed bool) error
	// Changed returns klaxon's tickets changed since since, oldest change
	// first. more says it stopped at its bound with more to read: the
	// next read goes on from the last one's Updated.
	Changed(ctx context.Context, since time.Time) (states []TicketState, more bool, err error)
	// Check asks the tracker whether klaxon's credentials and target (a
	// repository, a project and issue type) work, for `klaxon check`.
	Check(ctx context.Context) error
}
