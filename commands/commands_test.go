package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

var t0 = commandstest.Night

// env is klaxon's core over a real store and the console chat, from the
// shared harness, at t0.
type env struct {
	*commandstest.Env
	t       *testing.T
	store   *bolt.Store
	console *console.Console
	chat    bot.Chat // what commands talk to; may wrap the console
	clock   *bot.FakeClock
	mux     *bot.Mux
	out     *bytes.Buffer
	inc     *commands.Incidents
}

type option = commandstest.Option

func withChat(wrap func(bot.Chat) bot.Chat) option { return commandstest.WrapChat(wrap) }

// withPolicy changes the incident policy.
func withPolicy(fn func(*commands.Config)) option { return commandstest.Incidents(fn) }

func withServices(ids ...string) option { return commandstest.Services(ids...) }

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	h := commandstest.New(t, append([]option{commandstest.StartAt(t0), commandstest.Checked(), commandstest.Announced()}, opts...)...)
	return &env{Env: h, t: t, store: h.Store, console: h.Console, chat: h.Chat, clock: h.Clock, mux: h.Mux, out: h.Out, inc: h.Incidents}
}

func incidents(e *env) *commands.Incidents { return e.inc }

// do runs a command as user in channel and returns the reply text.
func (e *env) do(user, channel, text string) string {
	e.t.Helper()
	resp := e.mux.Dispatch(context.Background(), &bot.Request{
		Platform: bot.PlatformConsole, User: bot.User{ID: user, Name: user},
		Channel: bot.ChannelRef{ID: channel, Name: channel}, Text: text, Time: e.clock.Now(),
	})
	e.inc.Outbox().Drain(context.Background()) // what the command does in chat, done
	return console.RenderMessage(resp.Message)
}

func (e *env) incident(n int64) *bot.Incident { e.t.Helper(); return e.Incident(n) }

func (e *env) events(inc *bot.Incident) []bot.Event { e.t.Helper(); return e.Events(inc) }

func (e *env) incidentCount() int { e.t.Helper(); return e.IncidentCount() }

func kinds(evs []bot.Event) string { return commandstest.Kinds(evs) }

// `/incident declare SEV1 checkout down` takes "SEV1" as the title's first
// word and the default severity, which may page nobody: the reply says so
// and how to set it. A title that only looks alike, or a severity given
// with sev:, gets no warning.
func TestDeclareWarnsOfASeverityInTheTitle(t *testing.T) {
	e := newEnv(t)
	reply := e.do("alice", "general", "/incident declare SEV1 checkout down")
	if inc := e.incident(1); inc.Title != "SEV1 checkout down" || inc.Severity.Name != "SEV4" {
		t.Fatalf("declared %q at %s", inc.Title, inc.Severity.Name)
	}
	if want := "⚠️ Severity is SEV4, the default: “SEV1” was read as part of the title. To set it, `/incident sev 1` in #inc-1-sev1-checkout-down; no need to declare again (next time, write `sev:1`)."; !strings.Contains(reply, want) {
		t.Errorf("reply = %q; want it to say %q", reply, want)
	}
	for i, cmd := range []string{`/incident declare sev2 db down sev:2`, `/incident declare SEVERE weather alert`, `/incident declare SEV4 noise`} {
		if reply := e.do("alice", "general", cmd); strings.Contains(reply, "read as part of the title") {
			t.Errorf("%d: %s warned: %q", i, cmd, reply)
		}
	}
}

