package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// grace is how long klaxon may take to answer an interaction directly
// before it sends a deferred response ("klaxon is thinking…") and answers
// with an edit. A handler that opens a form within it gets its modal as the
// first response, as Discord requires.
const grace = 10 * time.Millisecond

// workTimeout bounds the work done for one acknowledged event.
const workTimeout = 2 * time.Minute

// pendingInteraction is an interaction whose first response may not be
// sent yet. Exactly one first response is sent.
type pendingInteraction struct {
	mu        sync.Mutex
	i         *discordgo.Interaction
	responded bool
	deferred  bool
}

// Run connects to the gateway, registers the commands, and serves mux until
// ctx is cancelled.
func (a *Adapter) Run(ctx context.Context, mux *bot.Mux) error {
	a.s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		if r.User != nil {
			a.botUser.Store(r.User.ID)
		}
		if a.everConnected.Swap(true) {
			a.reconnects.Add(1)
		}
		a.connected.Store(true)
		a.log.Info().Str("session", r.SessionID).Msg("discord connected")
	})
	a.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
		a.reconnects.Add(1)
		a.connected.Store(true)
		a.log.Info().Msg("discord session resumed")
	})
	a.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		a.connected.Store(false)
		a.log.Warn().Msg("discord gateway disconnected; reconnecting")
	})
	a.s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { a.onInteraction(ctx, mux, i.Interaction) })
	a.s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { a.onMessage(ctx, mux, m.Message) })
	a.s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageUpdate) { a.onEdit(ctx, mux, m.Message) })
	a.s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageDelete) { a.onDelete(ctx, mux, m.Message) })
	a.s.AddHandler(func(_ *discordgo.Session, r *discordgo.MessageReactionAdd) {
		a.onReaction(ctx, mux, r.MessageReaction, false)
	})
	a.s.AddHandler(func(_ *discordgo.Session, r *discordgo.MessageReactionRemove) {
		a.onReaction(ctx, mux, r.MessageReaction, true)
	})
	a.s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { a.onThreads(g.Threads...) })
	a.s.AddHandler(func(_ *discordgo.Session, t *discordgo.ThreadCreate) { a.onThreads(t.Channel) })
	a.s.AddHandler(func(_ *discordgo.Session, t *discordgo.ThreadListSync) { a.onThreads(t.Threads...) })
	a.s.AddHandler(func(_ *discordgo.Session, p *discordgo.ChannelPinsUpdate) { a.onPins(ctx, mux, p) })

	// An unreachable Discord does not stop klaxon: it tries again with a
	// growing wait while alert intake, paging and the status page work,
	// and /readyz says Discord is not connected. A refused token does.
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		err := a.connect(ctx, mux)
		if err == nil || ctx.Err() != nil {
			break
		}
		if ok, _ := bot.Transient(err); !ok {
			return err
		}
		a.log.Warn().Err(err).Dur("retry_in", wait).Msg("discord is unreachable; klaxon works on and tries again")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	defer a.close()
	<-ctx.Done()
	return nil
}

// connect checks what the server grants klaxon (named at start-up, shown
// on /readyz and by `klaxon check`), opens the gateway and registers the
// commands.
func (a *Adapter) connect(ctx context.Context, mux *bot.Mux) error {
	st, err := a.effective(ctx)
	held, flags := st.held, st.appFlags
	switch {
	case err != nil && bot.ErrorCode(err) == bot.EUNAVAILABLE:
		return err
	case err != nil:
		a.log.Warn().Err(err).Msg("could not check klaxon's permissions on the Discord server")
	default:
		a.held.Store(held)
		problems := a.missing(st)
		a.problems.Store(problems)
		a.log.Info().Str("permissions", permString(held)).Msg("discord permissions")
		for _, p := range problems {
			a.log.Warn().Msg(p)
		}
		if flags&(appFlagMessageContent|appFlagMessageContentLimited) == 0 {
			return errors.New("discord: the Message Content intent is off; turn on Bot → Privileged Gateway Intents → Message Content Intent in the developer portal")
		}
	}
	if err := a.s.Open(); err != nil {
		code := bot.EUNAVAILABLE
		if strings.Contains(err.Error(), "4004") {
			code = bot.EFORBIDDEN // Authentication failed
		}
		return &bot.Error{Code: code, Message: "Discord's gateway refused or did not answer", Err: err}
	}
	if _, err := a.s.ApplicationCommandBulkOverwrite(a.cfg.ApplicationID, a.cfg.GuildID, a.applicationCommands(mux), a.opt(ctx)); err != nil {
		if ctx.Err() != nil {
			return nil // shutting down
		}
		err = apiError("register commands", err)
		if ok, _ := bot.Transient(err); ok {
			a.s.Close()
		}
		return fmt.Errorf("discord: registering the commands: %w", err)
	}
	a.log.Info().Str("guild", a.cfg.GuildID).Msg("discord commands registered")
	return nil
}

