package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestFollowUps(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down")
	ch := e.incident(1).Channel.ID
	if got := e.do("alice", ch, "/incident followup Add a replica alarm @bob due:2026-11-25"); !strings.Contains(got, "*F-1* (INC-1) Add a replica alarm · owner @bob · due 2026-11-25") || !strings.Contains(got, "[Done]") {
		t.Fatalf("create: %s", got)
	}
	e.do("alice", ch, "/incident followup Write the runbook")
	for _, bad := range []struct{ text, want string }{
		{"/incident followup", "The follow-up is empty"},
		{"/incident followup x due:tomorrow", "needs a date"},
		{"/followup done F-9", "F-9 does not exist"},
		{"/followup done nine", "is not a follow-up like F-3"},
		{"/followups later", `"later" is not one of`},
	} {
		if got := e.do("alice", ch, bad.text); !strings.Contains(got, bad.want) {
			t.Errorf("%s: %s", bad.text, got)
		}
	}
	if got := e.do("bob", "general", "/followups mine"); !strings.Contains(got, "F-1") || strings.Contains(got, "F-2") {
		t.Errorf("bob's: %s", got)
	}
	// Follow-ups outlive the incident.
	e.do("alice", ch, "/incident resolve")
	e.do("alice", ch, "/incident close")
	e.clock.Set(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	if got := e.do("alice", "general", "/followups overdue"); !strings.Contains(got, "F-1") || !strings.Contains(got, "overdue") || strings.Contains(got, "F-2") {
		t.Errorf("overdue: %s", got)
	}
	// The daily reminder DMs bob about F-1.
	e.clock.Set(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	if n := incidents(e).FollowUps().RemindOverdueFollowUps(context.Background(), e.clock.Now()); n != 1 {
		t.Errorf("reminders sent: %d", n)
	}
	e.inc.Outbox().Drain(context.Background())
	if dms := e.console.DMs("bob"); len(dms) != 1 || !strings.Contains(dms[0], "Overdue follow-ups") || !strings.Contains(dms[0], "F-1") {
		t.Errorf("bob's DMs: %q", dms)
	}
	// Done by button, then reopen by command.
	resp := e.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: "klaxon.followup.done", Value: "1", User: bot.User{ID: "bob"}})
	if !resp.IsZero() {
		t.Errorf("done button: %q", resp.Text)
	}
	if got := e.do("bob", "general", "/followup done F-1"); !strings.Contains(got, "already done") {
		t.Errorf("second done: %s", got)
	}
	if got := e.do("bob", "general", "/followups"); strings.Contains(got, "F-1") {
		t.Errorf("a done follow-up is listed as open: %s", got)
	}
	if got := e.do("bob", "general", "/followup reopen F-1"); !strings.Contains(got, "[Done]") {
		t.Errorf("reopen: %s", got)
	}
	// The follow-up is on the incident's timeline as a key event.
	found := false
	for _, ev := range e.events(e.incident(1)) {
		if ev.Kind == bot.EventFollowUp && ev.Highlight && strings.Contains(ev.Text, "Add a replica alarm") {
			found = true
		}
	}
	if !found {
		t.Error("the follow-up is not on the timeline")
	}
}
