package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// What a test does as a Slack user. Each method sends one envelope and
// returns its id, to wait for its acknowledgement.

func (s *Server) trigger() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.nextID("trig-")
	s.triggers[t] = time.Now()
	return t
}

func (s *Server) responseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := "/respond/" + s.nextID("r")
	s.responses[path] = &responseURLUse{issued: time.Now()}
	return s.srv.URL + path
}

func (s *Server) channelName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[id]; ok {
		return c.Name
	}
	return ""
}

func (s *Server) userName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[id]
}

// SlashCommand sends `/command text` typed by user in channel.
func (s *Server) SlashCommand(user, channel, command, text string) string {
	return s.enqueue("slash_commands", map[string]any{
		"token": "verification-token", "team_id": TeamID, "team_domain": "fake", "channel_id": channel,
		"channel_name": s.channelName(channel), "user_id": user, "user_name": s.userName(user),
		"command": command, "text": text, "api_app_id": AppID, "is_enterprise_install": "false",
		"response_url": s.responseURL(), "trigger_id": s.trigger(),
	})
}

// Event sends an Events API envelope wrapping event, with a fresh event_id,
// and returns the envelope id and event id.
func (s *Server) Event(event map[string]any) (envelopeID, eventID string) {
	s.mu.Lock()
	eventID = s.nextID("Ev")
	s.mu.Unlock()
	return s.eventWithID(event, eventID), eventID
}

// Redeliver sends event again under a new envelope with the same event_id,
// as Slack does when it is unsure an event arrived.
func (s *Server) Redeliver(event map[string]any, eventID string) string {
	return s.eventWithID(event, eventID)
}

func (s *Server) eventWithID(event map[string]any, eventID string) string {
	// Slack sends only the events the app subscribes to, with the scope
	// each needs.
	s.mu.Lock()
	sub := s.subscribed(event)
	s.mu.Unlock()
	if !sub {
		return ""
	}
	return s.enqueue("events_api", map[string]any{
		"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"authorizations":        []map[string]any{{"team_id": TeamID, "user_id": BotUserID, "is_bot": true}},
		"is_ext_shared_channel": false, "event_context": "ctx-" + eventID,
	})
}

// Say posts a message as user in channel (recorded in the fake) and returns
// the event to send, its timestamp, and sends it.
func (s *Server) Say(user, channel, text string) (event map[string]any, ts string, envelopeID, eventID string) {
	s.mu.Lock()
	ts = s.nextTS()
	s.messages[channel] = append(s.messages[channel], &Message{Channel: channel, TS: ts, User: user, Text: text})
	s.mu.Unlock()
	event = map[string]any{"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
		"event_ts": ts, "channel_type": s.channelType(channel), "client_msg_id": fmt.Sprintf("cm-%s", ts)}
	envelopeID, eventID = s.Event(event)
	return event, ts, envelopeID, eventID
}

func (s *Server) channelType(id string) string {
	if strings.HasPrefix(id, "D") {
		return "im"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[id]; ok && c.Private {
		return "group"
	}
	return "channel"
}

// Edit changes a person's message and sends message_changed.
func (s *Server) Edit(channel, ts, text string) (envelopeID, eventID string) {
	s.mu.Lock()
	m := s.message(channel, ts)
	prev := ""
	user := ""
	if m != nil {
		prev, user = m.Text, m.User
		m.Text = text
		m.Edits++
	}
	now := s.nextTS()
	s.mu.Unlock()
	return s.Event(map[string]any{"type": "message", "subtype": "message_changed", "channel": channel, "hidden": true, "ts": now, "event_ts": now,
		"channel_type":     s.channelType(channel),
		"message":          map[string]any{"type": "message", "user": user, "text": text, "ts": ts, "edited": map[string]any{"user": user, "ts": now}},
		"previous_message": map[string]any{"type": "message", "user": user, "text": prev, "ts": ts}})
}

// Delete removes a message and sends message_deleted.
func (s *Server) Delete(channel, ts string) (envelopeID, eventID string) {
	s.mu.Lock()
	var prev, user string
	msgs := s.messages[channel]
	for i, m := range msgs {
		if m.TS == ts {
			prev, user = m.Text, m.User
			s.messages[channel] = append(msgs[:i:i], msgs[i+1:]...)
			break
		}
	}
	now := s.nextTS()
	s.mu.Unlock()
	return s.Event(map[string]any{"type": "message", "subtype": "message_deleted", "channel": channel, "hidden": true, "ts": now, "event_ts": now,
		"deleted_ts": ts, "channel_type": s.channelType(channel),
		"previous_message": map[string]any{"type": "message", "user": user, "text": prev, "ts": ts}})
}

// React adds a reaction (a Slack emoji name such as "pushpin").
func (s *Server) React(user, channel, ts, name string) (envelopeID, eventID string) {
	now := s.nextStamp()
	return s.Event(map[string]any{"type": "reaction_added", "user": user, "reaction": name, "item_user": user,
		"item": map[string]any{"type": "message", "channel": channel, "ts": ts}, "event_ts": now})
}

// Pin pins a message as user.
func (s *Server) Pin(user, channel, ts string) (envelopeID, eventID string) {
	now := s.nextStamp()
	return s.Event(map[string]any{"type": "pin_added", "user": user, "channel_id": channel, "event_ts": now,
		"item": map[string]any{"type": "message", "channel": channel, "message": map[string]any{"ts": ts, "type": "message"}}})
}

// Mention says text to klaxon with an @-mention in channel.
func (s *Server) Mention(user, channel, text string) (envelopeID, eventID string) {
	ts := s.nextStamp()
	return s.Event(map[string]any{"type": "app_mention", "user": user, "channel": channel, "ts": ts, "event_ts": ts,
		"text": "<@" + BotUserID + "> " + text})
}

func (s *Server) nextStamp() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTS()
}

