// Package slack connects klaxon to Slack through Socket Mode. It translates
// Slack's envelopes into bot Requests, Actions, Submissions, Questions and
// Activities once, at the edge, and renders bot Messages and Forms as Block
// Kit. It holds no incident logic.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/klaxon-bot/klaxon/bot"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Config is what the adapter needs to connect.
type Config struct {
	AppToken string // xapp-…, for Socket Mode
	BotToken string // xoxb-…, for the Web API
	APIURL   string // default DefaultAPIURL
	Log      zerolog.Logger
	Clock    bot.Clock
	// HTTPClient is used for Web API calls and response_urls; nil means a
	// client with a 30 s timeout.
	HTTPClient *http.Client
	// UserGroups are the handles of the on-call user groups klaxon keeps,
	// for the start-up check.
	UserGroups []string
}

// Adapter is klaxon's Slack connection: a bot.Chat and a Socket Mode loop.
type Adapter struct {
	api      *slack.Client
	socket   *socketmode.Client
	http     *http.Client
	apiURL   string
	botToken string
	log      zerolog.Logger
	clock    bot.Clock

	botUserID string // klaxon's own user, from auth.test
	botID     string
	connected atomic.Bool
	ackq      chan pendingAck // sent in order by Run's acker
	ackMu     sync.Mutex
	acks      context.Context // cancelled while no connection can send acknowledgements
	ackCancel context.CancelFunc
	// everConnected and reconnects count connections after the first.
	everConnected atomic.Bool
	reconnects    atomic.Uint64
	work          bot.Inflight // slow work started after an ack
	acted         acted        // commands and interactions acted on, for Slack's redeliveries
	gate          *gate        // Retry-After windows and post pacing, shared by every caller
	problems      atomic.Value // []string: what the start-up check found missing

	userGroups []string // handles, for the start-up check
	groupsMu   sync.Mutex
	groups     map[string]userGroup // by handle, as last seen

	// topics are the topics klaxon last set, by channel: setting the same
	// one again costs no call to a Tier 2 method (20 a minute), which a
	// storm of declarations would wait for.
	topicsMu sync.Mutex
	topics   map[string]string
}

var _ bot.Chat = (*Adapter)(nil)

// New builds an adapter. It does not connect; Run does.
func New(cfg Config) *Adapter {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: bot.Transport()}
	}
	if cfg.Clock == nil {
		cfg.Clock = bot.SystemClock{}
	}
	log := cfg.Log.With().Str("platform", "slack").Logger()
	// No retries inside slack-go: a 429 closes the method to every caller
	// for its Retry-After (gate), and the outbox tries the job again then.
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient),
		slack.OptionLog(zerologAdapter{log}),
	)
	clock := cfg.Clock
	return &Adapter{acks: context.Background(), ackq: make(chan pendingAck, 4096), gate: newGate(clock.Now),
		api:    api,
		socket: socketmode.New(api, socketmode.OptionLog(zerologAdapter{log})),
		http:   cfg.HTTPClient,
		apiURL: cfg.APIURL, botToken: cfg.BotToken,
		userGroups: cfg.UserGroups, groups: map[string]userGroup{},
		log:   log,
		clock: cfg.Clock,
	}
}

// Connected reports whether the Socket Mode connection is up.
func (a *Adapter) Connected() bool { return a.connected.Load() }

// Reconnects counts how often the connection was re-established.
func (a *Adapter) Reconnects() uint64 { return a.reconnects.Load() }

// Platform implements bot.Chat.
func (a *Adapter) Platform() bot.Platform { return bot.PlatformSlack }

// apiError turns a Slack error into a bot error whose message is safe to
// show (Slack's error codes name no secrets) and whose code says whether
// trying again can help: a refusal (ok:false, a 4xx) is EREFUSED or
// ENOTFOUND; a 429, a 5xx, Slack's own failures and an unreachable Slack
// are EUNAVAILABLE, with Slack's Retry-After.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Slack asked klaxon to slow down when it tried to %s", op), Err: err, RetryAfter: rl.RetryAfter}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		code := bot.EREFUSED
		switch se.Err {
		case "channel_not_found", "message_not_found", "user_not_found":
			code = bot.ENOTFOUND
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			code = bot.EUNAVAILABLE
		}
		return &bot.Error{Code: code, Message: fmt.Sprintf("Slack refused to %s (%s)", op, se.Err), Err: err}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code < 500 {
		return &bot.Error{Code: bot.EREFUSED, Message: fmt.Sprintf("Slack refused to %s (%s)", op, sc.Status), Err: err}
	}
	return &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Slack did not answer when klaxon tried to %s", op), Err: err}
}

// call runs one Web API method for the outbox: not inside a Retry-After
// window any caller was given, and recording the window a 429 opens.
func (a *Adapter) call(method, channel, op string, fn func() error) error {
	at, err := a.gate.enter(method, channel)
	if err != nil {
		return err
	}
	return a.counted(method, at, apiError(op, fn()))
}

