// Package console is klaxon's terminal chat platform: an in-memory chat
// with channels, members, pins and DMs, shown on a terminal. It runs klaxon
// with no Slack or Discord at all, reads commands from a terminal or a
// pipe, and serves as a test harness.
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/klaxon-bot/klaxon/bot"
)

// BotName is how klaxon signs its console posts.
const BotName = "klaxon"

type channel struct {
	id, topic string
	private   bool
	archived  bool
	members   []string
	pins      []string
}

type message struct {
	n                   int // order of posting
	id, channel, author string
	msg                 bot.Message
	text                string    // what a person typed, for their own messages
	file                *bot.File // for uploads
}

// Console is the terminal chat platform. It is safe for concurrent use.
type Console struct {
	outMu    sync.Mutex // one writer on out at a time
	mu       sync.Mutex
	out      io.Writer
	channels map[string]*channel // by id; on the console a channel's id is its name
	messages map[string]*message
	dms      map[string][]string // user id → message ids
	invites  map[string][]string // user id → channels they were invited to, not yet seen
	nextMsg  int
	files    string // where uploads are written (SaveFilesIn); "": shown only
}

// SaveFilesIn makes uploads (postmortem drafts, timelines) files in dir,
// created if needed, whose paths the console prints: a terminal cannot
// show a document, a file can be opened.
func (c *Console) SaveFilesIn(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files = dir
}

var _ bot.Chat = (*Console)(nil)

// New returns a console that shows everything on out and starts with the
// given channels (names without '#').
func New(out io.Writer, channels ...string) *Console {
	c := &Console{out: out, channels: map[string]*channel{}, messages: map[string]*message{}, dms: map[string][]string{}, invites: map[string][]string{}}
	for _, name := range channels {
		c.channels[name] = &channel{id: name}
	}
	return c
}

// Platform implements bot.Chat.
func (c *Console) Platform() bot.Platform { return bot.PlatformConsole }

// printf writes to the terminal; the session and klaxon's outbox write
// from different goroutines.
func (c *Console) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// validName is what Slack and Discord both accept.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,79}$`)

// CreateChannel implements bot.Chat.
func (c *Console) CreateChannel(ctx context.Context, spec bot.ChannelSpec) (bot.ChannelRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !validName.MatchString(spec.Name) {
		return bot.ChannelRef{}, bot.Errorf(bot.EINVALID, "%q is not a valid channel name", spec.Name)
	}
	if _, ok := c.channels[spec.Name]; ok {
		return bot.ChannelRef{}, fmt.Errorf("console: #%s: %w", spec.Name, bot.ErrNameTaken)
	}
	c.channels[spec.Name] = &channel{id: spec.Name, topic: spec.Topic, private: spec.Private}
	kind := "channel"
	if spec.Private {
		kind = "private channel"
	}
	c.printf("* %s created %s #%s\n", BotName, kind, spec.Name)
	if spec.Topic != "" {
		c.printf("* topic of #%s: %s\n", spec.Name, spec.Topic)
	}
	return bot.ChannelRef{ID: spec.Name, Name: spec.Name}, nil
}

// FindChannel implements bot.Chat: the console's channels are klaxon's own.
func (c *Console) FindChannel(ctx context.Context, name, incidentKey string) (bot.ChannelRef, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.channels[name]; ok && strings.HasPrefix(ch.topic, incidentKey+" ") {
		return bot.ChannelRef{ID: name, Name: name}, true, nil
	}
	return bot.ChannelRef{}, false, nil
}

// FindPost implements bot.Chat.
func (c *Console) FindPost(ctx context.Context, channelID, nonce string) (bot.MessageRef, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if nonce == "" {
		return bot.MessageRef{}, false, nil
	}
	for _, m := range c.messages {
		if m.channel == channelID && m.msg.Nonce == nonce {
			return bot.MessageRef{Channel: channelID, ID: m.id}, true, nil
		}
	}
	return bot.MessageRef{}, false, nil
}

