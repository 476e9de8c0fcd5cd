package discordfake

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Option is one option of a slash command, in the order the user typed it.
type Option struct {
	Name  string
	Type  int // 3 string, 4 integer, 5 boolean, 6 user
	Value any
}

func (s *Server) member(user string) map[string]any {
	return map[string]any{"user": map[string]any{"id": user, "username": s.users[user], "discriminator": "0"}, "roles": []any{}, "permissions": "2147483647"}
}

// appPermissions is klaxon's permissions in channel, as interactions carry
// them. s.mu is held.
func (s *Server) appPermissions(channel string) string {
	if c, ok := s.channels[channel]; ok {
		return strconv.FormatUint(s.channelPerms(c), 10)
	}
	return strconv.FormatUint(s.basePerms(), 10)
}

// interact dispatches INTERACTION_CREATE and returns the interaction's id.
func (s *Server) interact(user, channel string, typ int, data map[string]any, message map[string]any) string {
	s.mu.Lock()
	id, token := s.snowflake(), "tok-"+s.snowflake()
	s.interactions[token] = &interaction{id: id, token: token, created: time.Now()}
	payload := map[string]any{"id": id, "application_id": AppID, "type": typ, "token": token, "version": 1,
		"guild_id": GuildID, "channel_id": channel, "member": s.member(user), "data": data, "locale": "en-US", "app_permissions": s.appPermissions(channel)}
	if message != nil {
		payload["message"] = message
	}
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", payload, 0)
	s.mu.Lock()
	s.interactions[token].sentAt = time.Now()
	s.mu.Unlock()
	return id
}

// Command runs /name sub with options.
func (s *Server) Command(user, channel, name, sub string, opts ...Option) string {
	var options []any
	for _, o := range opts {
		options = append(options, map[string]any{"name": o.Name, "type": o.Type, "value": o.Value})
	}
	data := map[string]any{"id": "cmd-" + name, "name": name, "type": 1,
		"options": []any{map[string]any{"name": sub, "type": 1, "options": options}}}
	return s.interact(user, channel, 2, data, nil)
}

// MessageCommand runs a message context-menu command on message id.
func (s *Server) MessageCommand(user, channel, msgID, name string) string {
	s.mu.Lock()
	m := s.message(channel, msgID)
	msg := map[string]any{"id": msgID, "channel_id": channel}
	if m != nil {
		msg = map[string]any{"id": m.ID, "channel_id": m.Channel, "content": m.Content, "author": map[string]any{"id": m.Author, "username": s.users[m.Author]}}
	}
	s.mu.Unlock()
	data := map[string]any{"id": "cmd-" + name, "name": name, "type": 3, "target_id": msgID,
		"resolved": map[string]any{"messages": map[string]any{msgID: msg}}}
	return s.interact(user, channel, 2, data, nil)
}

// ClickButton clicks the button custom_id on message msgID.
func (s *Server) ClickButton(user, channel, msgID, customID string) string {
	data := map[string]any{"custom_id": customID, "component_type": 2}
	return s.interact(user, channel, 3, data, map[string]any{"id": msgID, "channel_id": channel, "author": map[string]any{"id": BotID}})
}