// ClickButton clicks a button on a message klaxon posted.
func (s *Server) ClickButton(user, channel, ts, actionID, value string) string {
	return s.enqueue("interactive", map[string]any{
		"type": "block_actions", "team": map[string]any{"id": TeamID}, "user": map[string]any{"id": user, "name": s.userName(user)},
		"api_app_id": AppID, "token": "verification-token", "trigger_id": s.trigger(),
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
		"channel":      map[string]any{"id": channel, "name": s.channelName(channel)},
		"message":      map[string]any{"type": "message", "ts": ts, "user": BotUserID},
		"response_url": s.responseURL(), "is_enterprise_install": false,
		"actions": []map[string]any{{"action_id": actionID, "block_id": s.blockOf(channel, ts, actionID), "value": value, "type": "button", "action_ts": s.nextStamp()}},
	})
}

// blockOf returns the block_id of the block holding actionID in a message.
func (s *Server) blockOf(channel, ts, actionID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.message(channel, ts)
	if m == nil {
		return ""
	}
	var blocks []struct {
		BlockID  string `json:"block_id"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	json.Unmarshal(m.Blocks, &blocks)
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return b.BlockID
			}
		}
	}
	return ""
}

// Shortcut runs a message shortcut on a message.
func (s *Server) Shortcut(user, channel, ts, callbackID string) string {
	s.mu.Lock()
	text := ""
	if m := s.message(channel, ts); m != nil {
		text = m.Text
	}
	s.mu.Unlock()
	return s.enqueue("interactive", map[string]any{
		"type": "message_action", "callback_id": callbackID, "trigger_id": s.trigger(), "response_url": s.responseURL(),
		"team": map[string]any{"id": TeamID}, "user": map[string]any{"id": user, "name": s.userName(user)},
		"channel": map[string]any{"id": channel, "name": s.channelName(channel)},
		"message": map[string]any{"type": "message", "ts": ts, "text": text, "user": user},
		"token":   "verification-token", "is_enterprise_install": "false",
	})
}

// SubmitView submits the modal viewID as user with values by block id; the
// fake fills in the element type the view declared for each block.
func (s *Server) SubmitView(user, viewID string, values map[string]string) (string, error) {
	s.mu.Lock()
	var view map[string]any
	for _, v := range s.views {
		if v.ID == viewID {
			view = v.View
		}
	}
	s.mu.Unlock()
	if view == nil {
		return "", fmt.Errorf("slackfake: no view %s", viewID)
	}
	state := map[string]any{}
	blocks, _ := view["blocks"].([]any)
	for _, b := range blocks {
		block, _ := b.(map[string]any)
		el, _ := block["element"].(map[string]any)
		blockID, _ := block["block_id"].(string)
		if el == nil || blockID == "" {
			continue
		}
		actionID, _ := el["action_id"].(string)
		kind, _ := el["type"].(string)
		v, set := values[blockID]
		value := map[string]any{"type": kind}
		switch kind {
		case "plain_text_input":
			if set {
				value["value"] = v
			}
		case "static_select":
			if set {
				value["selected_option"] = map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}
			}
		case "users_select":
			if set {
				value["selected_user"] = v
			}
		case "checkboxes":
			opts := []any{}
			if v == "true" {
				opts = append(opts, map[string]any{"value": "true", "text": map[string]any{"type": "plain_text", "text": "yes"}})
			}
			value["selected_options"] = opts
		}
		state[blockID] = map[string]any{actionID: value}
	}
	submitted := map[string]any{"id": viewID, "type": "modal", "state": map[string]any{"values": state}}
	for _, k := range []string{"callback_id", "private_metadata", "title", "blocks"} {
		submitted[k] = view[k]
	}
	return s.enqueue("interactive", map[string]any{
		"type": "view_submission", "team": map[string]any{"id": TeamID}, "user": map[string]any{"id": user, "name": s.userName(user)},
		"api_app_id": AppID, "token": "verification-token", "trigger_id": s.trigger(), "view": submitted,
		// Real Slack sends this as a string in some payloads.
		"is_enterprise_install": "false",
	}), nil
}

// OpenHome opens klaxon's App Home as user, which sends app_home_opened.
func (s *Server) OpenHome(user string) (envelopeID, eventID string) {
	ts := s.nextStamp()
	return s.Event(map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + strings.TrimPrefix(user, "U"), "tab": "home", "event_ts": ts})
}

// Home returns the Home tab last published for user.
func (s *Server) Home(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.homes[user]
	return v, ok
}

// --- Strictness ------------------------------------------------------------

// TakeViolations returns the requests refused for breaking Slack's rules
// so far and forgets them: a test that provokes one on purpose takes it
// and checks it, so that it does not fail the test at the end.
func (s *Server) TakeViolations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// SetScopes replaces the bot scopes the manifest grants, as for an app
// installed with an older manifest.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manifest.OAuth.Scopes.Bot = scopes
}

// EnforceRateLimits makes the fake answer 429 with Retry-After as Slack's
// documented tiers would (per method per minute; chat.postMessage one a
// second per channel with short bursts).
func (s *Server) EnforceRateLimits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rates = newLimiter()
}

// EarlyCalls returns the calls made while a Retry-After given for the
// same method (and channel, for posts) was still running.
func (s *Server) EarlyCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rates == nil {
		return nil
	}
	return append([]Call(nil), s.rates.early...)
}

// --- Faults ---------------------------------------------------------------

// RateLimit makes the next n calls of method answer 429 with Retry-After.
func (s *Server) RateLimit(method string, n, retryAfterSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[method] = n
	s.retryWait = retryAfterSeconds
}

// SetDelay slows every Web API answer down by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// --- Looking inside -------------------------------------------------------

// WaitFor polls cond (which may call the fake's accessors) until it is
// true, and reports whether that happened before timeout.
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

// Ack waits for the acknowledgement of envelope id and returns its payload
// (nil for an empty ack).
func (s *Server) Ack(id string, timeout time.Duration) (json.RawMessage, bool) {
	var payload json.RawMessage
	ok := s.WaitFor(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		p, acked := s.acks[id]
		payload = p
		return acked
	})
	return payload, ok
}

// AckLatency returns how long envelope id waited for its acknowledgement
// after the fake first wrote it to the socket, and whether it was acked.
func (s *Server) AckLatency(id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, acked := s.ackAt[id]
	sent, written := s.firstSent[id]
	return at.Sub(sent), acked && written
}

// Unacked returns how many envelopes wait for an acknowledgement.
func (s *Server) Unacked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// ChannelByName returns a copy of the channel named name.
func (s *Server) ChannelByName(name string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelByNameLocked(name)
}

func (s *Server) channelByNameLocked(name string) (Channel, bool) {
	for _, id := range s.order {
		if c := s.channels[id]; c.Name == name {
			cp := *c
			cp.Members = append([]string(nil), c.Members...)
			cp.Pins = append([]string(nil), c.Pins...)
			return cp, true
		}
	}
	return Channel{}, false
}

// Channels returns copies of every channel klaxon created, in order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, id := range s.order {
		if c := s.channels[id]; !c.IsDM && id != "C0GENERAL" && id != "C0INCIDENTS" {
			cp, _ := s.channelByNameLocked(c.Name)
			out = append(out, cp)
		}
	}
	return out
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
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.message(channel, ts); m != nil {
		return *m, true
	}
	return Message{}, false
}

// Views returns the views opened so far.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// Replies returns what klaxon sent to response_urls and as ephemeral messages.
func (s *Server) Replies() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reply(nil), s.replies...)
}

// Calls returns the Web API calls of method ("" for all), including the
// ones answered with 429 (as "method (429)").
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Raw marshals v for tests that compare payloads.
func Raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// LastTrigger returns the newest trigger_id the fake handed out that has
// not opened a view yet.
func (s *Server) LastTrigger() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last string
	var at time.Time
	for t, issued := range s.triggers {
		if issued.After(at) || (issued.Equal(at) && t > last) {
			last, at = t, issued
		}
	}
	return last
}

// Files returns the files shared in a channel, oldest first.
func (s *Server) Files(channel string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, m := range s.messages[channel] {
		out = append(out, m.Files...)
	}
	return out
}