// counted tells the gate how a call made at at went: a 429's Retry-After
// holds every caller of method; a call Slack never served (refused, 5xx,
// timed out) does not count toward its tier.
func (a *Adapter) counted(method string, at time.Time, err error) error {
	switch ok, after := bot.Transient(err); {
	case ok && after > 0:
		a.gate.limited(method, after)
	case ok:
		a.gate.unreached(method, at)
	}
	return err
}

func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// CreateChannel implements bot.Chat.
func (a *Adapter) CreateChannel(ctx context.Context, spec bot.ChannelSpec) (bot.ChannelRef, error) {
	var ch *slack.Channel
	err := a.call("conversations.create", "", "create #"+spec.Name, func() (err error) {
		ch, err = a.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: spec.Name, IsPrivate: spec.Private})
		return err
	})
	if slackCode(err) == "name_taken" {
		return bot.ChannelRef{}, fmt.Errorf("slack: #%s: %w", spec.Name, bot.ErrNameTaken)
	}
	if err != nil {
		return bot.ChannelRef{}, err
	}
	ref := bot.ChannelRef{ID: ch.ID, Name: ch.Name}
	// The channel exists now; a failure to describe it is logged, not fatal.
	if spec.Topic != "" {
		if err := a.SetTopic(ctx, ch.ID, spec.Topic); err != nil {
			a.log.Debug().Err(err).Str("channel", ch.ID).Msg("setting the topic of a new channel; the outbox sets it again")
		}
	}
	if spec.Purpose != "" {
		err := a.call("conversations.setPurpose", "", "set the channel purpose", func() error {
			_, err := a.api.SetPurposeOfConversationContext(ctx, ch.ID, bot.Cut(spec.Purpose, 250))
			return err
		})
		if err != nil {
			a.log.Warn().Err(err).Str("channel", ch.ID).Msg("setting the purpose of a new channel")
		}
	}
	return ref, nil
}

// Invite implements bot.Chat. It invites one user at a time so one member
// already present does not stop the others.
func (a *Adapter) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	var errs []error
	for _, u := range userIDs {
		if u == "" || u == a.botUserID {
			continue
		}
		err := a.call("conversations.invite", "", "invite <@"+u+">", func() error {
			_, err := a.api.InviteUsersToConversationContext(ctx, channelID, u)
			return err
		})
		switch slackCode(err) {
		case "already_in_channel", "cant_invite_self":
			err = nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Archive implements bot.Archiver with conversations.archive; a channel
// archived already is done.
func (a *Adapter) Archive(ctx context.Context, channelID string) error {
	err := a.call("conversations.archive", "", "archive the incident channel", func() error {
		return a.api.ArchiveConversationContext(ctx, channelID)
	})
	if slackCode(err) == "already_archived" {
		err = nil
	}
	if err == nil {
		a.topicsMu.Lock()
		delete(a.topics, channelID) // only open channels' topics are kept
		a.topicsMu.Unlock()
	}
	return err
}

// SetTopic implements bot.Chat. Slack topics hold 250 characters.
func (a *Adapter) SetTopic(ctx context.Context, channelID, topic string) error {
	topic = bot.Cut(topic, 250)
	a.topicsMu.Lock()
	same := a.topics[channelID] == topic
	a.topicsMu.Unlock()
	if same {
		return nil // klaxon set this very topic, and Slack took it
	}
	err := a.call("conversations.setTopic", "", "set the channel topic", func() error {
		_, err := a.api.SetTopicOfConversationContext(ctx, channelID, topic)
		return err
	})
	a.topicsMu.Lock()
	defer a.topicsMu.Unlock()
	if a.topics == nil {
		a.topics = map[string]string{}
	}
	if err == nil {
		a.topics[channelID] = topic
	} else {
		delete(a.topics, channelID)
	}
	return err
}

// callWaiting runs one Web API method for a reply to a person: it waits
// out any Retry-After window or post pacing first (ctx permitting), then
// records the window a 429 opens.
func (a *Adapter) callWaiting(ctx context.Context, method, channel, op string, fn func() error) error {
	at, err := a.gate.await(ctx, method, channel)
	if err != nil {
		return apiError(op, err)
	}
	return a.counted(method, at, apiError(op, fn()))
}

// postReply posts a reply to a person, waiting its turn.
func (a *Adapter) postReply(ctx context.Context, channelID string, opts ...slack.MsgOption) error {
	return a.callWaiting(ctx, "chat.postMessage", channelID, "reply", func() error {
		_, _, err := a.api.PostMessageContext(ctx, channelID, opts...)
		return err
	})
}

// Post implements bot.Chat. A message with a nonce carries it in its
// metadata, where FindPost looks for it.
func (a *Adapter) Post(ctx context.Context, channelID string, m bot.Message) (bot.MessageRef, error) {
	var ref bot.MessageRef
	err := a.call("chat.postMessage", channelID, "post a message", func() error {
		ch, ts, err := a.api.PostMessageContext(ctx, channelID, msgOptions(m)...)
		ref = bot.MessageRef{Channel: ch, ID: ts}
		return err
	})
	return ref, err
}

// Update implements bot.Chat.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	return a.call("chat.update", "", "update a message", func() error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, msgOptions(m)...)
		return err
	})
}

