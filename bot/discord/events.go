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
	act := bot.Activity{Kind: bot.EventMessage, User: user, Channel: bot.ChannelRef{ID: m.ChannelID}, Text: m.Content,
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
	act := bot.Activity{Kind: bot.EventMessageEdit, Channel: bot.ChannelRef{ID: m.ChannelID}, Text: m.Content,
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
	a.record(ctx, mux, bot.Activity{Kind: bot.EventMessageDelete, Channel: bot.ChannelRef{ID: m.ChannelID},
		Ref: bot.MessageRef{Channel: m.ChannelID, ID: m.ID}, SourceID: "discord:delete:" + m.ID})
}

func (a *Adapter) onReaction(ctx context.Context, mux *bot.Mux, r *discordgo.MessageReaction) {
	if r.UserID == a.botUserID() || r.GuildID == "" {
		return
	}
	emoji := bot.NormalizeEmoji(r.Emoji.Name)
	a.record(ctx, mux, bot.Activity{Kind: bot.EventReaction, User: bot.User{ID: r.UserID}, Channel: bot.ChannelRef{ID: r.ChannelID},
		Emoji: emoji, Ref: bot.MessageRef{Channel: r.ChannelID, ID: r.MessageID},
		SourceID: "discord:react:" + r.MessageID + ":" + r.UserID + ":" + emoji})
}

func (a *Adapter) onPins(ctx context.Context, mux *bot.Mux, p *discordgo.ChannelPinsUpdate) {
	if p.GuildID == "" || p.LastPinTimestamp == "" {
		return
	}
	a.record(ctx, mux, bot.Activity{Kind: bot.EventPin, Channel: bot.ChannelRef{ID: p.ChannelID}, Text: "a message was pinned",
		SourceID: "discord:pins:" + p.ChannelID + ":" + p.LastPinTimestamp})
}
