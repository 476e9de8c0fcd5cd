package bot

import (
	"context"
	"time"
)

// Actor is who acted, and where: the user, their platform, and the
// channel they acted from (zero when not in one).
type Actor struct {
	User     User
	Platform Platform
	Channel  ChannelRef
}

// Change is a change to an incident as its followers see it, inside the
// transaction that makes it.
type Change struct {
	Kind     EventKind // what happened: EventDeclared, EventAcknowledged, …
	Incident *Incident // as it is after the change
	Who      User
	Platform Platform // where Who acted
	Text     string   // the timeline's words for it
	// Public says the change is a public update (the status page's).
	Public bool
	At     time.Time
	// Again says the incident was in this state already (a second
	// acknowledgement): only what is still open, like a page, follows.
	Again bool
	Extra map[string]string // details for hook receivers (a follow-up's number)
	// Notes, when set, collects lines for the reply to whoever made the
	// change (Note).
	Notes *[]string
}

// ChangePostmortem is the change of a postmortem draft being generated
// (not a timeline kind).
const ChangePostmortem EventKind = "postmortem"

// Note adds a line to the reply to whoever made the change.
func (ch Change) Note(s string) {
	if ch.Notes != nil {
		*ch.Notes = append(*ch.Notes, s)
	}
}

// Follower adds what follows from a change (a page, hook events) to the
// change's own transaction, so the change and its consequences commit
// together. Follow may run more than once for one change (group commit):
// it must write only through tx. An error refuses the whole change.
type Follower interface {
	Follow(tx Tx, ch Change) error
}

// Summarizer is a follower with something to show in an incident's live
// summary (who was paged and how it went).
type Summarizer interface {
	SummaryFields(ctx context.Context, inc *Incident) []Field
}

// Watcher is a follower that watches the activity in incident channels
// (reactions that acknowledge).
type Watcher interface {
	Watch(ctx context.Context, a Activity)
}

// Member is a follower that knows more members of a private incident:
// paging counts the people it paged.
type Member interface {
	HasMember(ctx context.Context, inc *Incident, who Actor) bool
}

// Voucher is a follower that knows who else may make a change that
// restrict_lifecycle keeps to role holders: paging vouches for the people
// it paged and the service's on-call.
type Voucher interface {
	Vouches(tx Tx, inc *Incident, who Actor, now time.Time) bool
}