func TestDeclareSetsUpEverything(t *testing.T) {
	e := newEnv(t, withServices("payments", "search"))
	reply := e.do("alice", "general", `/incident declare "Checkout is down" sev:1 service:Payments commander:@bob summary:"EU cards fail"`)
	if !strings.Contains(reply, "Declared *INC-1* (SEV1): Checkout is down → #inc-1-checkout-is-down") {
		t.Errorf("reply = %q", reply)
	}
	inc := e.incident(1)
	if inc.Title != "Checkout is down" || inc.Severity.Name != "SEV1" || inc.Service != "payments" || inc.Summary != "EU cards fail" ||
		inc.Status != bot.StatusOpen || inc.DeclaredBy.ID != "alice" || !inc.DeclaredAt.Equal(t0) {
		t.Errorf("stored incident = %+v", inc)
	}
	if c, _ := inc.Commander(); c.ID != "bob" {
		t.Errorf("commander = %v; want bob", c)
	}
	if inc.Channel.ID != "inc-1-checkout-is-down" || inc.SummaryRef.IsZero() {
		t.Errorf("channel %+v, summary %+v", inc.Channel, inc.SummaryRef)
	}

	ch, ok := e.console.Channel(inc.Channel.ID)
	if !ok || ch.Private {
		t.Fatalf("channel %+v, %v; want a public channel", ch, ok)
	}
	if !slices.Equal(ch.Members, []string{"alice", "bob"}) {
		t.Errorf("members = %v; want declarer and commander", ch.Members)
	}
	if ch.Topic != "INC-1 · SEV1 · open · Checkout is down" {
		t.Errorf("topic = %q", ch.Topic)
	}
	if !slices.Equal(ch.Pins, []string{inc.SummaryRef.ID}) {
		t.Errorf("pins = %v; want the summary %s", ch.Pins, inc.SummaryRef.ID)
	}
	summary, _ := e.console.MessageText(inc.SummaryRef)
	for _, want := range []string{"🔴 INC-1 · SEV1 · Checkout is down", "EU cards fail", "Commander:  @bob", "Service:    payments", "[Acknowledge]", "[Resolve]"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	announced := e.console.Messages("incidents")
	if len(announced) != 1 || !strings.Contains(announced[0], "INC-1* declared: Checkout is down") || !strings.Contains(announced[0], "Join #inc-1-checkout-is-down") {
		t.Errorf("announcements = %q", announced)
	}
	if got := kinds(e.events(inc)); got != "declared,role,channel" {
		t.Errorf("timeline = %s; want declared,role,channel", got)
	}
}

func TestDeclarePrivate(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.Admins = []string{"root"} }))
	e.do("alice", "general", `/incident declare Credential leak sev:2 private`)
	inc := e.incident(1)
	ch, _ := e.console.Channel(inc.Channel.ID)
	if !inc.Private || !ch.Private {
		t.Errorf("incident private=%v, channel private=%v; want both", inc.Private, ch.Private)
	}
	if got := e.console.Messages("incidents"); len(got) != 0 {
		t.Errorf("a private incident was announced: %q", got)
	}
	list := e.do("carol", "general", "/incident list")
	if strings.Contains(list, "Credential") || strings.Contains(list, "INC-1") {
		t.Errorf("list outside the channel shows %q", list)
	}
	if stats := e.do("carol", "general", "/incident stats"); strings.Contains(stats, "INC-1") {
		t.Errorf("stats for an outsider list the private incident: %q", stats)
	}
	// Outsiders can neither read nor act on it from outside its channel.
	for _, cmd := range []string{"/incident role INC-1 scribe @carol", "/incident note INC-1 hello", "/incident update INC-1 all good",
		"/incident timeline INC-1", "/incident resolve INC-1", "/incident ack INC-1"} {
		if got := e.do("carol", "general", cmd); !strings.Contains(got, "INC-1 is private") || strings.Contains(got, "Credential") {
			t.Errorf("%s by an outsider: %q", cmd, got)
		}
	}
	if got := e.incident(1); len(got.Roles) != 1 || got.LastUpdate != "" {
		t.Errorf("an outsider changed the private incident: roles %v, update %q", got.Roles, got.LastUpdate)
	}
	// Its declarer is a member, from anywhere.
	if got := e.do("alice", "general", "/incident list"); !strings.Contains(got, "Credential leak") {
		t.Errorf("list for the declarer hides it: %q", got)
	}
	if got := e.do("alice", "general", "/incident note INC-1 rotated the keys"); !strings.Contains(got, "Noted") {
		t.Errorf("note by the declarer: %q", got)
	}
	// An admin may read and act on it from anywhere.
	if got := e.do("root", "general", "/incident status INC-1"); !strings.Contains(got, "Credential leak") {
		t.Errorf("status for an admin: %q", got)
	}
	if got := e.do("root", "general", "/incident list"); !strings.Contains(got, "Credential leak") {
		t.Errorf("list for an admin: %q", got)
	}
	if got := e.do("carol", "general", "/incident status INC-1"); !strings.Contains(got, "private") || strings.Contains(got, "Credential") {
		t.Errorf("status outside the channel shows %q", got)
	}
	if got := e.do("alice", inc.Channel.ID, "/incident list"); !strings.Contains(got, "Credential leak") {
		t.Errorf("list inside the channel hides the title: %q", got)
	}
}

func TestDeclareRefusesBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{`/incident declare`, "needs a title"},
		{`/incident declare "   "`, "needs a title"},
		{`/incident declare "unterminated`, "quote is not closed"},
		{`/incident declare DB down sev:9`, `"9" is not a severity`},
		{`/incident declare DB down sev:`, "`sev:` needs a value"},
		{`/incident declare DB down service:nope`, `There is no service "nope". Known services: payments`},
		{`/incident declare DB down commander:bob`, "is not a person"},
		{`/incident declare ` + strings.Repeat("long ", 40), "the limit is 150"},
		{`/incident declare x summary:"` + strings.Repeat("y", bot.MaxTextRunes+1) + `"`, "the limit is 3000"},
		{"/incident declare bad\x00byte", "control character"},
	}
	for _, tt := range tests {
		e := newEnv(t, withServices("payments"))
		reply := e.do("alice", "general", tt.text)
		if !strings.Contains(reply, tt.want) {
			t.Errorf("%.60q: reply = %q; want %q", tt.text, reply, tt.want)
		}
		if n := e.incidentCount(); n != 0 {
			t.Errorf("%.60q stored %d incidents", tt.text, n)
		}
		if strings.Contains(e.out.String(), "created") {
			t.Errorf("%.60q created a channel", tt.text)
		}
	}
}

func TestDeclareHandlesChannelNameCollisions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, taken := range []string{"inc-1-db-down", "inc-1-db-down-2"} {
		if _, err := e.console.CreateChannel(ctx, bot.ChannelSpec{Name: taken}); err != nil {
			t.Fatal(err)
		}
	}
	e.do("alice", "general", "/incident declare DB down")
	if got := e.incident(1).Channel.Name; got != "inc-1-db-down-3" {
		t.Errorf("channel = %q; want inc-1-db-down-3", got)
	}
}

// TestChannelMadeBeforeACrashIsAdopted: a klaxon killed between the
// platform creating the channel and recording it finds the channel after
// the restart and uses it, instead of making inc-1-…-2.
func TestChannelMadeBeforeACrashIsAdopted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// What the crashed attempt left: the channel, with the incident's topic.
	if _, err := e.console.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-1-db-down", Topic: "INC-1 · SEV4 · open · DB down"}); err != nil {
		t.Fatal(err)
	}
	e.do("alice", "general", "/incident declare DB down")
	if got := e.incident(1).Channel.Name; got != "inc-1-db-down" {
		t.Errorf("channel = %q; want the existing inc-1-db-down adopted", got)
	}
}

// TestSummaryUpdatesCoalesce: many changes while the summary update waits
// (here: the platform refuses for a while) end in few updates, the last
// with the latest state.
func TestSummaryUpdatesCoalesce(t *testing.T) {
	slow := &countingChat{}
	e := newEnv(t, withChat(func(c bot.Chat) bot.Chat { slow.Chat = c; return slow }))
	e.do("alice", "general", "/incident declare DB down")
	ch := e.incident(1).Channel.ID
	slow.mu.Lock()
	slow.updates, slow.down = 0, true
	slow.mu.Unlock()
	for i := range 20 {
		e.do("alice", ch, fmt.Sprintf("/incident update step %d", i))
	}
	slow.mu.Lock()
	slow.down = false
	slow.mu.Unlock()
	e.clock.Advance(10 * time.Minute)
	e.inc.Outbox().Drain(context.Background())
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.updates > 3 {
		t.Errorf("20 changes made %d summary updates; want them coalesced", slow.updates)
	}
	if !strings.Contains(slow.last, "step 19") {
		t.Errorf("the last summary update does not show the latest update: %q", slow.last)
	}
}

// countingChat counts summary updates and can refuse them for a while.
type countingChat struct {
	bot.Chat
	mu      sync.Mutex
	updates int
	down    bool
	last    string
}

func (c *countingChat) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return bot.Errorf(bot.EUNAVAILABLE, "down")
	}
	c.updates++
	c.last = console.RenderMessage(m)
	return c.Chat.Update(ctx, ref, m)
}

// failing makes chosen Chat methods fail, as a platform outage would.
type failing struct {
	bot.Chat
	fail map[string]bool
}

var errOutage = errors.New("platform unavailable")

func (f failing) CreateChannel(ctx context.Context, s bot.ChannelSpec) (bot.ChannelRef, error) {
	if f.fail["CreateChannel"] {
		return bot.ChannelRef{}, errOutage
	}
	return f.Chat.CreateChannel(ctx, s)
}

