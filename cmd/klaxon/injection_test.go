package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// injection is a title that, posted unescaped to Slack, pings the whole
// channel, a user group and disguises a link.
const injection = `DB down <!channel> <!here> <!subteam^S1> <https://evil.example|click to re-auth>`

// live lists what in a Slack message would notify or link: <!…> and
// <http…> tokens, outside the entities Slack shows as text.
func live(text string) []string {
	var out []string
	for _, tok := range []string{"<!channel>", "<!here>", "<!subteam", "<https://evil"} {
		if strings.Contains(text, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// TestMentionInjectionOnSlack: an alert and a slash command with the
// injection title reach the announce channel and the incident channel
// escaped in the text and in every block, and people still read the title
// as it was written.
func TestMentionInjectionOnSlack(t *testing.T) {
	fake := newFake(t)
	tr := newTriggers(t, func() int { return 0 })
	k := outboxKlaxon(t, fake, tr, fake.URL(), env{"KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	k.waitFor("the connection", fake.Connected)
	base := "http://" + k.httpAddr()
	body := `{"title":` + jsonString(injection) + `,"description":"x <!everyone> y","severity":"SEV1","dedup_key":"inj","status":"firing"}`
	if code := postGenericAlert(t, base, body); code/100 != 2 {
		t.Fatalf("alert = %d", code)
	}
	// Slack sends typed special mentions escaped (should_escape: true).
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", "declare Checkout &lt;!channel&gt; <!here> &amp; more"))
	k.waitFor("both announcements", func() bool { return len(fake.Messages("C0INCIDENTS")) >= 2 })
	k.waitFor("both summaries", func() bool {
		n := 0
		for _, c := range fake.Channels() {
			if strings.HasPrefix(c.Name, "inc-") && len(c.Pins) == 1 {
				n++
			}
		}
		return n == 2
	})
	var all []slackfake.Message
	for _, c := range fake.Channels() {
		all = append(all, fake.Messages(c.ID)...)
	}
	sawTitle := false
	for _, m := range all {
		if got := live(m.Text + string(m.Blocks)); len(got) > 0 {
			t.Errorf("message in %s carries live %v:\ntext: %s\nblocks: %s", m.Channel, got, m.Text, m.Blocks)
		}
		// An alert's mentions arrive as plain text (bot.Unmention).
		if strings.Contains(m.Text, "DB down @channel @here @subteam^S1 ") {
			sawTitle = true
		}
	}
	if !sawTitle {
		t.Error("no message shows the alert's title with its mentions as plain text")
	}
	if _, ok := fake.ChannelByName("inc-2-checkout-channel-here-more"); !ok {
		t.Errorf("the typed title was not read unescaped; channels: %v", fake.Channels())
	}
}

// TestMentionInjectionOnDiscord: on Discord the same title cannot make a
// masked link, and @everyone in it does not notify (allowed_mentions).
func TestMentionInjectionOnDiscord(t *testing.T) {
	k := startDiscord(t)
	f := k.fake
	id := f.Command(dAlice, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: "DB down @everyone [click to re-auth](https://evil.example)"})
	if got := k.reply(id); !strings.Contains(got, "Declared") {
		t.Fatalf("reply = %q", got)
	}
	k.waitFor("the announcement", func() bool { return len(f.Messages(discordfake.AnnounceID)) > 0 })
	for _, m := range f.Messages(discordfake.AnnounceID) {
		r := m.Rendered()
		if strings.Contains(r, "[click to re-auth](") || !strings.Contains(r, `\[click to re-auth\]`) {
			t.Errorf("the announcement does not show the masked link as text:\n%q", r)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
