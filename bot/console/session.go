package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// Session is one person typing into the console.
type Session struct {
	Console     *Console
	Mux         *bot.Mux
	Clock       bot.Clock
	User        string // who is typing (a klaxon person id)
	Channel     string // the current channel, without '#'
	Interactive bool   // show a prompt and the welcome text
	// Settle, if set, runs after each line until what it set off in chat
	// is done (klaxon's outbox), so the next prompt comes after it.
	Settle func(ctx context.Context)
	seq    int
}

const sessionHelp = `Console commands:
  /join #channel          switch to a channel (created if missing)
  /channels               list channels
  /as <user>              type as someone else
  /react <emoji> <msg-id> react to a message, e.g. /react 📌 m4
  /edit <msg-id> <text>   edit a message you wrote
  /quit                   leave (end of input works too)
Everything else starting with / goes to klaxon (try /incident help);
plain text is a message in the current channel.`

// Run reads lines from in until it ends, ctx is cancelled or the user
// quits. Each line is handled completely before the next is read, so when
// Run returns no work is pending.
func (s *Session) Run(ctx context.Context, in io.Reader) error {
	if s.Channel == "" {
		s.Channel = "general"
	}
	s.Console.ensureChannel(s.Channel, s.User)
	if s.Interactive {
		s.Console.printf("klaxon console: you are @%s in #%s. /incident help lists klaxon's commands, /help the console's.\n", s.User, s.Channel)
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		s.prompt()
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("console: reading input: %w", err)
			}
			return nil
		case line := <-lines:
			quit := s.Handle(ctx, line)
			if s.Settle != nil {
				s.Settle(ctx)
				s.followInvites() // an invitation the settled work made
			}
			if quit {
				return nil
			}
		}
	}
}

func (s *Session) prompt() {
	if s.Interactive {
		s.Console.printf("%s@#%s> ", s.User, s.Channel)
	}
}

