package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ChangeKind says what an on-call change did.
type ChangeKind string

// On-call change kinds.
const (
	ChangeOverride ChangeKind = "override" // someone is on call for a stretch
	ChangeCover    ChangeKind = "cover"    // someone takes over from now on
	ChangeUndo     ChangeKind = "undo"     // reverts an earlier change
	ChangeOffer    ChangeKind = "offer"    // someone offers a shift for swapping
	ChangeTake     ChangeKind = "take"     // a teammate takes an offered shift
	ChangeExpire   ChangeKind = "expire"   // an offer nobody took ran out
)

// SwapOffer is a shift someone offers to a teammate.
type SwapOffer struct {
	Schedule string     `json:"schedule"`
	Person   string     `json:"person"` // who gives the shift away
	Start    time.Time  `json:"start"`
	End      time.Time  `json:"end"`
	Platform Platform   `json:"platform"`
	Message  MessageRef `json:"message,omitzero"` // the offer with its button
	// Unposted says no chat message was posted for the offer: it was made
	// in the web console for a schedule with no channel to post it in.
	Unposted bool `json:"unposted,omitempty"`
	// Pieces are the stretches of the shift the person is on call for,
	// when a restricted layer (business hours) cuts it up; empty when it
	// is one stretch from Start to End. Taking the offer takes each.
	Pieces []Stretch `json:"pieces,omitempty"`
}

// Stretch is a span of time.
type Stretch struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Stretches are the offer's pieces: Pieces, or Start to End.
func (o *SwapOffer) Stretches() []Stretch {
	if len(o.Pieces) > 0 {
		return o.Pieces
	}
	return []Stretch{{o.Start, o.End}}
}

// OnCallChange is one entry of the on-call history. Changes are only ever
// appended: undoing appends a change that reverts an earlier one.
type OnCallChange struct {
	ID       uuid.UUID  `json:"id"` // UUIDv7: the history's order
	Kind     ChangeKind `json:"kind"`
	Author   User       `json:"author"`
	At       time.Time  `json:"at"`
	Override *Override  `json:"override,omitempty"` // override, cover and take
	More     []Override `json:"more,omitempty"`     // take: the other pieces of a shift in pieces
	Reverts  uuid.UUID  `json:"reverts,omitzero"`   // undo
	Offer    *SwapOffer `json:"offer,omitempty"`    // offer
	OfferID  uuid.UUID  `json:"offer_id,omitzero"`  // take and expire: the offer
}

// OnCallStore keeps the on-call history.
// Changes are written through Tx.AddOnCallChange, with the chat jobs that
// announce them.
type OnCallStore interface {
	Updater
	OnCallChanges(ctx context.Context) ([]OnCallChange, error)
	// Cursor keeps how far a periodic job has got (Tx.SetCursor moves it
	// with the notices it queues), so a restart neither repeats nor skips
	// its work.
	Cursor(ctx context.Context, key string) (time.Time, bool, error)
}

// History is the on-call change log with what follows from it.
type History []OnCallChange

// reverted is the set of changes an undo has reverted.
func (h History) reverted() map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, c := range h {
		if c.Kind == ChangeUndo {
			out[c.Reverts] = true
		}
	}
	return out
}

// Overrides returns the overrides in force per schedule, in the order they
// were made.
func (h History) Overrides() map[string][]Override {
	gone := h.reverted()
	out := map[string][]Override{}
	for _, c := range h {
		if c.Override != nil && !gone[c.ID] {
			out[c.Override.Schedule] = append(out[c.Override.Schedule], *c.Override)
			for _, ov := range c.More {
				out[ov.Schedule] = append(out[ov.Schedule], ov)
			}
		}
	}
	return out
}

// LastUndoable returns the latest change by user that is still in force.
func (h History) LastUndoable(user string) (OnCallChange, bool) {
	gone := h.reverted()
	for i := len(h) - 1; i >= 0; i-- {
		if c := h[i]; c.Author.ID == user && c.Kind != ChangeUndo && c.Kind != ChangeExpire && !gone[c.ID] {
			return c, true
		}
	}
	return OnCallChange{}, false
}

// LastOnSchedule returns the latest override, cover or take on schedule
// that is still in force, whoever made it.
func (h History) LastOnSchedule(schedule string) (OnCallChange, bool) {
	gone := h.reverted()
	for i := len(h) - 1; i >= 0; i-- {
		c := h[i]
		if c.Override != nil && c.Override.Schedule == schedule && !gone[c.ID] &&
			(c.Kind == ChangeOverride || c.Kind == ChangeCover || c.Kind == ChangeTake) {
			return c, true
		}
	}
	return OnCallChange{}, false
}

// OfferState says what became of an offer.
type OfferState string

// Offer states.
const (
	OfferOpen      OfferState = "open"
	OfferTaken     OfferState = "taken"
	OfferExpired   OfferState = "expired"
	OfferWithdrawn OfferState = "withdrawn" // the offer itself was undone
)

// Offer finds an offer and what became of it.
func (h History) Offer(id uuid.UUID) (OnCallChange, OfferState, bool) {
	gone := h.reverted()
	var offer OnCallChange
	found := false
	state := OfferOpen
	for _, c := range h {
		switch {
		case c.ID == id && c.Kind == ChangeOffer:
			offer, found = c, true
			if gone[c.ID] {
				state = OfferWithdrawn
			}
		case c.OfferID == id && c.Kind == ChangeTake && !gone[c.ID]:
			state = OfferTaken
		case c.OfferID == id && c.Kind == ChangeExpire && state == OfferOpen:
			state = OfferExpired
		}
	}
	return offer, state, found
}

// OpenOffers lists offers nobody took, withdrew or expired yet.
func (h History) OpenOffers() []OnCallChange {
	var out []OnCallChange
	for _, c := range h {
		if c.Kind == ChangeOffer {
			if _, state, _ := h.Offer(c.ID); state == OfferOpen {
				out = append(out, c)
			}
		}
	}
	return out
}

// Reverted reports whether change id was undone.
func (h History) Reverted(id uuid.UUID) bool { return h.reverted()[id] }
