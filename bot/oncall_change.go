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
)

// OnCallChange is one entry of the on-call history. Changes are only ever
// appended: undoing appends a change that reverts an earlier one.
type OnCallChange struct {
	ID       uuid.UUID  `json:"id"` // UUIDv7: the history's order
	Kind     ChangeKind `json:"kind"`
	Author   User       `json:"author"`
	At       time.Time  `json:"at"`
	Override *Override  `json:"override,omitempty"` // override and cover
	Reverts  uuid.UUID  `json:"reverts,omitzero"`   // undo
}

// OnCallStore keeps the on-call history.
type OnCallStore interface {
	AddOnCallChange(ctx context.Context, c *OnCallChange) error
	OnCallChanges(ctx context.Context) ([]OnCallChange, error)
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
		}
	}
	return out
}

// LastUndoable returns the latest change by user that is still in force.
func (h History) LastUndoable(user string) (OnCallChange, bool) {
	gone := h.reverted()
	for i := len(h) - 1; i >= 0; i-- {
		if c := h[i]; c.Author.ID == user && c.Kind != ChangeUndo && !gone[c.ID] {
			return c, true
		}
	}
	return OnCallChange{}, false
}

// Reverted reports whether change id was undone.
func (h History) Reverted(id uuid.UUID) bool { return h.reverted()[id] }