// Pin implements bot.Chat. Pinning a pinned message is not an error.
func (a *Adapter) Pin(ctx context.Context, ref bot.MessageRef) error {
	err := a.call("pins.add", "", "pin a message", func() error {
		return a.api.AddPinContext(ctx, ref.Channel, slack.NewRefToMessage(ref.Channel, ref.ID))
	})
	if slackCode(err) == "already_pinned" {
		return nil
	}
	return err
}

// DM implements bot.Chat.
func (a *Adapter) DM(ctx context.Context, userID string, m bot.Message) (bot.MessageRef, error) {
	ch, err := a.openDM(ctx, userID)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return a.Post(ctx, ch, m)
}

func (a *Adapter) openDM(ctx context.Context, userID string) (string, error) {
	var id string
	err := a.call("conversations.open", "", "open a DM with <@"+userID+">", func() error {
		ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
		if ch != nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}

// nonceEvent is the metadata event type of klaxon's outbox posts.
const nonceEvent = "klaxon_job"

// historyLimit is the most conversations.history returns to apps outside
// the Marketplace ("limit ... maximum of 15", since 2025-05-29).
const historyLimit = 15

// FindPost implements bot.Chat: klaxon's latest messages in the channel,
// looked through for the nonce in their metadata.
func (a *Adapter) FindPost(ctx context.Context, channelID, nonce string) (bot.MessageRef, bool, error) {
	if nonce == "" {
		return bot.MessageRef{}, false, nil
	}
	var found bot.MessageRef
	err := a.call("conversations.history", "", "read the channel's latest messages", func() error {
		h, err := a.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channelID, Limit: historyLimit, IncludeAllMetadata: true})
		if err != nil {
			return err
		}
		for _, m := range h.Messages {
			if m.Metadata.EventType == nonceEvent && m.Metadata.EventPayload["job"] == nonce {
				found = bot.MessageRef{Channel: channelID, ID: m.Timestamp}
				break
			}
		}
		return nil
	})
	return found, found.ID != "", err
}

// FindChannel implements bot.Chat: a channel of that name klaxon's bot
// user created.
func (a *Adapter) FindChannel(ctx context.Context, name, incidentKey string) (bot.ChannelRef, bool, error) {
	cursor := ""
	for {
		var chans []slack.Channel
		err := a.call("conversations.list", "", "list channels", func() (err error) {
			chans, cursor, err = a.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: cursor, Limit: 1000,
				ExcludeArchived: true, Types: []string{"public_channel", "private_channel"}})
			return err
		})
		if err != nil {
			return bot.ChannelRef{}, false, err
		}
		for _, c := range chans {
			if c.Name == name && c.Creator == a.botUserID {
				return bot.ChannelRef{ID: c.ID, Name: c.Name}, true, nil
			}
		}
		if cursor == "" {
			return bot.ChannelRef{}, false, nil
		}
	}
}

// Upload implements bot.Chat with Slack's external upload (three calls:
// get an upload URL, send the bytes, complete into the channel).
func (a *Adapter) Upload(ctx context.Context, channelID string, f bot.File) (bot.MessageRef, error) {
	var ref bot.MessageRef
	err := a.call("files.getUploadURLExternal", "", "upload "+f.Name, func() error {
		sum, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{Channel: channelID, Filename: f.Name, Title: f.Name,
			FileSize: len(f.Content), Reader: bytes.NewReader(f.Content), InitialComment: f.Comment})
		if sum != nil {
			ref = bot.MessageRef{Channel: channelID, ID: sum.ID}
		}
		return err
	})
	return ref, err
}

// OpenForm implements bot.Chat with a modal.
func (a *Adapter) OpenForm(ctx context.Context, trigger string, f bot.Form) error {
	if trigger == "" {
		return bot.Errorf(bot.EUNSUPPORTED, "A form needs a click or a command to open from.")
	}
	v, err := modal(f)
	if err != nil {
		return err
	}
	return a.call("views.open", "", "open a form", func() error {
		_, err := a.api.OpenViewContext(ctx, trigger, v)
		return err
	})
}

// zerologAdapter lets slack-go log through zerolog, at debug level: the
// adapter logs what matters itself.
type zerologAdapter struct{ log zerolog.Logger }

func (z zerologAdapter) Output(_ int, s string) error {
	z.log.Debug().Msg(strings.TrimSpace(s))
	return nil
}