func (f failing) Pin(ctx context.Context, r bot.MessageRef) error {
	if f.fail["Pin"] {
		return errOutage
	}
	if f.fail["PinRefused"] {
		return bot.Errorf(bot.EREFUSED, "Slack refused to pin a message (missing_scope)")
	}
	return f.Chat.Pin(ctx, r)
}

func (f failing) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	if f.fail["Post"] {
		return bot.MessageRef{}, errOutage
	}
	return f.Chat.Post(ctx, ch, m)
}

func TestDeclareKeepsTheIncidentWhenChatFails(t *testing.T) {
	outage := map[string]bool{"CreateChannel": true}
	e := newEnv(t, withChat(func(c bot.Chat) bot.Chat { return failing{c, outage} }))
	reply := e.do("alice", "general", "/incident declare DB down sev:1")
	if !strings.Contains(reply, "Declared *INC-1*") || !strings.Contains(reply, "#inc-1-db-down (being created)") {
		t.Errorf("reply = %q; want the declaration, its channel on the way", reply)
	}
	if strings.Contains(reply, "platform unavailable") {
		t.Errorf("internal error text leaked: %q", reply)
	}
	if inc := e.incident(1); !inc.Channel.IsZero() || inc.Title != "DB down" {
		t.Errorf("incident = %+v; want it stored without a channel", inc)
	}
	jobs, _ := e.store.PendingJobs(context.Background(), e.incident(1).ID)
	if len(jobs) == 0 || jobs[0].Op != bot.OpCreateChannel || jobs[0].Attempts != 1 || jobs[0].Status != bot.JobPending {
		t.Fatalf("jobs = %+v; want the channel's creation pending after one failed attempt", jobs)
	}
	if got := e.do("alice", "general", "/incident status INC-1"); !strings.Contains(got, "create the incident channel (tried 1×") {
		t.Errorf("status during the outage = %q; want what is still to do", got)
	}
	// Its commands still work by number meanwhile.
	if got := e.do("alice", "general", "/incident update INC-1 Failing over"); !strings.Contains(got, "INC-1") {
		t.Errorf("update by number = %q", got)
	}
	// The platform comes back: everything it owed is done, in order.
	delete(outage, "CreateChannel")
	e.clock.Advance(5 * time.Minute)
	e.inc.Outbox().Drain(context.Background())
	inc := e.incident(1)
	if inc.Channel.IsZero() || inc.SummaryRef.IsZero() {
		t.Fatalf("after the outage: channel %v, summary %v", inc.Channel, inc.SummaryRef)
	}
	if out := e.out.String(); !strings.Contains(out, "created channel #inc-1-db-down") || !strings.Contains(out, "Failing over") {
		t.Errorf("console after the outage:\n%s", out)
	}
	if jobs, _ := e.store.PendingJobs(context.Background(), inc.ID); len(jobs) != 0 {
		t.Errorf("jobs left: %+v", jobs)
	}

	// A refusal for good (Slack's missing_scope) is reported once in the
	// channel, and the rest goes on.
	e = newEnv(t, withChat(func(c bot.Chat) bot.Chat { return failing{c, map[string]bool{"PinRefused": true}} }))
	e.do("alice", "general", "/incident declare DB down")
	if e.incident(1).SummaryRef.IsZero() {
		t.Error("the posted summary was not recorded")
	}
	if out := e.out.String(); strings.Count(out, "klaxon could not pin the summary") != 1 || !strings.Contains(out, "missing_scope") {
		t.Errorf("the pin's refusal is not reported once in the channel:\n%s", out)
	}
}