// SubmitModal submits the modal custom_id with text input values.
func (s *Server) SubmitModal(user, channel, customID string, values map[string]string) string {
	var rows []any
	for id, v := range values {
		rows = append(rows, map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": id, "value": v}}})
	}
	return s.interact(user, channel, 5, map[string]any{"custom_id": customID, "components": rows}, nil)
}

// Say posts content as user in channel and dispatches MESSAGE_CREATE.
// mentions lists the users it mentions.
func (s *Server) Say(user, channel, content string, mentions ...string) string {
	s.mu.Lock()
	m := &Message{ID: s.snowflake(), Channel: channel, Author: user, Content: content}
	s.messages[channel] = append(s.messages[channel], m)
	c := s.channels[channel]
	s.mu.Unlock()
	s.dispatchMessage("MESSAGE_CREATE", m, c, mentions, "")
	return m.ID
}

func (s *Server) dispatchMessage(name string, m *Message, c *Channel, mentions []string, edited string) {
	var ms []any
	for _, u := range mentions {
		ms = append(ms, map[string]any{"id": u, "username": s.users[u]})
	}
	d := map[string]any{"id": m.ID, "channel_id": m.Channel, "content": m.Content, "type": 0, "mentions": ms,
		"author":    map[string]any{"id": m.Author, "username": s.users[m.Author], "discriminator": "0"},
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "attachments": []any{}, "embeds": []any{}}
	if edited != "" {
		d["edited_timestamp"] = edited
	}
	intent := IntentDirectMessages
	if c == nil || c.Recipient == "" {
		d["guild_id"] = GuildID
		d["member"] = map[string]any{"roles": []any{}}
		intent = IntentGuildMessages
	}
	if s.intentsFor(IntentMessageContent) == 0 && m.Author != BotID && !slices.Contains(mentions, BotID) {
		d["content"] = "" // Discord withholds content without the MESSAGE_CONTENT intent
	}
	s.Dispatch(name, d, intent)
}

func (s *Server) intentsFor(bit int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.intents & bit
}

// Edit changes a message and dispatches MESSAGE_UPDATE.
func (s *Server) Edit(channel, id, content string) {
	s.mu.Lock()
	m := s.message(channel, id)
	m.Content = content
	m.Edits++
	c := s.channels[channel]
	s.mu.Unlock()
	s.dispatchMessage("MESSAGE_UPDATE", m, c, nil, time.Now().UTC().Format(time.RFC3339Nano))
}

// Delete removes a message and dispatches MESSAGE_DELETE.
func (s *Server) Delete(channel, id string) {
	s.mu.Lock()
	s.messages[channel] = slices.DeleteFunc(s.messages[channel], func(m *Message) bool { return m.ID == id })
	s.mu.Unlock()
	s.Dispatch("MESSAGE_DELETE", map[string]any{"id": id, "channel_id": channel, "guild_id": GuildID}, IntentGuildMessages)
}

// React adds a unicode emoji reaction and dispatches MESSAGE_REACTION_ADD.
// In a DM the event has no guild and needs the Direct Message Reactions
// intent.
func (s *Server) React(user, channel, id, emoji string) {
	s.reaction("MESSAGE_REACTION_ADD", user, channel, id, emoji)
}

// Unreact removes a reaction and dispatches MESSAGE_REACTION_REMOVE.
func (s *Server) Unreact(user, channel, id, emoji string) {
	s.reaction("MESSAGE_REACTION_REMOVE", user, channel, id, emoji)
}

func (s *Server) reaction(name, user, channel, id, emoji string) {
	s.mu.Lock()
	c := s.channels[channel]
	d := map[string]any{"user_id": user, "channel_id": channel, "message_id": id, "emoji": map[string]any{"id": nil, "name": emoji}}
	intent := IntentDirectMessageReactions
	if c == nil || c.Recipient == "" {
		d["guild_id"] = GuildID
		intent = IntentGuildMessageReactions
		if name == "MESSAGE_REACTION_ADD" {
			d["member"] = s.member(user)
		}
	}
	s.mu.Unlock()
	s.Dispatch(name, d, intent)
}

// pinsUpdate dispatches CHANNEL_PINS_UPDATE, which says a pin changed but
// not who made it.
func (s *Server) pinsUpdate(c *Channel) {
	d := map[string]any{"channel_id": c.ID, "last_pin_timestamp": time.Now().UTC().Format(time.RFC3339Nano)}
	intent := IntentDirectMessages
	if c.Recipient == "" {
		d["guild_id"] = GuildID
		intent = IntentGuilds
	}
	s.Dispatch("CHANNEL_PINS_UPDATE", d, intent)
}

// PinAsUser pins message id in channel as a person would.
func (s *Server) PinAsUser(channel, id string) {
	s.mu.Lock()
	c := s.channels[channel]
	c.Pins = append(c.Pins, id)
	s.mu.Unlock()
	s.pinsUpdate(c)
}

// StartThread starts a public thread in channel and dispatches
// THREAD_CREATE; messages said in it carry the thread's id as their
// channel.
func (s *Server) StartThread(channel, name string) string {
	s.mu.Lock()
	t := &Channel{ID: s.snowflake(), Name: name, Type: 11, ParentID: channel}
	s.channels[t.ID] = t
	s.order = append(s.order, t.ID)
	d := channelJSON(t)
	d["newly_created"] = true
	s.mu.Unlock()
	s.Dispatch("THREAD_CREATE", d, IntentGuilds)
	return t.ID
}

// --- Faults and looking inside ------------------------------------------------

// RateLimit makes the next n calls of a route ("POST channels/messages")
// answer 429.
func (s *Server) RateLimit(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[route] = n
}

// SetDelay slows REST answers (not interaction callbacks) by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// WaitFor polls cond until it is true or timeout passes.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// Responses returns the responses to interaction id, in order.
func (s *Server) Responses(id string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Response
	for _, r := range s.responses {
		if r.Interaction == id {
			out = append(out, r)
		}
	}
	return out
}

// FirstResponseLatency is the time from dispatching interaction id to its
// first callback arriving.
func (s *Server) FirstResponseLatency(id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.responses {
		if r.Interaction == id && r.Kind == "callback" {
			for _, in := range s.interactions {
				if in.id == id {
					return r.At.Sub(in.sentAt), true
				}
			}
		}
	}
	return 0, false
}

// Commands returns the last bulk-overwritten guild commands.
func (s *Server) Commands() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	json.Unmarshal(s.commands, &out)
	return out
}

