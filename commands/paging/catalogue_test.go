package paging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/internal/golden"
)

// accepting is a pager that takes every page.
type accepting struct{}

func (accepting) Send(context.Context, bot.Delivery) bot.SendResult {
	return bot.SendResult{Sent: true}
}

// Sent is one message klaxon sent, as the platform adapters receive it:
// testdata/catalogue.messages.json holds them all, and the Slack and
// Discord adapters' catalogue tests render them into Block Kit and
// Discord messages.
type Sent struct {
	Op      string      `json:"op"` // post, update, dm
	To      string      `json:"to"`
	Message bot.Message `json:"message"`
}

// recorder keeps what passes through to the console.
type recorder struct {
	bot.Chat
	sent *[]Sent
}

func (r recorder) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	*r.sent = append(*r.sent, Sent{"post", ch, m})
	return r.Chat.Post(ctx, ch, m)
}

func (r recorder) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	*r.sent = append(*r.sent, Sent{"update", ref.Channel, m})
	return r.Chat.Update(ctx, ref, m)
}

func (r recorder) DM(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	*r.sent = append(*r.sent, Sent{"dm", user, m})
	return r.Chat.DM(ctx, user, m)
}

// sentJSON is sent as stable JSON: no idempotency keys, ids numbered in
// the order they appear, a message repeated unchanged (a summary edit
// that changed nothing visible) kept once.
func sentJSON(t *testing.T, sent []Sent) []byte {
	t.Helper()
	var out []Sent
	var last []byte
	for _, m := range sent {
		m.Message.Nonce = ""
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == string(last) {
			continue
		}
		last = b
		out = append(out, m)
	}
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	js = uuidPattern.ReplaceAllFunc(js, func(id []byte) []byte {
		if _, ok := ids[string(id)]; !ok {
			ids[string(id)] = fmt.Sprintf("id-%d", len(ids)+1)
		}
		return []byte(ids[string(id)])
	})
	return append(js, '\n')
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestMessageCatalogue renders what klaxon says through a night's
// incident, from declaration to close, with on-call changes and the
// refusals people meet, into testdata/catalogue.golden.txt: every wording
// in one place for a reviewer, and any change to one shows in the diff.
// (go test ./commands/paging -run Catalogue -update rewrites it.)
func TestMessageCatalogue(t *testing.T) {
	team := commandstest.Team(t)
	team.People = append(team.People, bot.Person{ID: "zed", Name: "Zed"})
	team.Owners = map[string][]string{"payments": {"zed"}}
	var sent []Sent
	h := commandstest.New(t, commandstest.WrapChat(func(c bot.Chat) bot.Chat { return recorder{c, &sent} }), commandstest.StartAt(time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC)), commandstest.OnCall(team), commandstest.PollEvery(0),
		commandstest.Incidents(func(c *commands.Config) {
			c.Announce = map[bot.Platform]string{bot.PlatformConsole: "incidents"}
			c.Services = bot.Services{{ID: "payments", Name: "payments"}}
		}),
		commandstest.Paging(func(c *paging.Config) {
			c.Pagers = map[string]bot.Sender{"phone": accepting{}}
			c.PagerPeople = map[string][]string{"phone": {"alice", "bob"}}
			c.AckEmoji = []string{"✅"}
		}))
	var out strings.Builder
	say := func(user, channel, text string) {
		out.WriteString("\n>>> " + user + " in #" + channel + ": " + text + "\n")
		if reply := strings.TrimSpace(h.Do(user, channel, text)); reply != "" {
			out.WriteString(reply + "\n")
		}
	}
	ch := "inc-1-checkout-is-down"
	say("zed", "general", `/incident declare "Checkout is down" sev:1 service:payments`)
	h.Tick(0)
	h.Tick(5 * time.Minute) // carol: no pager reaches her
	say("alice", "general", "/incident ack INC-1")
	say("bob", ch, "/incident ack")
	say("alice", ch, "/incident update Card payments fail for EU customers")
	say("alice", ch, "/incident sev 2")
	say("alice", ch, "/incident role comms @bob")
	say("alice", ch, "/incident note rolled back deploy 8c1f2e")
	say("alice", ch, "/incident followup Add a canary for the card client @bob due:2026-12-01")
	say("alice", ch, "/incident resolve rolled back the card client")
	say("alice", ch, "/incident sev 1")
	say("alice", ch, "/incident reopen errors are back")
	h.Tick(0)
	say("alice", ch, "/incident resolve")
	say("alice", ch, "/incident close")
	say("alice", "general", "/incident list all")
	say("alice", "general", "/incident declre x")
	say("alice", "general", "/followups")
	say("alice", "general", "/oncall")
	say("alice", "general", "/oncall me")
	say("alice", "general", "/oncall override @carol now 2h payments")
	say("zed", "general", "/oncall override @carol now 2h payments-primary")
	say("alice", "general", "/oncall undo payments-primary")
	say("mallory", "general", "/oncall override @alice now 1h payments-primary")

	text := "# What klaxon says: the console transcript of TestMessageCatalogue.\n" +
		"# Commands and their replies (>>> lines), then everything klaxon posted.\n" + out.String() +
		"\n# Posted\n" + h.Out.String()
	golden.Check(t, "catalogue.golden.txt", []byte(text))
	golden.Check(t, "catalogue.messages.json", sentJSON(t, sent))
}
