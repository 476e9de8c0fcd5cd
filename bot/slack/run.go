package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/klaxon-bot/klaxon/bot"
)

// Run connects to Slack and serves mux until ctx is cancelled. It returns
// after the work started for acknowledged envelopes has finished.
func (a *Adapter) Run(ctx context.Context, mux *bot.Mux) error {
	// A token Slack refuses stops klaxon; an unreachable Slack does not:
	// alert intake, paging, hooks and the status page work meanwhile, and
	// /readyz says Slack is not connected.
	var auth identity
	var granted []string
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		var err error
		auth, granted, err = a.authTest(ctx)
		if err == nil {
			break
		}
		if bot.ErrorCode(err) != bot.EUNAVAILABLE {
			return fmt.Errorf("slack: checking the bot token: %w", err)
		}
		a.log.Warn().Err(err).Dur("retry_in", wait).Msg("slack is unreachable; klaxon works on and tries again")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	a.botUserID, a.botID = auth.UserID, auth.BotID
	a.log.Info().Str("team", auth.Team).Str("bot_user", auth.UserID).Msg("slack bot token accepted")
	problems := append(Missing(granted), a.groupProblems(ctx)...)
	a.problems.Store(problems)
	for _, p := range problems {
		a.log.Warn().Msg(p)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Acknowledgements wait for the socket's writer. While the connection
	// is down nobody writes, so they give up (Slack redelivers, and the
	// redelivery is de-duplicated) instead of blocking the event worker and,
	// through it, the reconnect.
	a.openAcks(ctx)
	// One goroutine sends the acknowledgements, in order, so neither this
	// loop nor the event worker ever waits on the socket's writer: the
	// writer reports its errors through the events this loop reads.
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-a.ackq:
				a.sendAck(r.req, r.payload)
			}
		}
	}()
	defer func() { <-ackerDone }()
	socketDone := make(chan error, 1)
	go func() { socketDone <- a.socket.RunContext(ctx) }()

	// Channel events are recorded in arrival order by one worker, each
	// acknowledged only after its write is committed.
	events := make(chan socketmode.Event, 256)
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		for evt := range events {
			a.handleEventsAPI(ctx, mux, evt)
		}
	}()
	defer func() {
		close(events)
		<-workerDone
		a.work.Wait()
		a.connected.Store(false)
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-socketDone:
			if ctx.Err() != nil {
				return nil
			}
			cancel() // unblock acknowledgements in flight before waiting for the worker
			return fmt.Errorf("slack: socket mode stopped: %w", err)
		case evt := <-a.socket.Events:
			switch evt.Type {
			case socketmode.EventTypeConnecting:
				a.closeAcks()
				a.connected.Store(false)
				a.log.Info().Msg("slack connecting")
			case socketmode.EventTypeHello:
				if a.everConnected.Swap(true) {
					a.reconnects.Add(1)
				}
				a.openAcks(ctx)
				a.connected.Store(true)
				a.log.Info().Msg("slack connected")
			case socketmode.EventTypeConnectionError:
				a.closeAcks()
				a.connected.Store(false)
				l := a.log.Warn()
				if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
					l = l.Err(ce.ErrorObj).Int("attempt", ce.Attempt).Dur("backoff", ce.Backoff)
				}
				l.Msg("slack connection failed; retrying")
			case socketmode.EventTypeInvalidAuth:
				return errors.New("slack: the app token was refused (invalid_auth); check slack.app_token")
			case socketmode.EventTypeDisconnect:
				a.closeAcks()
				a.connected.Store(false)
				a.log.Info().Msg("slack asked klaxon to reconnect")
			case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
				a.closeAcks()
				a.log.Warn().Err(socketError(evt.Data)).Msg("slack socket error; the connection will be re-established")
			case socketmode.EventTypeErrorBadMessage:
				a.handleBadMessage(ctx, mux, evt)
			case socketmode.EventTypeSlashCommand:
				a.handleSlash(ctx, mux, evt)
			case socketmode.EventTypeInteractive:
				cb, _ := evt.Data.(slack.InteractionCallback)
				a.handleInteractive(ctx, mux, evt.Request, cb)
			case socketmode.EventTypeEventsAPI:
				select {
				case events <- evt:
				case <-ctx.Done():
				}
			}
		}
	}
}

