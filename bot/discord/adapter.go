// Package discord connects klaxon to Discord through the gateway and REST
// API, with the same features as Slack: slash commands, modals, buttons, a
// message context-menu command, and the timeline of incident channels. It
// translates Discord's payloads into bot types once, at the edge, and
// holds no incident logic.
package discord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// APIVersion is the version of Discord's API klaxon speaks: v10, the
// current one and the one Discord's published API description covers.
// discordgo defaults to v9. Its gateway URL reads discordgo.APIVersion when
// it connects, so init sets it; its REST endpoints were built with v9 when
// it loaded, and rewrite sends every one of them to Config.APIURL, which
// names v10.
const APIVersion = "10"

func init() { discordgo.APIVersion = APIVersion }

// Defaults.
const (
	DefaultAPIURL     = "https://discord.com/api/v" + APIVersion + "/"
	DefaultGatewayURL = "wss://gateway.discord.gg"
)

// Intents klaxon needs. Without MESSAGE_CONTENT (a privileged intent, to be
// enabled in the developer portal) messages arrive without their text.
// Direct Message Reactions lets people acknowledge a page DM with ✅.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsGuildMessageReactions |
	discordgo.IntentsDirectMessages | discordgo.IntentsDirectMessageReactions | discordgo.IntentsMessageContent

// Config is what the adapter needs.
type Config struct {
	Token         string
	ApplicationID string
	GuildID       string
	APIURL        string // REST base; default DefaultAPIURL
	GatewayURL    string // default DefaultGatewayURL
	CategoryID    string // where incident channels go
	// ArchiveCategoryID is where closed incidents' channels go when
	// archived; empty: they are locked where they are.
	ArchiveCategoryID string
	Severities        bot.Severities
	Services          bot.Services // offered as autocomplete
	Schedules         []string     // schedule ids, offered as autocomplete
	Roles             []string     // ids of the on-call roles klaxon keeps, for the start-up check
	Log               zerolog.Logger
	Clock             bot.Clock
}

// Adapter is klaxon's Discord connection: a bot.Chat and the gateway loop.
type Adapter struct {
	s     *discordgo.Session
	cfg   Config
	log   zerolog.Logger
	clock bot.Clock

	connected atomic.Bool
	// everConnected and reconnects count connections after the first.
	everConnected atomic.Bool
	reconnects    atomic.Uint64
	botUser       atomic.Value // string: klaxon's own user id, from READY
	work          bot.Inflight

	// held is klaxon's permissions where it creates incident channels, from
	// the check at connection; problems is what that check found missing.
	held     atomic.Int64
	problems atomic.Value // []string

	mu      sync.Mutex
	pending map[string]*pendingInteraction // by interaction id (the form trigger)
	ownPins map[string]int                 // channel → pins klaxon made whose CHANNEL_PINS_UPDATE is still to come
	threads map[string]string              // thread id → the channel it belongs to
}

var _ bot.Chat = (*Adapter)(nil)

// New builds an adapter; Run connects it.
func New(cfg Config) (*Adapter, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.GatewayURL == "" {
		cfg.GatewayURL = DefaultGatewayURL
	}
	if cfg.Clock == nil {
		cfg.Clock = bot.SystemClock{}
	}
	if len(cfg.Severities) == 0 {
		cfg.Severities = bot.DefaultSeverities()
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Identify.Intents = Intents
	s.SyncEvents = true // one event at a time, in order: each is recorded before the next is read
	s.StateEnabled = false
	s.ShouldRetryOnRateLimit = true
	s.MaxRestRetries = 5
	s.Client = &http.Client{Timeout: 30 * time.Second, Transport: &rewrite{api: cfg.APIURL, gateway: cfg.GatewayURL, next: bot.Transport()}}
	log := cfg.Log.With().Str("platform", "discord").Logger()
	s.LogLevel = discordgo.LogWarning
	a := &Adapter{s: s, cfg: cfg, log: log, clock: cfg.Clock, pending: map[string]*pendingInteraction{},
		ownPins: map[string]int{}, threads: map[string]string{}}
	a.held.Store(botPerms &^ PermissionPinMessages) // until the check says more: what every invite URL granted
	return a, nil
}

// rewrite sends Discord-bound requests to the configured REST base (a proxy
// or a test fake) and answers the gateway lookup with the configured
// gateway, without touching discordgo's package-level endpoints.
type rewrite struct {
	api, gateway string
	next         http.RoundTripper
}

func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	if !strings.HasPrefix(u, discordgo.EndpointAPI) {
		return r.next.RoundTrip(req)
	}
	rest := strings.TrimPrefix(u, discordgo.EndpointAPI)
	if rest == "gateway" || rest == "gateway/bot" {
		body := fmt.Sprintf(`{"url":%q}`, r.gateway)
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
	}
	out := req.Clone(req.Context())
	target, err := req.URL.Parse(r.api + rest)
	if err != nil {
		return nil, err
	}
	out.URL, out.Host = target, target.Host
	return r.next.RoundTrip(out)
}