// close stops reconnecting, closes the gateway and waits for the work
// started for interactions.
func (a *Adapter) close() {
	a.s.Lock()
	a.s.ShouldReconnectOnError = false
	a.s.Unlock()
	if err := a.s.Close(); err != nil {
		a.log.Warn().Err(err).Msg("closing the discord gateway")
	}
	a.work.Wait()
	a.connected.Store(false)
}

// later runs slow work after an acknowledgement; see bot.Inflight.
func (a *Adapter) later(ctx context.Context, fn func(ctx context.Context)) {
	a.work.Go(ctx, workTimeout, fn)
}

func interactionUser(i *discordgo.Interaction) bot.User {
	switch {
	case i.Member != nil && i.Member.User != nil:
		return bot.User{ID: i.Member.User.ID, Name: i.Member.User.Username}
	case i.User != nil:
		return bot.User{ID: i.User.ID, Name: i.User.Username}
	}
	return bot.User{}
}

func (a *Adapter) onInteraction(ctx context.Context, mux *bot.Mux, i *discordgo.Interaction) {
	user, channel := interactionUser(i), bot.ChannelRef{ID: i.ChannelID}
	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.later(ctx, func(ctx context.Context) { a.autocomplete(ctx, i) })
	case discordgo.InteractionApplicationCommand:
		d := i.ApplicationCommandData()
		if d.CommandType == discordgo.MessageApplicationCommand {
			act := bot.Action{Platform: bot.PlatformDiscord, ActionID: bot.ShortcutDeclareFromMessage, User: user, Channel: channel,
				Message: bot.MessageRef{Channel: i.ChannelID, ID: d.TargetID}, Trigger: i.ID, Time: a.clock.Now()}
			if d.Resolved != nil && d.Resolved.Messages[d.TargetID] != nil {
				act.Text = d.Resolved.Messages[d.TargetID].Content
			}
			a.answer(ctx, i, func(ctx context.Context) *bot.Response { return mux.Act(ctx, act) })
			return
		}
		text, err := commandText(d, mux)
		if err != nil {
			text = "/" + d.Name // the Mux explains what is missing
		}
		req := &bot.Request{Platform: bot.PlatformDiscord, User: user, Channel: channel, Text: text, Trigger: i.ID, Time: a.clock.Now()}
		a.answer(ctx, i, func(ctx context.Context) *bot.Response { return mux.Dispatch(ctx, req) })
	case discordgo.InteractionMessageComponent:
		d := i.MessageComponentData()
		actionID, value, _ := strings.Cut(d.CustomID, "|")
		act := bot.Action{Platform: bot.PlatformDiscord, ActionID: actionID, Value: value, User: user, Channel: channel, Trigger: i.ID, Time: a.clock.Now()}
		if i.Message != nil {
			act.Message = bot.MessageRef{Channel: i.ChannelID, ID: i.Message.ID}
		}
		a.answer(ctx, i, func(ctx context.Context) *bot.Response { return mux.Act(ctx, act) })
	case discordgo.InteractionModalSubmit:
		formID, from, meta, values := parseModal(i.ModalSubmitData())
		sub := bot.Submission{Platform: bot.PlatformDiscord, FormID: formID, Values: values, Metadata: meta,
			Channel: bot.ChannelRef{ID: from}, User: user, Time: a.clock.Now()}
		a.later(ctx, func(ctx context.Context) {
			// Discord shows no errors next to modal fields: list them instead.
			if err := mux.ValidateForm(ctx, sub); err != nil {
				a.respond(ctx, &pendingInteraction{i: i}, bot.Message{Text: formErrors(err)}, false)
				return
			}
			p := &pendingInteraction{i: i}
			a.deferTo(ctx, p)
			a.finish(ctx, p, mux.SubmitForm(ctx, sub))
		})
	}
}

func formErrors(err error) string {
	fe, ok := err.(bot.FieldErrors)
	if !ok {
		return "⚠️ " + bot.ErrorMessage(err)
	}
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	text := "⚠️ Please fix the form and try again:"
	for _, k := range keys {
		text += fmt.Sprintf("\n• **%s**: %s", k, fe[k])
	}
	return text
}

// answer runs handle and sends the interaction's first response: the
// handler's reply if it comes within the grace period (or the modal it
// opened), else a deferred response followed by an edit.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, handle func(ctx context.Context) *bot.Response) {
	p := &pendingInteraction{i: i}
	a.mu.Lock()
	a.pending[i.ID] = p
	a.mu.Unlock()
	a.later(ctx, func(ctx context.Context) {
		defer func() {
			a.mu.Lock()
			delete(a.pending, i.ID)
			a.mu.Unlock()
		}()
		done := make(chan *bot.Response, 1)
		go func() { done <- handle(ctx) }()
		var resp *bot.Response
		select {
		case resp = <-done:
		case <-time.After(grace):
			a.deferTo(ctx, p)
			resp = <-done
		}
		a.finish(ctx, p, resp)
	})
}

