package main

import (
	"context"
	"strings"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	discordbot "github.com/klaxon-bot/klaxon/bot/discord"
	slackbot "github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/commands"
)

// chatPlatform is what cmd/klaxon knows of one chat platform: where its
// settings are in the configuration, and how its adapter is built. The
// console is the fallback when none is configured. A new platform is its
// adapter, its fake, its config block and one entry in chatPlatforms.
type chatPlatform struct {
	id bot.Platform
	// configured reports whether the config connects to the platform.
	configured func(c *Config) bool
	// announce is its announcement channel; typeAnnounce an incident
	// type's.
	announce     func(c *Config) string
	typeAnnounce func(t TypeConfig) string
	// userID is a person's id on it; group the group that follows a
	// schedule's on-call there (a Slack user group, a Discord role).
	userID func(p PersonConfig) string
	group  func(s ScheduleConfig) string
	// leaderOnly runs its connection on the leader replica only: Discord's
	// gateway would deliver each event to every session.
	leaderOnly bool
	build      func(c *Config, log zerolog.Logger, clock bot.Clock, policy commands.Config) (platform, error)
}

// chatPlatforms are the platforms klaxon speaks, in the order it prefers
// them (the first configured is where handoffs and alert incidents go
// unless configured otherwise). A function, as their builders read the
// config through functions that use the list.
func chatPlatforms() []chatPlatform {
	return []chatPlatform{
		{
			id:           bot.PlatformSlack,
			configured:   func(c *Config) bool { return c.Slack.BotToken != "" },
			announce:     func(c *Config) string { return c.Slack.AnnounceChannel },
			typeAnnounce: func(t TypeConfig) string { return t.Announce.Slack },
			userID:       func(p PersonConfig) string { return p.SlackID },
			group:        func(s ScheduleConfig) string { return strings.TrimPrefix(s.SlackUserGroup, "@") },
			build: func(c *Config, log zerolog.Logger, clock bot.Clock, _ commands.Config) (platform, error) {
				return slackbot.New(slackbot.Config{AppToken: c.Slack.AppToken.Reveal(), BotToken: c.Slack.BotToken.Reveal(),
					APIURL: c.Slack.APIURL, UserGroups: c.groupNames(bot.PlatformSlack), Log: log, Clock: clock}), nil
			},
		},
		{
			id:           bot.PlatformDiscord,
			configured:   func(c *Config) bool { return c.Discord.Token != "" },
			announce:     func(c *Config) string { return c.Discord.AnnounceChannel },
			typeAnnounce: func(t TypeConfig) string { return t.Announce.Discord },
			userID:       func(p PersonConfig) string { return p.DiscordID },
			group:        func(s ScheduleConfig) string { return s.DiscordRole },
			leaderOnly:   true,
			build: func(c *Config, log zerolog.Logger, clock bot.Clock, policy commands.Config) (platform, error) {
				return discordbot.New(discordbot.Config{Token: c.Discord.Token.Reveal(), ApplicationID: c.Discord.ApplicationID,
					GuildID: c.Discord.GuildID, APIURL: c.Discord.APIURL, GatewayURL: c.Discord.GatewayURL, CategoryID: c.Discord.CategoryID,
					ArchiveCategoryID: c.Discord.ArchiveCategoryID, Severities: policy.Severities, Services: policy.Services,
					Schedules: c.scheduleIDs(), Roles: c.groupNames(bot.PlatformDiscord), Log: log, Clock: clock})
			},
		},
	}
}

// connected are the chat platforms the config connects to.
func (c *Config) connected() []chatPlatform {
	var out []chatPlatform
	for _, p := range chatPlatforms() {
		if p.configured(c) {
			out = append(out, p)
		}
	}
	return out
}

// Mode says which chat platforms the config connects to: "slack",
// "slack+discord", or "console" when none.
func (c *Config) Mode() string {
	var modes []string
	for _, p := range c.connected() {
		modes = append(modes, string(p.id))
	}
	if len(modes) == 0 {
		return string(bot.PlatformConsole)
	}
	return strings.Join(modes, "+")
}

// platform is the chat platform klaxon speaks first: where schedule
// handoffs and alert incidents go unless configured otherwise.
func (c *Config) platform() bot.Platform {
	if ps := c.connected(); len(ps) > 0 {
		return ps[0].id
	}
	return bot.PlatformConsole
}

// knownPlatform reports whether p is a platform klaxon speaks.
func knownPlatform(p bot.Platform) bool {
	if p == bot.PlatformConsole {
		return true
	}
	for _, cp := range chatPlatforms() {
		if cp.id == p {
			return true
		}
	}
	return false
}

// platformNames lists every platform klaxon speaks, for error messages.
func platformNames() string {
	names := []string{}
	for _, p := range chatPlatforms() {
		names = append(names, string(p.id))
	}
	return strings.Join(append(names, string(bot.PlatformConsole)), ", ")
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
	for _, cp := range c.connected() {
		p, err := cp.build(c, log, clock, policy)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// leaderOnly reports whether platform p's connection runs on the leader
// only.
func leaderOnly(p bot.Platform) bool {
	for _, cp := range chatPlatforms() {
		if cp.id == p {
			return cp.leaderOnly
		}
	}
	return false
}