func TestLifecycleInTheChannel(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare Checkout is down sev:2")
	ch := e.incident(1).Channel.ID
	step := func(user, text, wantReply string) {
		t.Helper()
		e.clock.Advance(5 * time.Minute)
		got := strings.TrimSpace(e.do(user, ch, text))
		if !strings.Contains(got, wantReply) {
			t.Errorf("%s: reply = %q; want %q", text, got, wantReply)
		}
	}
	step("alice", "/incident update investigating the LB", "")
	step("bob", "/incident ack", "")
	step("alice", "/incident ack", "INC-1 was already acknowledged by @bob at 2026-11-21 03:10 UTC (5m ago).")
	step("alice", "/incident sev 1", "")
	step("alice", "/incident sev critical", "already SEV1")
	step("alice", "/incident role comms @carol", "")
	step("alice", "/incident role janitor @carol", `"janitor" is not a role`)
	step("alice", "/incident role comms", "Name a role and a person")
	step("alice", "/incident note rollback started", "Noted on the INC-1 timeline")
	step("alice", "/incident mitigate", "")
	step("alice", "/incident close", "resolve it before closing")
	step("alice", "/incident resolve rolled back the LB config", "")
	step("alice", "/incident resolve", "already resolved")
	step("alice", "/incident reopen", "")
	step("alice", "/incident resolve", "")
	step("alice", "/incident close", "")
	step("alice", "/incident update more", "is closed")

	inc := e.incident(1)
	if inc.Status != bot.StatusClosed || inc.Severity.Name != "SEV1" || inc.Roles[bot.RoleComms].ID != "carol" || inc.LastUpdate != "investigating the LB" {
		t.Errorf("incident = %+v", inc)
	}
	// The first resolution's text went with the reopen; the last resolve
	// gave none; the summary was never overwritten.
	if inc.Resolution != "" || inc.Summary != "" {
		t.Errorf("resolution = %q, summary %q; want both empty", inc.Resolution, inc.Summary)
	}
	// The reopen took back bob's acknowledgement: nobody acknowledged
	// after it.
	if !inc.AcknowledgedAt.IsZero() || !inc.AcknowledgedBy.IsZero() {
		t.Errorf("acknowledged at %v by %v; want neither after the reopen", inc.AcknowledgedAt, inc.AcknowledgedBy)
	}
	want := "declared,role,channel,update,acknowledged,severity,role,note,mitigated,resolved,reopened,resolved,closed"
	if got := kinds(e.events(inc)); got != want {
		t.Errorf("timeline =\n%s\nwant\n%s", got, want)
	}
	for _, ev := range e.events(inc) {
		if ev.Kind == bot.EventNote && (!ev.Highlight || ev.Text != "rollback started") {
			t.Errorf("note event = %+v; want a highlighted key event", ev)
		}
	}

	chInfo, _ := e.console.Channel(ch)
	if !slices.Contains(chInfo.Members, "carol") {
		t.Errorf("carol got a role but was not invited: %v", chInfo.Members)
	}
	if chInfo.Topic != "INC-1 · SEV1 · closed · Checkout is down" {
		t.Errorf("topic = %q", chInfo.Topic)
	}
	summary, _ := e.console.MessageText(inc.SummaryRef)
	if !strings.Contains(summary, "⚫ Closed") || !strings.Contains(summary, "Comms:") || strings.Contains(summary, "[Resolve]") {
		t.Errorf("the pinned summary was not kept current:\n%s", summary)
	}
	posts := strings.Join(e.console.Messages(ch), "\n")
	for _, want := range []string{"@bob 👀 acknowledged INC-1 after 10m", "raised the severity from SEV2 to *SEV1*", "made @carol the comms", "✅ resolved INC-1 after 1h: rolled back the LB config"} {
		if !strings.Contains(posts, want) {
			t.Errorf("channel lacks notice %q", want)
		}
	}
	announced := strings.Join(e.console.Messages("incidents"), "\n")
	if !strings.Contains(announced, "resolved INC-1") || !strings.Contains(announced, "raised the severity") {
		t.Errorf("stakeholders were not told about severity and resolution:\n%s", announced)
	}
}

func TestCommandsOutsideAnIncidentChannel(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down")
	if got := e.do("alice", "general", "/incident resolve"); !strings.Contains(got, "not an incident channel") || !strings.Contains(got, "Usage:") {
		t.Errorf("resolve in #general = %q", got)
	}
	if got := e.do("alice", "general", "/incident update INC-1 looking"); !strings.Contains(got, "INC-1: @alice posted an update: looking") {
		t.Errorf("update by number = %q", got)
	}
	if got := e.do("alice", "general", "/incident update INC-42 looking"); !strings.Contains(got, "INC-42 does not exist") {
		t.Errorf("update of unknown incident = %q", got)
	}
	if got := e.do("alice", "general", "/incident mitigate now"); !strings.Contains(got, "not an incident channel") {
		t.Errorf("mitigate with junk = %q", got)
	}
	if got := e.do("alice", e.incident(1).Channel.ID, "/incident mitigate now"); !strings.Contains(got, "takes no text") {
		t.Errorf("mitigate with junk in channel = %q", got)
	}
}