// Connected reports whether the gateway connection is up.
func (a *Adapter) Connected() bool { return a.connected.Load() }

// Reconnects counts how often the connection was re-established.
func (a *Adapter) Reconnects() uint64 { return a.reconnects.Load() }

// Platform implements bot.Chat.
func (a *Adapter) Platform() bot.Platform { return bot.PlatformDiscord }

func (a *Adapter) opt(ctx context.Context) discordgo.RequestOption { return discordgo.WithContext(ctx) }

// apiError turns a REST error into a bot error safe to show, whose code
// says whether trying again can help: a 4xx other than 429 is EREFUSED (or
// ENOTFOUND), a 5xx, a 429 discordgo gave up on and an unreachable Discord
// are EUNAVAILABLE.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil {
		return &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Discord asked klaxon to slow down when it tried to %s", op), Err: err, RetryAfter: rl.RetryAfter}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		code := bot.EREFUSED
		msg := ""
		if re.Message != nil {
			msg = re.Message.Message
			if re.Message.Code == discordgo.ErrCodeUnknownChannel || re.Message.Code == discordgo.ErrCodeUnknownMessage {
				code = bot.ENOTFOUND
			}
		}
		if re.Response != nil {
			switch st := re.Response.StatusCode; {
			case st == http.StatusNotFound:
				code = bot.ENOTFOUND
			case st == http.StatusTooManyRequests || st >= 500:
				code = bot.EUNAVAILABLE
			}
		}
		return &bot.Error{Code: code, Message: fmt.Sprintf("Discord refused to %s (%s)", op, msg), Err: err}
	}
	return &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Discord did not answer when klaxon tried to %s", op), Err: err}
}

// Permissions given to responders in an incident channel.
const responderPerms = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory |
	discordgo.PermissionAddReactions | discordgo.PermissionAttachFiles

// botPerms lets klaxon itself work in a private incident channel.
const botPerms = responderPerms | PermissionPinMessages | discordgo.PermissionManageChannels | discordgo.PermissionEmbedLinks

// InvitePermissions is what klaxon asks for when it is invited to a server:
// its channel permissions, plus Manage Roles to set permission overwrites.
// The README's invite URL uses this number; a test keeps them equal.
const InvitePermissions = botPerms | discordgo.PermissionManageRoles

// CreateChannel implements bot.Chat. Discord allows duplicate names, so the
// adapter refuses a name already used in the guild, as Slack does.
func (a *Adapter) CreateChannel(ctx context.Context, spec bot.ChannelSpec) (bot.ChannelRef, error) {
	existing, err := a.s.GuildChannels(a.cfg.GuildID, a.opt(ctx))
	if err != nil {
		return bot.ChannelRef{}, apiError("list the server's channels", err)
	}
	for _, c := range existing {
		if c.Name == spec.Name {
			return bot.ChannelRef{}, fmt.Errorf("discord: #%s: %w", spec.Name, bot.ErrNameTaken)
		}
	}
	data := discordgo.GuildChannelCreateData{Name: spec.Name, Type: discordgo.ChannelTypeGuildText, Topic: bot.Cut(spec.Topic, 1024), ParentID: a.cfg.CategoryID}
	if spec.Private {
		data.PermissionOverwrites = []*discordgo.PermissionOverwrite{
			{ID: a.cfg.GuildID, Type: discordgo.PermissionOverwriteTypeRole, Deny: discordgo.PermissionViewChannel}, // @everyone
		}
		// Discord refuses an overwrite that grants a bit klaxon does not
		// hold, so on servers invited with an older URL klaxon grants
		// itself only what it has.
		if me := a.botUserID(); me != "" {
			data.PermissionOverwrites = append(data.PermissionOverwrites, &discordgo.PermissionOverwrite{ID: me, Type: discordgo.PermissionOverwriteTypeMember, Allow: botPerms & a.held.Load()})
		}
	}
	ch, err := a.s.GuildChannelCreateComplex(a.cfg.GuildID, data, a.opt(ctx))
	if err != nil {
		return bot.ChannelRef{}, apiError("create #"+spec.Name, err)
	}
	return bot.ChannelRef{ID: ch.ID, Name: ch.Name}, nil
}