// ChannelByName returns a copy of the guild channel named name.
func (s *Server) ChannelByName(name string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.order {
		if c := s.channels[id]; c.Name == name && c.Recipient == "" {
			cp := *c
			cp.Overwrites = append([]Overwrite(nil), c.Overwrites...)
			cp.Pins = append([]string(nil), c.Pins...)
			return cp, true
		}
	}
	return Channel{}, false
}

// OpenDM opens the DM channel between user and klaxon, as a person does who
// messages the bot, and returns its id.
func (s *Server) OpenDM(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		if c.Recipient == user {
			return c.ID
		}
	}
	c := &Channel{ID: s.snowflake(), Type: 1, Recipient: user}
	s.channels[c.ID] = c
	s.order = append(s.order, c.ID)
	return c.ID
}

// DMChannel returns the DM channel with user, if klaxon opened one.
func (s *Server) DMChannel(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		if c.Recipient == user {
			return c.ID, true
		}
	}
	return "", false
}

// Messages returns copies of a channel's messages, oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages[channel] {
		out = append(out, *m)
	}
	return out
}

// Message returns a copy of one message.
func (s *Server) Message(channel, id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.message(channel, id); m != nil {
		return *m, true
	}
	return Message{}, false
}

// Calls returns every REST call as "METHOD path", 429s marked "(429)".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Autocomplete asks for choices while the user types value into option of
// /name sub.
func (s *Server) Autocomplete(user, channel, name, sub, option, value string) string {
	data := map[string]any{"id": "cmd-" + name, "name": name, "type": 1, "options": []any{map[string]any{"name": sub, "type": 1,
		"options": []any{map[string]any{"name": option, "type": 3, "value": value, "focused": true}}}}}
	return s.interact(user, channel, 4, data, nil)
}

// Files returns the attachments posted in a channel, oldest first.
func (s *Server) Files(channel string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, m := range s.messages[channel] {
		out = append(out, m.Files...)
	}
	return out
}

// --- Strictness ------------------------------------------------------------

// TakeViolations returns the requests refused for breaking Discord's rules
// so far and forgets them: a test that provokes one on purpose takes it
// and checks it, so that it does not fail the test at the end.
func (s *Server) TakeViolations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// SetPermissions replaces the permissions of klaxon's role, as for a server
// that invited klaxon with another URL.
func (s *Server) SetPermissions(perms uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perms = perms
}

// SetMessageContentIntent turns the application's Message Content intent
// on or off in the fake developer portal. Off, a session that asks for it
// is closed with 4014 "Disallowed intent(s)".
func (s *Server) SetMessageContentIntent(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appFlags &^= AppFlagGatewayMessageContent | AppFlagGatewayMessageContentLimited
	if on {
		s.appFlags |= AppFlagGatewayMessageContent
	}
}