// socketError extracts the cause from socketmode's error events.
func socketError(data any) error {
	switch e := data.(type) {
	case *socketmode.ErrorWriteFailed:
		return e.Cause
	case *slack.IncomingEventError:
		return e.ErrorObj
	case error:
		return e
	}
	return fmt.Errorf("%v", data)
}

// workTimeout bounds the work done for one acknowledged event.
const workTimeout = 2 * time.Minute

// later runs slow work after an acknowledgement; see bot.Inflight.
func (a *Adapter) later(ctx context.Context, fn func(ctx context.Context)) {
	a.work.Go(ctx, workTimeout, fn)
}

// ackTimeout bounds how long an acknowledgement waits for the socket's
// writer, should the connection die without klaxon hearing of it.
const ackTimeout = 5 * time.Second

// openAcks lets acknowledgements through: a connection is up.
func (a *Adapter) openAcks(parent context.Context) {
	a.ackMu.Lock()
	defer a.ackMu.Unlock()
	if a.ackCancel != nil {
		a.ackCancel()
	}
	a.acks, a.ackCancel = context.WithCancel(parent)
}

// closeAcks makes waiting and new acknowledgements give up until the next
// connection: nothing would send them.
func (a *Adapter) closeAcks() {
	a.ackMu.Lock()
	defer a.ackMu.Unlock()
	if a.ackCancel != nil {
		a.ackCancel()
	}
}

func (a *Adapter) ackContext() context.Context {
	a.ackMu.Lock()
	defer a.ackMu.Unlock()
	return a.acks
}

// ack queues the acknowledgement of req. Should the queue be full, the
// envelope stays unacknowledged and Slack sends it again; the redelivery
// is recognised by its event id.
func (a *Adapter) ack(req *socketmode.Request, payload any) {
	if req == nil {
		return
	}
	select {
	case a.ackq <- pendingAck{req: req, payload: payload}:
	default:
		a.log.Warn().Str("envelope", req.EnvelopeID).Msg("acknowledgement queue full; Slack will redeliver the envelope")
	}
}

type pendingAck struct {
	req     *socketmode.Request
	payload any
}

func (a *Adapter) sendAck(req *socketmode.Request, payload any) {
	ctx, cancel := context.WithTimeout(a.ackContext(), ackTimeout)
	defer cancel()
	var err error
	if payload == nil {
		err = a.socket.AckCtx(ctx, req.EnvelopeID, nil)
	} else {
		err = a.socket.AckCtx(ctx, req.EnvelopeID, payload)
	}
	if err != nil {
		a.log.Warn().Err(err).Str("envelope", req.EnvelopeID).Msg("acknowledging an envelope")
	}
}

func (a *Adapter) handleSlash(ctx context.Context, mux *bot.Mux, evt socketmode.Event) {
	cmd, _ := evt.Data.(slack.SlashCommand)
	a.ack(evt.Request, nil) // first: Slack gives 3 seconds; the reply follows
	if !a.acted.add(actedKey(evt.Request, cmd.TriggerID), a.clock.Now()) {
		a.log.Info().Str("command", cmd.Command).Msg("slack sent a slash command again; it was acted on already")
		return
	}
	req := &bot.Request{
		Platform: bot.PlatformSlack,
		User:     bot.User{ID: cmd.UserID, Name: cmd.UserName},
		Channel:  bot.ChannelRef{ID: cmd.ChannelID, Name: cmd.ChannelName},
		Text:     strings.TrimSpace(cmd.Command + " " + unescape(cmd.Text)),
		Trigger:  cmd.TriggerID,
		Time:     a.clock.Now(),
	}
	a.later(ctx, func(ctx context.Context) {
		resp := mux.Dispatch(ctx, req)
		a.reply(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, resp)
	})
}

// reply shows resp to user: in the channel when it is meant for everyone,
// else only to them, through the response_url when there is one.
func (a *Adapter) reply(ctx context.Context, responseURL, channelID, userID string, resp *bot.Response) {
	if resp == nil || resp.IsZero() {
		return
	}
	if resp.InChannel {
		if err := a.postReply(ctx, channelID, msgOptions(resp.Message)...); err == nil {
			return
		}
	}
	if responseURL != "" {
		bs := blocks(resp.Message)
		err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, a.http, &slack.WebhookMessage{
			ResponseType: slack.ResponseTypeEphemeral, Text: fallback(resp.Message), Blocks: &slack.Blocks{BlockSet: bs},
		})
		if err == nil {
			return
		}
		a.log.Warn().Err(err).Msg("replying through the response_url")
	}
	if channelID != "" {
		err := a.callWaiting(ctx, "chat.postEphemeral", "", "reply privately", func() error {
			_, err := a.api.PostEphemeralContext(ctx, channelID, userID, msgOptions(resp.Message)...)
			return err
		})
		if err == nil {
			return
		}
	}
	ch, err := a.openDM(ctx, userID)
	if err == nil {
		err = a.postReply(ctx, ch, msgOptions(resp.Message)...)
	}
	if err != nil {
		a.log.Error().Err(err).Str("user", userID).Msg("could not deliver a reply")
	}
}