// Invite implements bot.Chat: responders get a permission overwrite, which
// is what makes a private channel visible to them.
func (a *Adapter) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	var errs []error
	for _, u := range userIDs {
		if u == "" || u == a.botUserID() {
			continue
		}
		if err := a.s.ChannelPermissionSet(channelID, u, discordgo.PermissionOverwriteTypeMember, responderPerms, 0, a.opt(ctx)); err != nil {
			errs = append(errs, apiError("give <@"+u+"> access", err))
		}
	}
	return errors.Join(errs...)
}

func (a *Adapter) botUserID() string {
	id, _ := a.botUser.Load().(string)
	return id
}

// archiveLock is what archiving takes from everyone in the channel:
// posting and reacting (klaxon's role holds both, so it may deny them).
const archiveLock = discordgo.PermissionSendMessages | discordgo.PermissionAddReactions

// Archive implements bot.Archiver: Discord has no archived channels, so
// the channel becomes read-only (@everyone's overwrite gains the denials,
// keeping what it had, such as a private channel's hidden view) and moves
// into the archive category when one is configured. Each step is skipped
// when done, so a retry picks up where an attempt stopped.
func (a *Adapter) Archive(ctx context.Context, channelID string) error {
	ch, err := a.s.Channel(channelID, a.opt(ctx))
	if err != nil {
		return apiError("read the incident channel", err)
	}
	var allow, deny int64
	for _, o := range ch.PermissionOverwrites {
		if o.ID == a.cfg.GuildID && o.Type == discordgo.PermissionOverwriteTypeRole {
			allow, deny = o.Allow, o.Deny
		}
	}
	if deny&archiveLock != archiveLock {
		err := a.s.ChannelPermissionSet(channelID, a.cfg.GuildID, discordgo.PermissionOverwriteTypeRole, allow&^archiveLock, deny|archiveLock, a.opt(ctx))
		if err != nil {
			return apiError("make the incident channel read-only", err)
		}
	}
	if cat := a.cfg.ArchiveCategoryID; cat != "" && ch.ParentID != cat {
		if _, err := a.s.ChannelEdit(channelID, &discordgo.ChannelEdit{ParentID: cat}, a.opt(ctx)); err != nil {
			return apiError("move the incident channel into the archive category", err)
		}
	}
	return nil
}

// SetTopic implements bot.Chat.
func (a *Adapter) SetTopic(ctx context.Context, channelID, topic string) error {
	_, err := a.s.ChannelEdit(channelID, &discordgo.ChannelEdit{Topic: bot.Cut(topic, 1024)}, a.opt(ctx))
	return apiError("set the channel topic", err)
}

// Post implements bot.Chat. A message with a nonce is sent with
// enforce_nonce, so Discord answers a second post with the same nonce with
// the message the first one made ("checked for uniqueness in the past few
// minutes").
func (a *Adapter) Post(ctx context.Context, channelID string, m bot.Message) (bot.MessageRef, error) {
	send := messageSend(m)
	if m.Nonce == "" {
		msg, err := a.s.ChannelMessageSendComplex(channelID, send, a.opt(ctx))
		if err != nil {
			return bot.MessageRef{}, apiError("post a message", err)
		}
		return bot.MessageRef{Channel: msg.ChannelID, ID: msg.ID}, nil
	}
	body := struct {
		*discordgo.MessageSend
		Nonce        string `json:"nonce"`
		EnforceNonce bool   `json:"enforce_nonce"`
	}{send, nonce(m.Nonce), true}
	endpoint := discordgo.EndpointChannelMessages(channelID)
	raw, err := a.s.RequestWithBucketID("POST", endpoint, body, endpoint, a.opt(ctx))
	if err != nil {
		return bot.MessageRef{}, apiError("post a message", err)
	}
	var msg discordgo.Message
	if err := json.Unmarshal(raw, &msg); err != nil {
		return bot.MessageRef{}, apiError("post a message", err)
	}
	return bot.MessageRef{Channel: msg.ChannelID, ID: msg.ID}, nil
}

