package console_test

import (
	"io"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/chattest"
	"github.com/klaxon-bot/klaxon/bot/console"
)

// platform adapts the console's own view to the contract's.
type platform struct{ c *console.Console }

func (p platform) ChannelByName(name string) (chattest.Channel, bool) {
	info, ok := p.c.Channel(name) // on the console, a channel's id is its name
	return chattest.Channel{ID: name, Private: info.Private, Archived: info.Archived, Topic: info.Topic, Members: info.Members, Pins: info.Pins}, ok
}

func (p platform) Message(ref bot.MessageRef) (string, bool) { return p.c.MessageText(ref) }
func (p platform) DMs(userID string) []string                { return p.c.DMs(userID) }
func (p platform) Files(channelID string) []bot.File         { return p.c.Files(channelID) }

func TestChatContract(t *testing.T) {
	chattest.Run(t, func(t *testing.T) chattest.Setup {
		c := console.New(io.Discard, "general")
		return chattest.Setup{Chat: c, Platform: platform{c}, Users: []string{"alice", "bob"}}
	})
}