// deferTo sends a deferred first response unless one was sent.
func (a *Adapter) deferTo(ctx context.Context, p *pendingInteraction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.responded {
		return
	}
	err := a.s.InteractionRespond(p.i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}, a.opt(ctx))
	if err != nil {
		a.log.Warn().Err(err).Msg("deferring an interaction response")
		return
	}
	p.responded, p.deferred = true, true
}

// finish delivers the handler's reply.
func (a *Adapter) finish(ctx context.Context, p *pendingInteraction, resp *bot.Response) {
	if resp == nil || resp.IsZero() {
		p.mu.Lock()
		responded, deferred := p.responded, p.deferred
		p.mu.Unlock()
		switch {
		case !responded && p.i.Type == discordgo.InteractionMessageComponent:
			// A click whose effect shows in the channel needs no message.
			a.sendFirst(ctx, p, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
			return
		case !responded, deferred:
			resp = bot.Reply("✅ Done.")
		default:
			return // a form was opened
		}
	}
	if resp.InChannel && p.i.ChannelID != "" {
		if _, err := a.Post(ctx, p.i.ChannelID, resp.Message); err == nil {
			resp = bot.Reply("✅ Done.")
		}
	}
	a.respond(ctx, p, resp.Message, true)
}

// respond sends m as the first response, or as an edit of the deferred one.
func (a *Adapter) respond(ctx context.Context, p *pendingInteraction, m bot.Message, ephemeral bool) {
	send := messageSend(m)
	p.mu.Lock()
	responded, deferred := p.responded, p.deferred
	p.mu.Unlock()
	if deferred {
		_, err := a.s.InteractionResponseEdit(p.i, &discordgo.WebhookEdit{Content: &send.Content, Embeds: &send.Embeds, Components: &send.Components}, a.opt(ctx))
		if err != nil {
			a.log.Warn().Err(err).Msg("editing an interaction response")
		}
		return
	}
	if responded {
		var flags discordgo.MessageFlags
		if ephemeral {
			flags = discordgo.MessageFlagsEphemeral
		}
		if _, err := a.s.FollowupMessageCreate(p.i, false, &discordgo.WebhookParams{Content: send.Content, Embeds: send.Embeds, Components: send.Components, Flags: flags}, a.opt(ctx)); err != nil {
			a.log.Warn().Err(err).Msg("following up an interaction")
		}
		return
	}
	data := &discordgo.InteractionResponseData{Content: send.Content, Embeds: send.Embeds, Components: send.Components, AllowedMentions: send.AllowedMentions}
	if ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	a.sendFirst(ctx, p, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data})
}

func (a *Adapter) sendFirst(ctx context.Context, p *pendingInteraction, r *discordgo.InteractionResponse) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.responded {
		return bot.Errorf(bot.EUNSUPPORTED, "This interaction was already answered.")
	}
	if err := a.s.InteractionRespond(p.i, r, a.opt(ctx)); err != nil {
		a.log.Warn().Err(err).Msg("answering an interaction")
		return apiError("answer", err)
	}
	p.responded = true
	return nil
}

// OpenForm implements bot.Chat: the modal is the interaction's first
// response, so it must open before klaxon defers.
func (a *Adapter) OpenForm(ctx context.Context, trigger string, f bot.Form) error {
	a.mu.Lock()
	p := a.pending[trigger]
	a.mu.Unlock()
	if p == nil {
		return bot.Errorf(bot.EUNSUPPORTED, "A form can only open right after a command or a click.")
	}
	data, err := modal(f)
	if err != nil {
		return err
	}
	return a.sendFirst(ctx, p, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: data})
}

func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction) {
	prefix := ""
	for _, sub := range i.ApplicationCommandData().Options {
		for _, o := range sub.Options {
			if o.Focused {
				prefix = strings.ToLower(fmt.Sprint(o.Value))
			}
		}
	}
	var choices []*discordgo.ApplicationCommandOptionChoice
	for _, s := range a.cfg.Services {
		if len(choices) < 25 && utf8.RuneCountInString(s.ID) <= 100 && (strings.HasPrefix(s.ID, prefix) || strings.Contains(strings.ToLower(s.Name), prefix)) {
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: bot.Cut(cmp.Or(s.Name, s.ID), 100), Value: s.ID})
		}
	}
	for _, id := range a.cfg.Schedules {
		// A value is what the command receives: one Discord would cut
		// (over 100 characters) could not be chosen, so it is not offered.
		if len(choices) < 25 && strings.HasPrefix(id, prefix) && utf8.RuneCountInString(id) <= 100 {
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: bot.Cut(id, 100), Value: id})
		}
	}
	err := a.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices}}, a.opt(ctx))
	if err != nil {
		a.log.Warn().Err(err).Msg("answering autocomplete")
	}
}