func TestListStatusHelp(t *testing.T) {
	e := newEnv(t)
	if got := e.do("alice", "general", "/incident list"); !strings.Contains(got, "No open incidents") {
		t.Errorf("empty list = %q", got)
	}
	for i := 1; i <= 3; i++ {
		e.do("alice", "general", fmt.Sprintf("/incident declare incident %d sev:%d", i, i))
	}
	e.do("alice", "general", "/incident resolve INC-2")
	list := e.do("alice", "general", "/incident list")
	if !strings.Contains(list, "2 open incidents") || strings.Contains(list, "INC-2") || strings.Index(list, "INC-3") > strings.Index(list, "INC-1") {
		t.Errorf("open list = %q; want INC-3 then INC-1", list)
	}
	if all := e.do("alice", "general", "/incident list all"); !strings.Contains(all, "INC-2") {
		t.Errorf("list all = %q", all)
	}
	if got := e.do("alice", "general", "/incident list everything"); !strings.Contains(got, "takes nothing or `all`") {
		t.Errorf("list with junk = %q", got)
	}
	status := e.do("bob", "general", "/incident status INC-3")
	if !strings.Contains(status, "INC-3 · SEV3 · incident 3") || !strings.Contains(status, "timeline events") {
		t.Errorf("status = %q", status)
	}
	help := e.do("bob", "general", "/incident help")
	for _, cmd := range []string{"declare", "update", "sev", "role", "mitigate", "resolve", "close", "note", "status", "list", "help"} {
		if !strings.Contains(help, "/incident "+cmd) {
			t.Errorf("help lacks %s", cmd)
		}
	}
	if got := e.do("bob", "general", "/incident help declare"); !strings.Contains(got, "/incident declare <title>") || !strings.Contains(got, "commander unless you name one") {
		t.Errorf("help declare = %q", got)
	}
	if got := e.do("bob", "general", "/incident help frob"); !strings.Contains(got, "There is no `/incident frob`") {
		t.Errorf("help frob = %q", got)
	}
}

func TestRecordActivity(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down")
	inc := e.incident(1)
	before := len(e.events(inc))
	ctx := context.Background()
	activity := func(kind bot.EventKind, channel, source, emoji string) bot.Activity {
		return bot.Activity{Platform: bot.PlatformConsole, Channel: bot.ChannelRef{ID: channel}, User: bot.User{ID: "bob"},
			Kind: kind, Text: "the LB is flapping", Emoji: emoji, SourceID: source, Time: t0, Ref: bot.MessageRef{Channel: channel, ID: "m9"}}
	}
	for _, a := range []bot.Activity{
		activity(bot.EventMessage, inc.Channel.ID, "ev1", ""),
		activity(bot.EventMessage, inc.Channel.ID, "ev1", ""), // redelivered
		activity(bot.EventReaction, inc.Channel.ID, "ev2", "📌"),
		activity(bot.EventReaction, inc.Channel.ID, "ev3", "👍"),
		activity(bot.EventMessage, "general", "ev4", ""), // not an incident channel
	} {
		if err := e.mux.Activity(ctx, a); err != nil {
			t.Fatalf("Activity(%s): %v", a.SourceID, err)
		}
	}
	evs := e.events(inc)[before:]
	if got := kinds(evs); got != "message,reaction,reaction" {
		t.Fatalf("recorded %s; want message,reaction,reaction", got)
	}
	if !evs[1].Highlight || evs[2].Highlight {
		t.Errorf("highlights = %v, %v; want only the 📌 reaction", evs[1].Highlight, evs[2].Highlight)
	}
	if evs[0].Actor.ID != "bob" || evs[0].Ref.ID != "m9" || evs[0].SourceID != "ev1" {
		t.Errorf("message event = %+v", evs[0])
	}
	if err := e.mux.Activity(ctx, activity(bot.EventMessage, inc.Channel.ID, "", "")); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("activity without source id: err = %v", err)
	}
}

func ctx() context.Context { return context.Background() }

// slowChannels creates channels, then reports them only once released:
// like Slack answering conversations.create while users already talk.
type slowChannels struct {
	bot.Chat
	created chan bot.ChannelRef
	release chan struct{}
}

func (s slowChannels) CreateChannel(ctx context.Context, spec bot.ChannelSpec) (bot.ChannelRef, error) {
	ch, err := s.Chat.CreateChannel(ctx, spec)
	s.created <- ch
	<-s.release
	return ch, err
}

