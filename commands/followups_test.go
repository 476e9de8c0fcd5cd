package commands_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
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

// A private incident's follow-ups are for the people who may see the
// incident (and their owner): an outsider neither lists nor closes them,
// by command or button, and its stats leave the incident out.
func TestPrivateFollowUpsAreForMembers(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.RestrictLifecycle = true }))
	e.do("alice", "general", `/incident declare "Credential leak" private`)
	ch := e.incident(1).Channel.ID
	e.do("alice", ch, "/incident followup Rotate the signing keys @carol")
	e.do("alice", "general", `/incident declare "Checkout is down"`)
	e.do("alice", e.incident(2).Channel.ID, "/incident followup Add a circuit breaker")

	for _, filter := range []string{"", " all", " open"} {
		if got := e.do("mallory", "general", "/followups"+filter); strings.Contains(got, "signing keys") || strings.Contains(got, "F-1") || !strings.Contains(got, "F-2") {
			t.Errorf("/followups%s for an outsider: %s", filter, got)
		}
	}
	if got := e.do("alice", "general", "/followups all"); !strings.Contains(got, "signing keys") {
		t.Errorf("/followups all for the declarer lacks the private follow-up: %s", got)
	}
	if got := e.do("carol", "general", "/followups mine"); !strings.Contains(got, "signing keys") {
		t.Errorf("/followups mine for its owner: %s", got)
	}
	if got := e.do("mallory", "general", "/followup done F-1"); !strings.Contains(got, "INC-1, which is private") {
		t.Errorf("an outsider closing F-1: %s", got)
	}
	resp := e.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: commands.ActionFollowUpDone, Value: "F-1", User: bot.User{ID: "mallory"}})
	if !strings.Contains(resp.Text, "private") {
		t.Errorf("an outsider's Done button: %+v", resp)
	}
	// In the channel, without a role: restrict_lifecycle keeps it to role
	// holders, admins and the owner.
	if got := e.do("bob", ch, "/followup done F-1"); !strings.Contains(got, "Only people with a role on INC-1") {
		t.Errorf("a member without a role closing F-1 under restrict_lifecycle: %s", got)
	}
	if got := e.do("carol", "general", "/followup done F-1"); !strings.Contains(got, "F-1") || strings.Contains(got, "private") {
		t.Errorf("its owner closing F-1: %s", got)
	}
	if fs, _ := e.store.FollowUps(context.Background()); !fs[0].Done || fs[0].DoneBy.ID != "carol" {
		t.Errorf("F-1 after its owner closed it: %+v", fs[0])
	}
	declared := regexp.MustCompile(`Declared:\s+(\d+)\n`)
	if got := declared.FindStringSubmatch(e.do("mallory", "general", "/incident stats")); got == nil || got[1] != "1" {
		t.Errorf("stats for an outsider count %v incidents; want 1 (the private one left out)", got)
	}
	if got := declared.FindStringSubmatch(e.do("alice", "general", "/incident stats")); got == nil || got[1] != "2" {
		t.Errorf("stats for the declarer count %v incidents; want 2", got)
	}
}

// A follow-up's due date in the past, or an owner klaxon does not know,
// is refused like elsewhere.
func TestFollowUpRefusesPastDatesAndUnknownOwners(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) {
		c.People = bot.People{{ID: "alice", Name: "Alice"}, {ID: "bob", Name: "Bob"}}
	}))
	e.do("alice", "general", "/incident declare DB down")
	ch := e.incident(1).Channel.ID
	if got := e.do("alice", ch, "/incident followup check backups due:2026-11-01"); !strings.Contains(got, "The due date 2026-11-01 is in the past") {
		t.Errorf("a past due date: %s", got)
	}
	if got := e.do("alice", ch, "/incident followup check backups @zed"); !strings.Contains(got, "@zed is not in klaxon's list of people") {
		t.Errorf("an unknown owner: %s", got)
	}
	if got := e.do("alice", ch, "/incident followup check backups @bob due:2026-11-28"); !strings.Contains(got, "F-1") {
		t.Errorf("a good follow-up: %s", got)
	}
}