func (a *Adapter) handleInteractive(ctx context.Context, mux *bot.Mux, req *socketmode.Request, cb slack.InteractionCallback) {
	user := bot.User{ID: cb.User.ID, Name: cb.User.Name}
	key := actedKey(req, cb.TriggerID)
	if a.acted.has(key, a.clock.Now()) {
		a.ack(req, nil)
		a.log.Info().Str("type", string(cb.Type)).Msg("slack sent an interaction again; it was acted on already")
		return
	}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		values, meta := submission(cb.View)
		sub := bot.Submission{Platform: bot.PlatformSlack, FormID: cb.View.CallbackID, Values: values, Metadata: meta.Metadata,
			Channel: bot.ChannelRef{ID: meta.Channel}, User: user, Time: a.clock.Now()}
		// Validation answers in the ack, so the modal shows errors next to
		// the fields; the work starts only once the form is accepted.
		if err := mux.ValidateForm(ctx, sub); err != nil {
			a.ack(req, slack.NewErrorsViewSubmissionResponse(fieldErrors(err, values)))
			return // refused: a copy is checked again
		}
		a.ack(req, nil)
		a.acted.add(key, a.clock.Now())
		a.later(ctx, func(ctx context.Context) {
			resp := mux.SubmitForm(ctx, sub)
			a.reply(ctx, "", meta.Channel, user.ID, resp)
		})
	case slack.InteractionTypeBlockActions:
		a.ack(req, nil)
		a.acted.add(key, a.clock.Now())
		for _, act := range cb.ActionCallback.BlockActions {
			action := bot.Action{Platform: bot.PlatformSlack, ActionID: act.ActionID, Value: act.Value, User: user,
				Channel: bot.ChannelRef{ID: cb.Channel.ID, Name: cb.Channel.Name},
				Message: bot.MessageRef{Channel: cb.Channel.ID, ID: cb.Message.Timestamp},
				Trigger: cb.TriggerID, Time: a.clock.Now()}
			a.later(ctx, func(ctx context.Context) { a.reply(ctx, cb.ResponseURL, cb.Channel.ID, user.ID, mux.Act(ctx, action)) })
		}
	case slack.InteractionTypeMessageAction:
		a.ack(req, nil)
		a.acted.add(key, a.clock.Now())
		action := bot.Action{Platform: bot.PlatformSlack, ActionID: shortcutAction(cb.CallbackID), User: user,
			Channel: bot.ChannelRef{ID: cb.Channel.ID, Name: cb.Channel.Name},
			Message: bot.MessageRef{Channel: cb.Channel.ID, ID: cb.Message.Timestamp},
			Text:    unescape(cb.Message.Text), Trigger: cb.TriggerID, Time: a.clock.Now()}
		a.later(ctx, func(ctx context.Context) { a.reply(ctx, cb.ResponseURL, cb.Channel.ID, user.ID, mux.Act(ctx, action)) })
	default:
		a.ack(req, nil) // view_closed and the like need no more than an ack
	}
}

// ShortcutCallbackID is the callback id of the "Declare incident from
// message" shortcut in the app manifest.
const ShortcutCallbackID = "declare_from_message"

func shortcutAction(callbackID string) string {
	if callbackID == ShortcutCallbackID {
		return bot.ShortcutDeclareFromMessage
	}
	return callbackID
}

// fieldErrors maps a validation error onto the modal's blocks. An error not
// about a particular field is shown on the first field.
func fieldErrors(err error, values map[string]string) map[string]string {
	var fe bot.FieldErrors
	if errors.As(err, &fe) {
		return fe
	}
	first := ""
	for id := range values {
		if first == "" || id < first {
			first = id
		}
	}
	return map[string]string{first: bot.ErrorMessage(err)}
}