func TestActivityAndCommandsInAChannelBeingRecorded(t *testing.T) {
	slow := slowChannels{created: make(chan bot.ChannelRef, 1), release: make(chan struct{})}
	e := newEnv(t, withChat(func(c bot.Chat) bot.Chat { slow.Chat = c; return slow }))
	done := make(chan string)
	go func() { done <- e.do("alice", "general", "/incident declare Checkout is down") }()
	ch := <-slow.created
	recorded := make(chan error)
	go func() {
		recorded <- e.inc.Record(ctx(), bot.Activity{Platform: bot.PlatformConsole, SourceID: "console:early", Kind: bot.EventMessage,
			User: bot.User{ID: "bob", Name: "bob"}, Channel: ch, Time: e.clock.Now(), Text: "is checkout down for anyone else?"})
	}()
	updated := make(chan string)
	go func() { updated <- e.do("bob", ch.ID, "/incident update checkout returns 502 for a third of requests") }()
	select {
	case err := <-recorded:
		t.Fatalf("Record returned (%v) before the channel was recorded: it cannot have stored the message", err)
	case got := <-updated:
		t.Fatalf("a command in the channel was answered before the channel was recorded: %q", got)
	case <-time.After(50 * time.Millisecond):
	}
	close(slow.release)
	<-done
	if err := <-recorded; err != nil {
		t.Fatal(err)
	}
	if got := <-updated; strings.Contains(got, "not an incident channel") {
		t.Errorf("a command typed while the channel was being recorded was refused: %q", got)
	}
	found := false
	for _, ev := range e.events(e.incident(1)) {
		found = found || ev.SourceID == "console:early"
	}
	if !found {
		t.Errorf("the message said while the channel was being recorded is not on the timeline: %s", kinds(e.events(e.incident(1))))
	}
}

func TestRestrictLifecycle(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) {
		c.RestrictLifecycle = true
		c.Admins = []string{"root"}
	}))
	e.do("alice", "general", "/incident declare Checkout is down sev:3")
	ch := e.incident(1).Channel.ID
	for _, cmd := range []string{"/incident sev 1", "/incident resolve", "/incident role comms @mallory"} {
		if got := e.do("mallory", ch, cmd); !strings.Contains(got, "Only people with a role on INC-1") {
			t.Errorf("%s by a bystander: %q", cmd, got)
		}
	}
	if inc := e.incident(1); inc.Severity.Name != "SEV3" || inc.Status != bot.StatusOpen || len(inc.Roles) != 1 {
		t.Fatalf("a refused change went through: %s %s %v", inc.Severity.Name, inc.Status, inc.Roles)
	}
	// Plain updates stay open to everyone; role holders and admins may do the rest.
	e.do("mallory", ch, "/incident update looking into it")
	e.do("alice", ch, "/incident role scribe @bob")
	e.do("bob", ch, "/incident sev 2")
	e.do("root", ch, "/incident resolve")
	inc := e.incident(1)
	if inc.Severity.Name != "SEV2" || inc.Status != bot.StatusResolved || inc.LastUpdate == "" {
		t.Errorf("allowed changes: %s %s update %q", inc.Severity.Name, inc.Status, inc.LastUpdate)
	}
}

func TestRestrictLifecycleLetsAnyoneTakeAnUnledIncident(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.RestrictLifecycle = true }))
	a := alerts.New(e.store, e.inc, e.clock, zerolog.Nop(), alerts.Config{Platform: bot.PlatformConsole})
	if _, err := a.Intake(ctx(), []bot.Alert{{Source: "alertmanager", GroupKey: "g", Title: "Disk full", Firing: true}}); err != nil {
		t.Fatal(err)
	}
	e.inc.Outbox().Drain(ctx())
	ch := e.incident(1).Channel.ID
	e.do("mallory", ch, "/incident role commander @mallory")
	if c, ok := e.incident(1).Commander(); !ok || c.ID != "mallory" {
		t.Fatalf("taking command of an incident without a commander: %+v", e.incident(1).Roles)
	}
	if got := e.do("eve", ch, "/incident role commander @eve"); !strings.Contains(got, "Only people with a role") {
		t.Errorf("taking command from the commander: %q", got)
	}
}