// nonce fits an outbox job's nonce into Discord's 25 characters.
func nonce(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:25]
}

// FindPost implements bot.Chat. Posts with a nonce are sent with
// enforce_nonce, so Discord itself answers a repeat with the first post.
func (a *Adapter) FindPost(ctx context.Context, channelID, nonce string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// FindChannel implements bot.Chat: a channel of that name whose topic
// klaxon set for the incident at creation.
func (a *Adapter) FindChannel(ctx context.Context, name, incidentKey string) (bot.ChannelRef, bool, error) {
	chans, err := a.s.GuildChannels(a.cfg.GuildID, a.opt(ctx))
	if err != nil {
		return bot.ChannelRef{}, false, apiError("list the server's channels", err)
	}
	for _, c := range chans {
		if c.Name == name && strings.HasPrefix(c.Topic, incidentKey+" ") {
			return bot.ChannelRef{ID: c.ID, Name: c.Name}, true, nil
		}
	}
	return bot.ChannelRef{}, false, nil
}

// Update implements bot.Chat.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	send := messageSend(m)
	content := send.Content
	edit := &discordgo.MessageEdit{ID: ref.ID, Channel: ref.Channel, Content: &content, Embeds: &send.Embeds, Components: &send.Components}
	_, err := a.s.ChannelMessageEditComplex(edit, a.opt(ctx))
	return apiError("update a message", err)
}

// Pin implements bot.Chat with the current route, PUT
// /channels/{id}/messages/pins/{message} (discordgo v0.29 knows only the
// deprecated /channels/{id}/pins/{message}). The pin's CHANNEL_PINS_UPDATE
// is klaxon's own, and not put on the timeline.
func (a *Adapter) Pin(ctx context.Context, ref bot.MessageRef) error {
	url := discordgo.EndpointChannel(ref.Channel) + "/messages/pins/" + ref.ID
	a.mu.Lock()
	a.ownPins[ref.Channel]++
	a.mu.Unlock()
	_, err := a.s.RequestWithBucketID("PUT", url, nil, discordgo.EndpointChannel(ref.Channel)+"/messages/pins/", a.opt(ctx))
	if err != nil {
		a.mu.Lock()
		a.ownPins[ref.Channel]--
		a.mu.Unlock()
	}
	return apiError("pin a message", err)
}

// ownPin reports whether a CHANNEL_PINS_UPDATE in channel is for a pin
// klaxon made, and counts it off.
func (a *Adapter) ownPin(channel string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ownPins[channel] > 0 {
		a.ownPins[channel]--
		return true
	}
	return false
}

// Upload implements bot.Chat with a message carrying the file.
func (a *Adapter) Upload(ctx context.Context, channelID string, f bot.File) (bot.MessageRef, error) {
	send := &discordgo.MessageSend{Content: bot.Cut(markdown(f.Comment), 2000),
		Files: []*discordgo.File{{Name: f.Name, ContentType: contentType(f.Name), Reader: bytes.NewReader(f.Content)}}}
	msg, err := a.s.ChannelMessageSendComplex(channelID, send, a.opt(ctx))
	if err != nil {
		return bot.MessageRef{}, apiError("upload "+f.Name, err)
	}
	return bot.MessageRef{Channel: msg.ChannelID, ID: msg.ID}, nil
}

// DM implements bot.Chat.
func (a *Adapter) DM(ctx context.Context, userID string, m bot.Message) (bot.MessageRef, error) {
	ch, err := a.s.UserChannelCreate(userID, a.opt(ctx))
	if err != nil {
		return bot.MessageRef{}, apiError("open a DM with <@"+userID+">", err)
	}
	return a.Post(ctx, ch.ID, m)
}

// contentType is an uploaded file's media type, by its extension.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".txt", ".log":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	case ".ics":
		return "text/calendar; charset=utf-8"
	}
	return "application/octet-stream"
}
