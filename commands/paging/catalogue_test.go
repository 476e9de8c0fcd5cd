package paging_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/paging"
)

var update = flag.Bool("update", false, "rewrite golden files")

// accepting is a pager that takes every page.
type accepting struct{}

func (accepting) Send(context.Context, bot.Delivery) bot.SendResult {
	return bot.SendResult{Sent: true}
}

// TestMessageCatalogue renders what klaxon says through a night's
// incident, from declaration to close, with on-call changes and the
// refusals people meet, into testdata/catalogue.golden.txt: every wording
// in one place for a reviewer, and any change to one shows in the diff.
// (go test ./commands/paging -run Catalogue -update rewrites it.)
func TestMessageCatalogue(t *testing.T) {
	team := commandstest.Team(t)
	team.People = append(team.People, bot.Person{ID: "zed", Name: "Zed"})
	team.Owners = map[string][]string{"payments": {"zed"}}
	h := commandstest.New(t, commandstest.StartAt(time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC)), commandstest.OnCall(team), commandstest.PollEvery(0),
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
	golden := filepath.Join("testdata", "catalogue.golden.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./commands/paging -run Catalogue -update to create it)", err)
	}
	if string(want) != text {
		t.Errorf("the messages differ from %s (rerun with -update if the change is intended); got:\n%s", golden, text)
	}
}