// Handle runs one line of input and reports whether the user asked to quit.
func (s *Session) Handle(ctx context.Context, line string) (quit bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	if !strings.HasPrefix(line, "/") {
		s.say(ctx, line)
		return false
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(word) {
	case "/quit", "/exit":
		return true
	case "/help":
		s.Console.printf("%s\n", sessionHelp)
	case "/join":
		name := strings.TrimPrefix(rest, "#")
		if !validName.MatchString(name) {
			s.Console.printf("(only you) Usage: /join #channel (lower-case letters, digits, - and _)\n")
			return false
		}
		s.Channel = name
		s.Console.ensureChannel(name, s.User)
		s.Console.printf("(only you) You are now in #%s.\n", name)
	case "/channels":
		s.Console.printf("(only you) Channels: %s\n", strings.Join(s.Console.channelNames(), ", "))
	case "/as":
		u := strings.TrimPrefix(rest, "@")
		if !personLike(u) {
			s.Console.printf("(only you) Usage: /as <user>\n")
			return false
		}
		s.User = u
		s.Console.printf("(only you) You are now @%s.\n", u)
	case "/react":
		s.react(ctx, rest)
	case "/edit":
		s.edit(ctx, rest)
	default:
		resp := s.Mux.Dispatch(ctx, &bot.Request{
			Platform: bot.PlatformConsole,
			User:     s.user(),
			Channel:  bot.ChannelRef{ID: s.Channel, Name: s.Channel},
			Text:     line,
			Time:     s.Clock.Now(),
		})
		s.reply(ctx, resp)
		s.followInvites()
	}
	return false
}

// followInvites moves the user into the channel klaxon last invited them
// to, as a chat app shows a channel you were just added to.
func (s *Session) followInvites() {
	if ch := s.Console.takeInvites(s.User); ch != "" && ch != s.Channel {
		s.Channel = ch
		s.Console.printf("(only you) You are now in #%s.\n", ch)
	}
}

func personLike(u string) bool {
	_, ok := bot.ParseMention("@" + u)
	return ok && u != ""
}

func (s *Session) user() bot.User { return bot.User{ID: s.User, Name: s.User} }

// sourceID makes a unique event id for what this session typed.
func (s *Session) sourceID() string {
	s.seq++
	return fmt.Sprintf("console:%s:%d", bot.NewID(), s.seq)
}

func (s *Session) reply(ctx context.Context, resp *bot.Response) {
	if resp == nil || resp.IsZero() {
		return
	}
	if resp.InChannel {
		if _, err := s.Console.Post(ctx, s.Channel, resp.Message); err == nil {
			return
		}
	}
	s.Console.printf("(only you)\n%s", RenderMessage(resp.Message))
}

func (s *Session) say(ctx context.Context, text string) {
	msg := s.Console.userMessage(s.Channel, s.User, text)
	ref := bot.MessageRef{Channel: s.Channel, ID: msg}
	s.activity(ctx, bot.Activity{Kind: bot.EventMessage, Text: text, Ref: ref})
	// A line for klaxon, as a mention of it is on Slack and Discord: one
	// that names @klaxon, or asks something ("who is on call?").
	if q, ok := question(text); ok {
		s.reply(ctx, s.Mux.Ask(ctx, bot.Question{Platform: bot.PlatformConsole, User: s.user(),
			Channel: bot.ChannelRef{ID: s.Channel, Name: s.Channel}, Text: q, Ref: ref, Time: s.Clock.Now()}))
	}
}

// question reports whether a line typed in the console is for klaxon,
// and its text without klaxon's name.
func question(line string) (string, bool) {
	text := strings.TrimSpace(line)
	lower := strings.ToLower(text)
	if rest, ok := strings.CutPrefix(lower, "@klaxon"); ok {
		return strings.TrimLeft(text[len(text)-len(rest):], " ,:"), true
	}
	return text, strings.HasSuffix(text, "?")
}

func (s *Session) react(ctx context.Context, args string) {
	emoji, id, ok := strings.Cut(args, " ")
	id = strings.TrimSpace(id)
	if !ok || emoji == "" || id == "" {
		s.Console.printf("(only you) Usage: /react <emoji> <msg-id>, e.g. /react 📌 m4\n")
		return
	}
	emoji = bot.NormalizeEmoji(emoji)
	ch, text, err := s.Console.react(id, s.User, emoji)
	if err != nil {
		s.Console.printf("(only you) %s\n", bot.ErrorMessage(err))
		return
	}
	s.activity(ctx, bot.Activity{Channel: bot.ChannelRef{ID: ch, Name: ch}, Kind: bot.EventReaction, Emoji: emoji, Text: text, Ref: bot.MessageRef{Channel: ch, ID: id}})
}

func (s *Session) edit(ctx context.Context, args string) {
	id, text, ok := strings.Cut(args, " ")
	text = strings.TrimSpace(text)
	if !ok || text == "" {
		s.Console.printf("(only you) Usage: /edit <msg-id> <new text>\n")
		return
	}
	ch, prev, err := s.Console.edit(id, s.User, text)
	if err != nil {
		s.Console.printf("(only you) %s\n", bot.ErrorMessage(err))
		return
	}
	s.activity(ctx, bot.Activity{Channel: bot.ChannelRef{ID: ch, Name: ch}, Kind: bot.EventMessageEdit, Text: text, PrevText: prev, Ref: bot.MessageRef{Channel: ch, ID: id}})
}

// activity fills in who, where and when, and hands a to klaxon.
func (s *Session) activity(ctx context.Context, a bot.Activity) {
	a.Platform, a.User, a.Time, a.SourceID = bot.PlatformConsole, s.user(), s.Clock.Now(), s.sourceID()
	if a.Channel.IsZero() {
		a.Channel = bot.ChannelRef{ID: s.Channel, Name: s.Channel}
	}
	if err := s.Mux.Activity(ctx, a); err != nil {
		s.Console.printf("(only you) ⚠️ %s\n", bot.ErrorMessage(err))
	}
}

// ensureChannel creates a plain channel if needed and adds user to it.
func (c *Console) ensureChannel(name, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.channels[name]
	if !ok {
		ch = &channel{id: name}
		c.channels[name] = ch
	}
	if user != "" && !slices.Contains(ch.members, user) {
		ch.members = append(ch.members, user)
	}
}

// takeInvites returns the last channel user was invited to since the last
// call, or "".
func (c *Console) takeInvites(user string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	chans := c.invites[user]
	delete(c.invites, user)
	if len(chans) == 0 {
		return ""
	}
	return chans[len(chans)-1]
}

func (c *Console) channelNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for name, ch := range c.channels {
		n := "#" + name
		if ch.private {
			n += " (private)"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// userMessage records and shows what a person typed, and returns its id.
func (c *Console) userMessage(channelID, user, text string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := c.add(channelID, user, bot.Message{}, text)
	c.printf("[#%s %s] @%s: %s\n", channelID, msg.id, user, text)
	return msg.id
}

// react records a reaction and returns the message's channel and text.
func (c *Console) react(id, user, emoji string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := c.messages[id]
	if !ok {
		return "", "", bot.Errorf(bot.ENOTFOUND, "There is no message %s.", id)
	}
	c.printf("* @%s reacted %s to %s\n", user, emoji, id)
	text := msg.text
	if text == "" {
		text = Plain(msg.msg.Title + " " + msg.msg.Text)
	}
	return msg.channel, strings.TrimSpace(text), nil
}

// edit changes a person's own message and returns its channel and old text.
func (c *Console) edit(id, user, text string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := c.messages[id]
	if !ok || msg.author != user {
		return "", "", bot.Errorf(bot.ENOTFOUND, "You have no message %s to edit.", id)
	}
	prev := msg.text
	msg.text = text
	c.printf("[#%s %s] @%s (edited): %s\n", msg.channel, msg.id, user, text)
	return msg.channel, prev, nil
}
