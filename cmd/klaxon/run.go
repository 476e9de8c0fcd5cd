package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	discordbot "github.com/klaxon-bot/klaxon/bot/discord"
	slackbot "github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/hooks"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/outbox"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/commands/tickets"
	"github.com/klaxon-bot/klaxon/store"
)

// Mode says which chat platforms the config connects to.
func (c *Config) Mode() string {
	var modes []string
	if c.Slack.BotToken != "" {
		modes = append(modes, "slack")
	}
	if c.Discord.Token != "" {
		modes = append(modes, "discord")
	}
	if len(modes) == 0 {
		return "console"
	}
	return strings.Join(modes, "+")
}

// Logger builds the process logger: JSON lines, or human-readable text on a
// terminal.
func (m *Main) Logger(cfg *Config) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Log.Level)
	// Several goroutines log; the writer may not be safe for that.
	out := zerolog.SyncWriter(m.Stderr)
	if cfg.Log.Format == "pretty" || (cfg.Log.Format == "auto" && m.LogIsTTY) {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05"}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// Run runs klaxon until ctx is cancelled or, in console mode, input ends.
// It returns only after in-flight work is finished and the store is closed.
func (m *Main) Run(ctx context.Context, cfg *Config, source string) error {
	log := m.Logger(cfg)
	s, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := s.Close(); err != nil {
			log.Error().Err(err).Msg("closing the store")
		}
	}()

	role := &atomic.Value{}
	role.Store(roleLeader) // on bbolt, the only replica; on PostgreSQL, lead decides
	var clock bot.Clock = bot.SystemClock{}
	if m.Clock != nil {
		clock = m.Clock
	}
	mux := bot.NewMux(log)
	wake := bot.NewWake()
	policy := cfg.commandsConfig()
	policy.Wake = wake
	var (
		chats []bot.Chat
		serve []func(ctx context.Context) error
	)
	var outbox *outbox.Outbox // set below; the console settles it after each line
	if cfg.Mode() == "console" {
		channels := []string{cfg.Console.Channel, cfg.Console.AnnounceChannel}
		for _, t := range cfg.Incidents.Types {
			if t.Announce.Console != "" {
				channels = append(channels, t.Announce.Console) // incident types' announcement channels
			}
		}
		con := console.New(m.Stdout, channels...)
		con.SaveFilesIn(filepath.Join(filepath.Dir(cfg.Store.Path), "files")) // postmortem drafts, next to the store
		chats = append(chats, con)
		session := &console.Session{Console: con, Mux: mux, Clock: clock, User: m.consoleUser(cfg),
			Channel: cfg.Console.Channel, Interactive: m.Interactive}
		// Each line's effects in chat show before the next prompt.
		session.Settle = func(ctx context.Context) { outbox.Drain(ctx) }
		serve = append(serve, func(ctx context.Context) error { return session.Run(ctx, m.Stdin) })
	}
	platforms, err := cfg.platforms(log, clock, policy)
	if err != nil {
		return err
	}
	// What only the leader does (one replica of several on PostgreSQL;
	// always, on bbolt): the scheduler, the outbox, housekeeping, and
	// Discord's gateway, which would deliver each event to every session.
	// Every replica serves HTTP and holds a Slack Socket Mode connection
	// (Slack spreads envelopes over them).
	var leaderWork []func(ctx context.Context) error
	for _, p := range platforms {
		chats = append(chats, p)
		run := func(ctx context.Context) error { return p.Run(ctx, mux) }
		if p.Platform() == bot.PlatformDiscord {
			leaderWork = append(leaderWork, run)
		} else {
			serve = append(serve, run)
		}
	}
	incidents := commands.New(s, chats, clock, log, policy)
	outbox = incidents.Outbox()
	oncall, err := oncall.New(ctx, s, clock, log, oncall.Config{Schedules: cfg.schedules(), People: policy.People,
		FeedTokens: cfg.feedTokens(), Handoffs: cfg.handoffs(), Chats: chats, Groups: cfg.groups(), Wake: wake})
	if err != nil {
		return err
	}
	pagingCfg := cfg.pagingConfig(chats, policy.People)
	pagingCfg.Wake = wake // a page triggered or acknowledged goes out at once, not at the next tick
	paging := paging.New(s, incidents, oncall, clock, log, pagingCfg)
	// Paging and hooks follow every committed change; the outbox sends
	// what they queue with it.
	incidents.Follow(paging)
	outbox.Handle(bot.OpPage, paging)
	outbox.Handle(bot.OpSetGroup, oncall) // on-call groups follow the schedules
	alertsCfg, sources, err := cfg.alertsConfig()
	if err != nil {
		return err
	}
	alerts := commands.NewAlerts(incidents, alertsCfg)
	beats, beatTokens, err := cfg.heartbeats()
	if err != nil {
		return err
	}
	hookCfg, err := cfg.hooks(&http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	if h := hooks.New(clock, log, hookCfg); h != nil {
		incidents.Follow(h)
		outbox.Handle(bot.OpHook, h)
	}
	trackers, err := cfg.trackers(&http.Client{Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	tk := tickets.New(s, clock, log, trackers, wake)
	if tk != nil {
		outbox.Handle(bot.OpTicket, tk)
		outbox.Handle(bot.OpTicketState, tk)
	}
	heartbeats := commands.NewHeartbeats(s, alerts, clock, log, beats)
	if err := heartbeats.Start(ctx); err != nil {
		return err
	}
	every := m.TickEvery
	if every <= 0 {
		every = time.Second
	}
	// The outbox runs on its own, pages first, so a slow or absent chat
	// platform never delays paging, reminders or hooks.
	leaderWork = append(leaderWork, func(ctx context.Context) error { return outbox.Run(ctx, outboxEvery) })
	leaderWork = append(leaderWork, func(ctx context.Context) error {
		return tick(ctx, clock, every, wake.TimersDue(), func(ctx context.Context, now time.Time) {
			oncall.Tick(ctx, now)
			paging.Tick(ctx, now)
			incidents.Tick(ctx, now)
			heartbeats.Tick(ctx, now)
		})
	})
	for name, src := range sources {
		if src.Open() {
			log.Warn().Str("source", name).Msg("alert source takes alerts without credentials (loopback listener only)")
		}
	}
	httpd, err := web.Listen(web.Config{Addr: cfg.HTTP.Listen, Feeds: oncall, Alerts: alerts,
		Sources: sources, Clock: clock, Log: log, Ready: ready(s, chats, role), Warnings: warnings(chats), Role: func() string { return role.Load().(string) }, Store: cfg.Store.Driver, Metrics: snapshotter(s, chats, destinations(chats, pagingCfg, hookCfg, trackers), clock), MetricsToken: cfg.HTTP.MetricsToken.Reveal(),
		Heartbeats: &web.Heartbeats{Pinger: heartbeats, Tokens: beatTokens},
		Status:     &web.Status{Title: cfg.Status.Title, PublicURL: cfg.Status.PublicURL, Page: statusPage(s, policy, clock), Reuse: 5 * time.Second},
		API:        &web.API{Records: s, OnCall: func(t time.Time) any { return oncall.Now(t) }, Token: cfg.API.Token.Reveal(), AdminToken: cfg.API.AdminToken.Reveal()}})
	if err != nil {
		return err
	}
	serve = append(serve, httpd.Serve)
	oncall.Register(mux) // first: its question handler answers on-call questions only
	incidents.Register(mux)
	paging.Register(mux)

	periodic, err := periodicJobs(s, cfg, log, clock, incidents)
	if err != nil {
		return err
	}
	leaderWork = append(leaderWork, periodic...)
	if tk != nil {
		// Tickets closed or reopened in their tracker close or reopen
		// their follow-ups.
		leaderWork = append(leaderWork, func(ctx context.Context) error { return syncTickets(ctx, clock, cfg.FollowUps.SyncEvery, tk) })
	}
	if l, ok := s.(interface {
		Listen(ctx context.Context, fn func()) error
	}); ok {
		// A page or job another replica commits wakes the leader at once.
		leaderWork = append(leaderWork, func(ctx context.Context) error {
			return l.Listen(ctx, wake.Committed)
		})
	}
	if l := leaseOf(s, cfg); l != nil {
		serve = append(serve, func(ctx context.Context) error {
			return lead(ctx, l, log, role, func(ctx context.Context) error { return runAll(ctx, leaderWork) })
		})
	} else {
		serve = append(serve, leaderWork...)
	}

	log.Info().Str("version", version).Str("config", source).Str("mode", cfg.Mode()).Str("store", cfg.storeName()).Msg("klaxon started")
	defer log.Info().Msg("klaxon stopped")
	return runAll(ctx, serve)
}

// platform is a chat platform's adapter: a bot.Chat that connects and
// checks its own installation.
type platform interface {
	bot.Chat
	bot.SelfChecker
	Run(ctx context.Context, mux *bot.Mux) error
}

// platforms builds the adapters of the chat platforms cfg configures,
// without connecting them.
func (c *Config) platforms(log zerolog.Logger, clock bot.Clock, policy commands.Config) ([]platform, error) {
	var out []platform
	if c.Slack.BotToken != "" {
		out = append(out, slackbot.New(slackbot.Config{AppToken: c.Slack.AppToken.Reveal(), BotToken: c.Slack.BotToken.Reveal(),
			APIURL: c.Slack.APIURL, UserGroups: c.groupNames(bot.PlatformSlack), Log: log, Clock: clock}))
	}
	if c.Discord.Token != "" {
		dc, err := discordbot.New(discordbot.Config{Token: c.Discord.Token.Reveal(), ApplicationID: c.Discord.ApplicationID,
			GuildID: c.Discord.GuildID, APIURL: c.Discord.APIURL, GatewayURL: c.Discord.GatewayURL, CategoryID: c.Discord.CategoryID, ArchiveCategoryID: c.Discord.ArchiveCategoryID,
			Severities: policy.Severities, Services: policy.Services, Schedules: c.scheduleIDs(), Roles: c.groupNames(bot.PlatformDiscord), Log: log, Clock: clock})
		if err != nil {
			return nil, err
		}
		out = append(out, dc)
	}
	return out, nil
}

// warnings lists what the chats' start-up checks found missing, for /readyz.
func warnings(chats []bot.Chat) func() []string {
	return func() []string {
		var out []string
		for _, c := range chats {
			if sc, ok := c.(bot.SelfChecker); ok {
				out = append(out, sc.Problems()...)
			}
		}
		return out
	}
}

// outboxEvery is how often the chat outbox looks for due jobs besides
// being poked: a job told to wait a moment (post pacing, Retry-After) runs
// about this soon after its time.
const outboxEvery = 100 * time.Millisecond

// ready is /readyz: the store takes writes and every chat is connected
// (on a standby, Discord's gateway is the leader's).
func ready(s store.Backend, chats []bot.Chat, role *atomic.Value) func() error {
	return func() error {
		if err := s.Ready(); err != nil {
			return err
		}
		for _, c := range chats {
			if c.Platform() == bot.PlatformDiscord && role.Load() != roleLeader {
				continue
			}
			if cc, ok := c.(interface{ Connected() bool }); ok && !cc.Connected() {
				return fmt.Errorf("%s is not connected", c.Platform())
			}
		}
		return nil
	}
}

// tick calls fn every interval, and at once when poked, until ctx ends:
// the on-call jobs work out from data what is due, so missed ticks are
// caught up.
func tick(ctx context.Context, clock bot.Clock, every time.Duration, woken <-chan struct{}, fn func(context.Context, time.Time)) error {
	t := clock.NewTicker(every)
	defer t.Stop()
	for {
		fn(ctx, clock.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		case <-woken:
		}
	}
}

// runAll runs every platform until ctx ends or one of them stops, then
// stops the others and waits for them. The first error wins.
func runAll(ctx context.Context, serve []func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(serve))
	for _, fn := range serve {
		go func() { errs <- fn(ctx) }()
	}
	var first error
	for range serve {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
		cancel() // one platform stopping (console input ended, a fatal error) stops klaxon
	}
	return first
}

// consoleUser is who types in console mode: console.user, else $USER, else
// "operator".
func (m *Main) consoleUser(cfg *Config) string {
	if cfg.Console.User != "" {
		return cfg.Console.User
	}
	if u := strings.ToLower(m.Getenv("USER")); u != "" {
		if _, ok := bot.ParseMention("@" + u); ok {
			return u
		}
	}
	return "operator"
}