// TestCallLink: incidents.call_url gives each incident a meeting link in
// its pinned summary and its announcement, filled from its channel.
func TestCallLink(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.CallURL = "https://meet.example.com/acme-{channel}?n={number}" }))
	e.do("alice", "general", `/incident declare "Checkout is down" sev:1`)
	inc := e.incident(1)
	want := "https://meet.example.com/acme-inc-1-checkout-is-down?n=1"
	pinned := e.console.Messages(inc.Channel.ID)
	if len(pinned) == 0 || !strings.Contains(pinned[0], "Call:") || !strings.Contains(pinned[0], want) {
		t.Errorf("summary lacks the call link %s:\n%v", want, pinned)
	}
	if got := e.console.Messages("incidents"); len(got) != 1 || !strings.Contains(got[0], "call 📞 "+want) {
		t.Errorf("announcement = %q; want the call link", got)
	}
	if err := commands.ValidateCallURL("https://meet.example.com/{key}"); err != nil {
		t.Error(err)
	}
}

// {secret} is a random part of each incident's own: a private incident's
// room cannot be guessed from its number or channel name.
func TestCallLinkSecret(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.CallURL = "https://meet.example.com/{secret}" }))
	e.do("alice", "general", `/incident declare "Credential leak" private`)
	e.do("alice", "general", `/incident declare "Checkout is down"`)
	first, second := commands.CallLink("https://meet.example.com/{secret}", e.incident(1)), commands.CallLink("https://meet.example.com/{secret}", e.incident(2))
	room := strings.TrimPrefix(first, "https://meet.example.com/")
	if len(room) != 16 || strings.Trim(room, "abcdefghijklmnopqrstuvwxyz234567") != "" || first == second {
		t.Errorf("call links %q and %q: want 16 random characters each, different", first, second)
	}
	if again := commands.CallLink("https://meet.example.com/{secret}", e.incident(1)); again != first {
		t.Errorf("the link changed between readings: %q then %q", first, again)
	}
	if err := commands.ValidateCallURL("https://meet.example.com/{secret}"); err != nil {
		t.Error(err)
	}
}

// A closed incident's channel is archived archive_after later, with a
// notice first; waiting for it holds up none of the incident's chat work.
func TestArchiveAfterClose(t *testing.T) {
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.ArchiveAfter = 168 * time.Hour }))
	e.do("alice", "general", "/incident declare DB down")
	inc := e.incident(1)
	ch := inc.Channel.ID
	e.do("alice", ch, "/incident resolve")
	e.do("alice", ch, "/incident close")
	e.clock.Advance(167 * time.Hour)
	e.inc.Outbox().Drain(context.Background())
	if info, _ := e.console.Channel(ch); info.Archived {
		t.Fatal("archived a day early")
	}
	e.clock.Advance(2 * time.Hour)
	e.inc.Outbox().Drain(context.Background())
	info, _ := e.console.Channel(ch)
	if !info.Archived {
		t.Fatal("not archived after archive_after")
	}
	out := e.out.String()
	notice := strings.Index(out, "🗄️ INC-1 was closed 7d ago, so klaxon archives this channel now.")
	archived := strings.Index(out, "* klaxon archived #"+ch)
	if notice < 0 || archived < notice {
		t.Fatalf("want the notice, then the archiving:\n%s", out)
	}
	if got := e.incident(1).ArchivedAt; !got.Equal(e.clock.Now()) {
		t.Errorf("ArchivedAt = %v", got)
	}
}

// Declaring says who will see the incident outside its channel.
func TestDeclareSaysWhetherItIsPublic(t *testing.T) {
	e := newEnv(t, withTypes)
	for _, tt := range []struct{ text, want string }{
		{`/incident declare "Checkout is down"`, "🌐 Public on the status page as “Checkout is down”"},
		{`/incident declare "Credential leak" private`, "🔒 Private: no announcement, not on the status page."},
		{`/incident declare "VPN flaky" type:internal`, "Not on the public status page (Internal incidents are kept off it)."},
	} {
		if got := e.do("alice", "general", tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%s: reply %q; want %q", tt.text, got, tt.want)
		}
	}
}

// A resolved or closed incident is not shown with a red dot in lists.
func TestListMarksFinishedIncidentsDone(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down sev:1")
	e.do("alice", "general", "/incident resolve INC-1")
	if got := e.do("alice", "general", "/incident list all"); !strings.Contains(got, "✅ *INC-1* · SEV1 · resolved") || strings.Contains(got, "🔴") {
		t.Errorf("list: %s", got)
	}
}