// handleBadMessage recovers envelopes slack-go could not decode. Real Slack
// sends some booleans as strings ("is_enterprise_install":"false"), which
// slack-go's interaction decoder rejects.
func (a *Adapter) handleBadMessage(ctx context.Context, mux *bot.Mux, evt socketmode.Event) {
	bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
	if bad == nil {
		return
	}
	var req socketmode.Request
	if err := json.Unmarshal(bad.Message, &req); err != nil || req.Type != socketmode.RequestTypeInteractive {
		a.log.Warn().Err(bad.Cause).Msg("slack sent a message klaxon cannot read")
		return
	}
	cb, err := decodeInteraction(req.Payload)
	if err != nil {
		a.log.Warn().Err(err).Msg("slack sent an interaction klaxon cannot read")
		return
	}
	a.handleInteractive(ctx, mux, &req, cb)
}

// decodeInteraction decodes an interaction payload, accepting booleans sent
// as strings.
func decodeInteraction(payload json.RawMessage) (slack.InteractionCallback, error) {
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return slack.InteractionCallback{}, err
	}
	fixBools(raw)
	fixed, err := json.Marshal(raw)
	if err != nil {
		return slack.InteractionCallback{}, err
	}
	var cb slack.InteractionCallback
	err = json.Unmarshal(fixed, &cb)
	return cb, err
}

// fixBools turns "true"/"false" strings under keys starting with "is_"
// into booleans, recursively.
func fixBools(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && strings.HasPrefix(k, "is_") && (s == "true" || s == "false") {
				x[k] = s == "true"
				continue
			}
			fixBools(val)
		}
	case []any:
		for _, e := range x {
			fixBools(e)
		}
	}
}

// handleEventsAPI records a channel event and only then acknowledges it. If
// recording fails, the envelope stays unacknowledged and Slack redelivers.
func (a *Adapter) handleEventsAPI(ctx context.Context, mux *bot.Mux, evt socketmode.Event) {
	ev, _ := evt.Data.(slackevents.EventsAPIEvent)
	cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	if home, isHome := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); isHome {
		a.ack(evt.Request, nil) // the home is read-only: nothing to record first
		if home.Tab == "home" {
			v := bot.Visitor{Platform: bot.PlatformSlack, User: bot.User{ID: home.User}, Time: a.clock.Now()}
			a.later(ctx, func(ctx context.Context) { a.publishHome(ctx, v, mux.Home(ctx, v)) })
		}
		return
	}
	act, q, ok := a.translate(ev.InnerEvent.Data, eventID)
	act.Text, act.PrevText = unescape(act.Text), unescape(act.PrevText)
	if q != nil {
		q.Text = unescape(q.Text)
	}
	if q != nil {
		a.ack(evt.Request, nil) // a question writes nothing; its answer may be slow
		a.later(ctx, func(ctx context.Context) {
			if resp := mux.Ask(ctx, *q); resp != nil {
				a.answer(ctx, *q, resp)
			}
		})
		return
	}
	if ok {
		if err := mux.Activity(ctx, act); err != nil {
			a.log.Error().Err(err).Str("event", eventID).Msg("recording a slack event; leaving it unacknowledged for redelivery")
			return
		}
	}
	a.ack(evt.Request, nil)
}

// answer replies to a question in its thread, or in the DM.
func (a *Adapter) answer(ctx context.Context, q bot.Question, resp *bot.Response) {
	opts := msgOptions(resp.Message)
	if !q.Direct && q.Ref.ID != "" {
		opts = append(opts, slack.MsgOptionTS(q.Ref.ID))
	}
	if err := a.postReply(ctx, q.Channel.ID, opts...); err != nil {
		a.log.Warn().Err(err).Msg("answering a question")
	}
}

// ts turns a Slack timestamp ("1700000000.000100") into a time; a
// malformed one gives the zero time.
func ts(s string) time.Time {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	frac = (frac + "000000")[:6]
	micros, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(secs, micros*1000).UTC()
}

// publishHome shows sections on v's App Home tab.
func (a *Adapter) publishHome(ctx context.Context, v bot.Visitor, sections []bot.Message) {
	err := a.callWaiting(ctx, "views.publish", "", "publish the home tab", func() error {
		_, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: v.User.ID, View: homeView(sections, v.Time)})
		return err
	})
	if err != nil {
		a.log.Warn().Err(err).Str("user", v.User.ID).Msg("publishing the App Home")
	}
}
