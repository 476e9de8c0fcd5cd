package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// Gateway events carry no event id; the source ids below name each change
// once, so an event replayed after a RESUME is recorded once.

func (a *Adapter) record(ctx context.Context, mux *bot.Mux, act bot.Activity) {
	act.Platform = bot.PlatformDiscord
	if act.Time.IsZero() {
		act.Time = a.clock.Now()
	}
	if err := mux.Activity(ctx, act); err != nil {
		a.log.Error().Err(err).Str("source", act.SourceID).Msg("recording a discord event")
	}
}

func (a *Adapter) onMessage(ctx context.Context, mux *bot.Mux, m *discordgo.Message) {
	if m.Author == nil || m.Author.ID == a.botUserID() {
		return
	}
	user := bot.User{ID: m.Author.ID, Name: m.Author.Username}
	if m.GuildID == "" {
		q := bot.Question{Platform: bot.PlatformDiscord, User: user, Channel: bot.ChannelRef{ID: m.ChannelID}, Text: m.Content,
			Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, Direct: true, Time: m.Timestamp}
		a.later(ctx, func(ctx context.Context) { a.ask(ctx, mux, q) })
		return
	}
	// A thread's messages belong to the channel the thread is in, as
	// Slack's thread replies do.
	act := bot.Activity{Kind: bot.EventMessage, User: user, Channel: bot.ChannelRef{ID: a.parentOf(m.ChannelID)}, Text: m.Content,
		Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, SourceID: "discord:msg:" + m.ID, Time: m.Timestamp}
	if len(m.Attachments) > 0 {
		var names []string
		for _, f := range m.Attachments {
			names = append(names, f.Filename)
		}
		act.Kind = bot.EventFile
		act.Text = strings.TrimSpace(m.Content + " [files: " + strings.Join(names, ", ") + "]")
	}
	a.record(ctx, mux, act)
	for _, u := range m.Mentions {
		if u.ID == a.botUserID() {
			text := strings.TrimSpace(strings.NewReplacer("<@"+u.ID+">", "", "<@!"+u.ID+">", "").Replace(m.Content))
			q := bot.Question{Platform: bot.PlatformDiscord, User: user, Channel: bot.ChannelRef{ID: m.ChannelID}, Text: text,
				Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, Time: m.Timestamp}
			a.later(ctx, func(ctx context.Context) { a.ask(ctx, mux, q) })
		}
	}
}

func (a *Adapter) ask(ctx context.Context, mux *bot.Mux, q bot.Question) {
	resp := mux.Ask(ctx, q)
	if resp == nil || resp.IsZero() {
		return
	}
	send := messageSend(resp.Message)
	send.Reference = &discordgo.MessageReference{MessageID: q.Ref.ID, ChannelID: q.Ref.Channel}
	if _, err := a.s.ChannelMessageSendComplex(q.Channel.ID, send, a.opt(ctx)); err != nil {
		a.log.Warn().Err(apiError("answer", err)).Msg("answering a question")
	}
}

func (a *Adapter) onEdit(ctx context.Context, mux *bot.Mux, m *discordgo.Message) {
	if m.EditedTimestamp == nil || (m.Author != nil && m.Author.ID == a.botUserID()) || m.GuildID == "" {
		return // embeds unfolding, klaxon's own edits, DMs
	}
	act := bot.Activity{Kind: bot.EventMessageEdit, Channel: bot.ChannelRef{ID: a.parentOf(m.ChannelID)}, Text: m.Content,
		Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, SourceID: "discord:edit:" + m.ID + ":" + m.EditedTimestamp.UTC().Format(time.RFC3339Nano),
		Time: *m.EditedTimestamp}
	if m.Author != nil {
		act.User = bot.User{ID: m.Author.ID, Name: m.Author.Username}
	}
	a.record(ctx, mux, act)
}

func (a *Adapter) onDelete(ctx context.Context, mux *bot.Mux, m *discordgo.Message) {
	if m.GuildID == "" {
		return
	}
	a.record(ctx, mux, bot.Activity{Kind: bot.EventMessageDelete, Channel: bot.ChannelRef{ID: a.parentOf(m.ChannelID)},
		Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, SourceID: "discord:delete:" + m.ID})
}

// onReaction records a reaction added or removed. Reactions in DMs (no
// guild) count too: a ✅ on a page DM acknowledges the page.
func (a *Adapter) onReaction(ctx context.Context, mux *bot.Mux, r *discordgo.MessageReaction, removed bool) {
	if r.UserID == a.botUserID() {
		return
	}
	emoji := bot.NormalizeEmoji(r.Emoji.Name)
	act := bot.Activity{Kind: bot.EventReaction, User: bot.User{ID: r.UserID}, Channel: bot.ChannelRef{ID: a.parentOf(r.ChannelID)},
		Emoji: emoji, Ref: bot.MessageRef{Channel: r.ChannelID, ID: r.MessageID},
		SourceID: "discord:react:" + r.MessageID + ":" + r.UserID + ":" + emoji}
	if removed {
		// Slack's wording, so the timeline reads the same on both.
		act.Text, act.Emoji = "removed "+emoji, ""
		// Gateway events carry no id: like adds, a removal is recorded once
		// per message, person and emoji, so a RESUME's replay is not doubled.
		act.SourceID = "discord:unreact:" + r.MessageID + ":" + r.UserID + ":" + emoji
	}
	a.record(ctx, mux, act)
}

func (a *Adapter) onPins(ctx context.Context, mux *bot.Mux, p *discordgo.ChannelPinsUpdate) {
	if p.GuildID == "" || p.LastPinTimestamp == "" || a.ownPin(p.ChannelID) {
		return // DMs, unpins, and klaxon's own pin of its summary
	}
	a.record(ctx, mux, bot.Activity{Kind: bot.EventPin, Channel: bot.ChannelRef{ID: p.ChannelID}, Text: "a message was pinned",
		SourceID: "discord:pins:" + p.ChannelID + ":" + p.LastPinTimestamp})
}

// parentOf returns the channel a thread belongs to, or id itself.
func (a *Adapter) parentOf(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if parent, ok := a.threads[id]; ok {
		return parent
	}
	return id
}

// onThreads learns which channel threads belong to, from THREAD_CREATE,
// THREAD_LIST_SYNC and the threads GUILD_CREATE lists.
func (a *Adapter) onThreads(threads ...*discordgo.Channel) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range threads {
		if t != nil && t.IsThread() && t.ParentID != "" {
			a.threads[t.ID] = t.ParentID
		}
	}
}