func (c *Console) channel(id string) (*channel, error) {
	ch, ok := c.channels[id]
	if !ok {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no channel #%s.", id)
	}
	return ch, nil
}

// Invite implements bot.Chat. Inviting a member again is not an error.
func (c *Console) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.channel(channelID)
	if err != nil {
		return err
	}
	var added []string
	for _, u := range userIDs {
		if !slices.Contains(ch.members, u) {
			ch.members = append(ch.members, u)
			added = append(added, "@"+u)
			c.invites[u] = append(c.invites[u], channelID)
		}
	}
	if len(added) > 0 {
		c.printf("* %s invited %s to #%s\n", BotName, strings.Join(added, ", "), channelID)
	}
	return nil
}

// SetTopic implements bot.Chat.
func (c *Console) SetTopic(ctx context.Context, channelID, topic string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.channel(channelID)
	if err != nil {
		return err
	}
	if ch.topic != topic {
		ch.topic = topic
		c.printf("* topic of #%s: %s\n", channelID, topic)
	}
	return nil
}

// Archive implements bot.Archiver: the channel takes no more posts.
func (c *Console) Archive(ctx context.Context, channelID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.channel(channelID)
	if err != nil {
		return err
	}
	if !ch.archived {
		ch.archived = true
		c.printf("* %s archived #%s\n", BotName, channelID)
	}
	return nil
}

// Post implements bot.Chat. An archived channel refuses posts, as
// Slack's does.
func (c *Console) Post(ctx context.Context, channelID string, m bot.Message) (bot.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.channel(channelID)
	if err != nil {
		return bot.MessageRef{}, err
	}
	if ch.archived {
		return bot.MessageRef{}, bot.Errorf(bot.EREFUSED, "#%s is archived", channelID)
	}
	msg := c.add(channelID, BotName, m, "")
	c.printf("%s", c.render("#"+channelID, msg, false))
	return bot.MessageRef{Channel: channelID, ID: msg.id}, nil
}

func (c *Console) add(channelID, author string, m bot.Message, text string) *message {
	c.nextMsg++
	msg := &message{n: c.nextMsg, id: fmt.Sprintf("m%d", c.nextMsg), channel: channelID, author: author, msg: m, text: text}
	c.messages[msg.id] = msg
	return msg
}

// Update implements bot.Chat.
func (c *Console) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := c.messages[ref.ID]
	if !ok || msg.channel != ref.Channel || msg.author != BotName {
		return bot.Errorf(bot.ENOTFOUND, "There is no klaxon message %s in #%s.", ref.ID, ref.Channel)
	}
	msg.msg = m
	c.printf("%s", c.render(c.where(msg), msg, true))
	return nil
}

// Pin implements bot.Chat.
func (c *Console) Pin(ctx context.Context, ref bot.MessageRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.channel(ref.Channel)
	if err != nil {
		return err
	}
	if msg, ok := c.messages[ref.ID]; !ok || msg.channel != ref.Channel {
		return bot.Errorf(bot.ENOTFOUND, "There is no message %s in #%s.", ref.ID, ref.Channel)
	}
	if !slices.Contains(ch.pins, ref.ID) {
		ch.pins = append(ch.pins, ref.ID)
		c.printf("* %s pinned %s in #%s\n", BotName, ref.ID, ref.Channel)
	}
	return nil
}

// DM implements bot.Chat.
func (c *Console) DM(ctx context.Context, userID string, m bot.Message) (bot.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if userID == "" {
		return bot.MessageRef{}, bot.Errorf(bot.EINVALID, "A DM needs a user.")
	}
	dm := "@" + userID
	msg := c.add(dm, BotName, m, "")
	c.dms[userID] = append(c.dms[userID], msg.id)
	c.printf("%s", c.render("DM to "+dm, msg, false))
	return bot.MessageRef{Channel: dm, ID: msg.id}, nil
}

