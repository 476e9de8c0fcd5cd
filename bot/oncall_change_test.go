package bot_test

import (
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestHistoryUndo(t *testing.T) {
	ov := func(person string) *bot.Override {
		return &bot.Override{ID: bot.NewID(), Schedule: "s", Person: person}
	}
	a1 := bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, Author: bot.User{ID: "alice"}, Override: ov("x")}
	b1 := bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeCover, Author: bot.User{ID: "bob"}, Override: ov("y")}
	a2 := bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, Author: bot.User{ID: "alice"}, Override: ov("z")}
	h := bot.History{a1, b1, a2}

	// Alice's undo reverts her latest change, even after bob's later edit.
	last, ok := h.LastUndoable("alice")
	if !ok || last.ID != a2.ID {
		t.Fatalf("LastUndoable(alice) = %v, %v; want her second change", last.ID, ok)
	}
	h = append(h, bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeUndo, Author: bot.User{ID: "alice"}, Reverts: a2.ID})
	if got := persons(h.Overrides()["s"]); got != "x y" {
		t.Errorf("after one undo: %s; want x y", got)
	}
	// A second undo goes one further back; the undo itself is not undoable.
	last, _ = h.LastUndoable("alice")
	if last.ID != a1.ID {
		t.Fatalf("second LastUndoable(alice) = %v; want her first change", last.ID)
	}
	h = append(h, bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeUndo, Author: bot.User{ID: "alice"}, Reverts: a1.ID})
	if got := persons(h.Overrides()["s"]); got != "y" {
		t.Errorf("after two undos: %s; want y", got)
	}
	if _, ok := h.LastUndoable("alice"); ok {
		t.Error("alice has nothing left to undo")
	}
	if !h.Reverted(a1.ID) || h.Reverted(b1.ID) {
		t.Error("Reverted is wrong")
	}
	if len(h) != 5 {
		t.Errorf("history has %d entries; undo must append, not rewrite", len(h))
	}
}

func persons(ovs []bot.Override) string {
	s := ""
	for _, o := range ovs {
		if s != "" {
			s += " "
		}
		s += o.Person
	}
	return s
}
