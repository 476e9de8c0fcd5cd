package console

import (
	"slices"

	"github.com/klaxon-bot/klaxon/bot"
)

// What the console holds, for tests that check what a user would see.

// ChannelInfo describes a channel as the platform holds it.
type ChannelInfo struct {
	Private  bool
	Archived bool
	Topic    string
	Members  []string
	Pins     []string
}

// Channel returns what the console holds for channel id.
func (c *Console) Channel(id string) (ChannelInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.channels[id]
	if !ok {
		return ChannelInfo{}, false
	}
	return ChannelInfo{Private: ch.private, Archived: ch.archived, Topic: ch.topic, Members: slices.Clone(ch.members), Pins: slices.Clone(ch.pins)}, true
}

// MessageText returns a message as plain text.
func (c *Console) MessageText(ref bot.MessageRef) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := c.messages[ref.ID]
	if !ok || msg.channel != ref.Channel {
		return "", false
	}
	if msg.author != BotName {
		return msg.text, true
	}
	return RenderMessage(msg.msg), true
}

// Messages returns the texts of a channel's messages, oldest first.
func (c *Console) Messages(channelID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var msgs []*message
	for _, m := range c.messages {
		if m.channel == channelID {
			msgs = append(msgs, m)
		}
	}
	slices.SortFunc(msgs, func(a, b *message) int { return a.n - b.n })
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if m.author == BotName {
			out[i] = RenderMessage(m.msg)
		} else {
			out[i] = m.text
		}
	}
	return out
}

// DMs returns the texts of the DMs klaxon sent to user.
func (c *Console) DMs(userID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, id := range c.dms[userID] {
		out = append(out, RenderMessage(c.messages[id].msg))
	}
	return out
}

// Files returns the files uploaded to a channel, oldest first.
func (c *Console) Files(channelID string) []bot.File {
	c.mu.Lock()
	defer c.mu.Unlock()
	var msgs []*message
	for _, m := range c.messages {
		if m.channel == channelID && m.file != nil {
			msgs = append(msgs, m)
		}
	}
	slices.SortFunc(msgs, func(a, b *message) int { return a.n - b.n })
	var out []bot.File
	for _, m := range msgs {
		out = append(out, *m.file)
	}
	return out
}