// Upload implements bot.Chat: the console shows the file's name and size
// and keeps its content.
func (c *Console) Upload(ctx context.Context, channelID string, f bot.File) (bot.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.channel(channelID); err != nil {
		return bot.MessageRef{}, err
	}
	if f.Name == "" || len(f.Content) == 0 {
		return bot.MessageRef{}, bot.Errorf(bot.EINVALID, "A file needs a name and content.")
	}
	m := bot.Message{Text: f.Comment, Context: fmt.Sprintf("📎 %s (%d bytes)", f.Name, len(f.Content))}
	if c.files != "" {
		path := filepath.Join(c.files, filepath.Base(f.Name))
		if err := os.MkdirAll(c.files, 0o750); err != nil {
			return bot.MessageRef{}, bot.Internal(err, "klaxon could not make the directory for "+f.Name)
		}
		// Private incidents' chat may be in it: owner only, as the store.
		if err := os.WriteFile(path, f.Content, 0o600); err != nil {
			return bot.MessageRef{}, bot.Internal(err, "klaxon could not write "+path)
		}
		m.Context += " → " + path
	}
	msg := c.add(channelID, BotName, m, "")
	file := f
	msg.file = &file
	c.printf("%s", c.render("#"+channelID, msg, false))
	return bot.MessageRef{Channel: channelID, ID: msg.id}, nil
}

// OpenForm implements bot.Chat. A terminal has no forms.
func (c *Console) OpenForm(ctx context.Context, trigger string, f bot.Form) error {
	return bot.Errorf(bot.EUNSUPPORTED, "The console has no forms; type the command with its arguments instead.")
}

func (c *Console) where(msg *message) string {
	if strings.HasPrefix(msg.channel, "@") {
		return "DM to " + msg.channel
	}
	return "#" + msg.channel
}

// mentionToken matches the neutral mention tokens of bot.User and bot.ChannelRef.
var mentionToken = regexp.MustCompile(`<([@#])!?([^>|]+)(?:\|[^>]*)?>`)

// Plain renders neutral mention and time tokens the console way: <@alice>
// → @alice, <#inc-1> → #inc-1, a time as its UTC text (bot.PlainTimes).
func Plain(s string) string { return mentionToken.ReplaceAllString(bot.PlainTimes(s), "$1$2") }

// render draws a klaxon message as a block of text.
func (c *Console) render(where string, msg *message, edited bool) string {
	var b strings.Builder
	head := fmt.Sprintf("── %s · %s · %s", where, msg.author, msg.id)
	if edited {
		head += " (edited)"
	}
	b.WriteString(head + " ──\n")
	b.WriteString(RenderMessage(msg.msg))
	return b.String()
}

// RenderMessage draws m as indented plain text with its buttons.
func RenderMessage(m bot.Message) string {
	var b strings.Builder
	line := func(s string) {
		// Control characters (a terminal escape in an alert's title) never
		// reach the terminal.
		for _, l := range strings.Split(bot.CleanText(Plain(s)), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	if m.Title != "" {
		line(m.Title)
	}
	if m.Text != "" {
		line(m.Text)
	}
	width := 0
	for _, f := range m.Fields {
		width = max(width, len([]rune(f.Label)))
	}
	for _, f := range m.Fields {
		// A value of several lines stays in its column.
		value := strings.ReplaceAll(f.Value, "\n", "\n"+strings.Repeat(" ", width+3))
		line(fmt.Sprintf("%-*s  %s", width+1, f.Label+":", value))
	}
	if len(m.Buttons) > 0 {
		var bs []string
		for _, btn := range m.Buttons {
			bs = append(bs, "["+btn.Label+"]")
		}
		line(strings.Join(bs, " "))
	}
	if m.Context != "" {
		line(m.Context)
	}
	return b.String()
}
