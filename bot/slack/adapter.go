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
	problems      atomic.Value // []string: what the start-up check found missing
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
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Clock == nil {
		cfg.Clock = bot.SystemClock{}
	}
	log := cfg.Log.With().Str("platform", "slack").Logger()
	retry := slack.DefaultRetryConfig()
	retry.MaxRetries = 8 // 429s only: Slack did not act on the call, so retrying is safe
	retry.RetryAfterJitter = 250 * time.Millisecond
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient),
		slack.OptionRetryConfig(retry),
		slack.OptionLog(zerologAdapter{log}),
	)
	return &Adapter{acks: context.Background(), ackq: make(chan pendingAck, 4096),
		api:    api,
		socket: socketmode.New(api, socketmode.OptionLog(zerologAdapter{log})),
		http:   cfg.HTTPClient,
		apiURL: cfg.APIURL, botToken: cfg.BotToken,
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
// show: Slack's error codes name no secrets.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		code := bot.EUNAVAILABLE
		if se.Err == "channel_not_found" || se.Err == "message_not_found" || se.Err == "user_not_found" {
			code = bot.ENOTFOUND
		}
		return &bot.Error{Code: code, Message: fmt.Sprintf("Slack refused to %s (%s)", op, se.Err), Err: err}
	}
	return &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Slack did not answer when klaxon tried to %s", op), Err: err}
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
	ch, err := a.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: spec.Name, IsPrivate: spec.Private})
	if slackCode(err) == "name_taken" {
		return bot.ChannelRef{}, fmt.Errorf("slack: #%s: %w", spec.Name, bot.ErrNameTaken)
	}
	if err != nil {
		return bot.ChannelRef{}, apiError("create #"+spec.Name, err)
	}
	ref := bot.ChannelRef{ID: ch.ID, Name: ch.Name}
	// The channel exists now; a failure to describe it is logged, not fatal.
	if spec.Topic != "" {
		if err := a.SetTopic(ctx, ch.ID, spec.Topic); err != nil {
			a.log.Warn().Err(err).Str("channel", ch.ID).Msg("setting the topic of a new channel")
		}
	}
	if spec.Purpose != "" {
		if _, err := a.api.SetPurposeOfConversationContext(ctx, ch.ID, cut(spec.Purpose, 250)); err != nil {
			a.log.Warn().Err(apiError("set the channel purpose", err)).Str("channel", ch.ID).Msg("setting the purpose of a new channel")
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
		_, err := a.api.InviteUsersToConversationContext(ctx, channelID, u)
		switch slackCode(err) {
		case "already_in_channel", "cant_invite_self":
			err = nil
		}
		if err != nil {
			errs = append(errs, apiError("invite <@"+u+">", err))
		}
	}
	return errors.Join(errs...)
}

// SetTopic implements bot.Chat. Slack topics hold 250 characters.
func (a *Adapter) SetTopic(ctx context.Context, channelID, topic string) error {
	_, err := a.api.SetTopicOfConversationContext(ctx, channelID, cut(topic, 250))
	return apiError("set the channel topic", err)
}

// Post implements bot.Chat.
func (a *Adapter) Post(ctx context.Context, channelID string, m bot.Message) (bot.MessageRef, error) {
	ch, ts, err := a.api.PostMessageContext(ctx, channelID, msgOptions(m)...)
	if err != nil {
		return bot.MessageRef{}, apiError("post a message", err)
	}
	return bot.MessageRef{Channel: ch, ID: ts}, nil
}

// Update implements bot.Chat.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	_, _, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, msgOptions(m)...)
	return apiError("update a message", err)
}

// Pin implements bot.Chat. Pinning a pinned message is not an error.
func (a *Adapter) Pin(ctx context.Context, ref bot.MessageRef) error {
	err := a.api.AddPinContext(ctx, ref.Channel, slack.NewRefToMessage(ref.Channel, ref.ID))
	if slackCode(err) == "already_pinned" {
		return nil
	}
	return apiError("pin a message", err)
}

// DM implements bot.Chat.
func (a *Adapter) DM(ctx context.Context, userID string, m bot.Message) (bot.MessageRef, error) {
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return bot.MessageRef{}, apiError("open a DM with <@"+userID+">", err)
	}
	return a.Post(ctx, ch.ID, m)
}

// Upload implements bot.Chat with Slack's external upload (three calls:
// get an upload URL, send the bytes, complete into the channel).
func (a *Adapter) Upload(ctx context.Context, channelID string, f bot.File) (bot.MessageRef, error) {
	sum, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{Channel: channelID, Filename: f.Name, Title: f.Name,
		FileSize: len(f.Content), Reader: bytes.NewReader(f.Content), InitialComment: f.Comment})
	if err != nil {
		return bot.MessageRef{}, apiError("upload "+f.Name, err)
	}
	return bot.MessageRef{Channel: channelID, ID: sum.ID}, nil
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
	_, err = a.api.OpenViewContext(ctx, trigger, v)
	return apiError("open a form", err)
}

// zerologAdapter lets slack-go log through zerolog, at debug level: the
// adapter logs what matters itself.
type zerologAdapter struct{ log zerolog.Logger }

func (z zerologAdapter) Output(_ int, s string) error {
	z.log.Debug().Msg(strings.TrimSpace(s))
	return nil
}
