package discord_test

import (
	"io"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/chattest"
	"github.com/klaxon-bot/klaxon/bot/discord"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

const (
	alice = "100000000000000001"
	bob   = "100000000000000002"
)

type platform struct{ f *discordfake.Server }

func (p platform) ChannelByName(name string) (chattest.Channel, bool) {
	c, ok := p.f.ChannelByName(name)
	out := chattest.Channel{ID: c.ID, Topic: c.Topic, Pins: c.Pins}
	for _, o := range c.Overwrites {
		deny, _ := strconv.ParseUint(o.Deny, 10, 64)
		if o.ID == discordfake.GuildID {
			out.Private = deny&discordfake.PermViewChannel != 0 // @everyone may not view it
			// Archived: nobody may post, and it is in the archive category.
			out.Archived = deny&discordfake.PermSendMessages != 0 && c.ParentID == discordfake.ArchiveCategoryID
		}
		if o.Type == 1 {
			out.Members = append(out.Members, o.ID)
		}
	}
	return out, ok
}

func (p platform) Message(ref bot.MessageRef) (string, bool) {
	m, ok := p.f.Message(ref.Channel, ref.ID)
	return m.Rendered(), ok
}

func (p platform) DMs(userID string) []string {
	ch, ok := p.f.DMChannel(userID)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range p.f.Messages(ch) {
		out = append(out, m.Rendered())
	}
	return out
}

func (p platform) Files(channel string) []bot.File {
	var out []bot.File
	for _, f := range p.f.Files(channel) {
		out = append(out, bot.File{Name: f.Name, Content: f.Content})
	}
	return out
}

func newAdapter(t testing.TB, f *discordfake.Server) *discord.Adapter {
	t.Helper()
	a, err := discord.New(discord.Config{Token: discordfake.Token, ApplicationID: discordfake.AppID, GuildID: discordfake.GuildID,
		APIURL: f.APIURL(), GatewayURL: f.GatewayURL(), CategoryID: discordfake.CategoryID, ArchiveCategoryID: discordfake.ArchiveCategoryID, Log: zerolog.New(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// roles is the fake's side of on-call roles.
type roles struct {
	f    *discordfake.Server
	role string
}

func (r roles) Group() string                     { return r.role }
func (r roles) GroupMembers(role string) []string { return r.f.RoleMembers(role) }

func TestChatContract(t *testing.T) {
	chattest.Run(t, func(t *testing.T) chattest.Setup {
		f := discordfake.New(t, map[string]string{alice: "alice", bob: "bob"})
		t.Cleanup(f.Close)
		f.SetServerMembersIntent(true)
		return chattest.Setup{Chat: newAdapter(t, f), Platform: platform{f}, Users: []string{alice, bob}, Groups: roles{f, f.AddRole("payments-oncall")}}
	})
}
