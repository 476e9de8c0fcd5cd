package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/oncall"
)

// Validation: every rule a configuration must meet, checked at start-up
// and naming the first bad key. It builds what the rest of klaxon uses
// (config_build.go), once.

// bad is a ConfigError for key.
// apiVersionPath finds the version in a Discord REST base: /api/v10/.
var apiVersionPath = regexp.MustCompile(`/api/v(\d+)/?$`)

func bad(key, format string, args ...any) error {
	return &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every value and names the first bad key.
func (c *Config) Validate() error {
	switch c.Store.Driver {
	case "bbolt":
		if strings.TrimSpace(c.Store.Path) == "" {
			return bad("store.path", "must not be empty")
		}
	case "postgres":
		if c.Store.Postgres.DSN == "" {
			return bad("store.postgres.dsn", "is required with store.driver: postgres (or KLAXON_STORE_POSTGRES_DSN), e.g. postgres://klaxon:…@db:5432/klaxon?sslmode=require")
		}
		if _, err := pgx.ParseConfig(c.Store.Postgres.DSN.Reveal()); err != nil {
			return bad("store.postgres.dsn", "is not a PostgreSQL connection string (postgres://user:password@host:5432/db?sslmode=require)")
		}
		if c.Store.Postgres.Lease < time.Second || c.Store.Postgres.Lease > time.Minute {
			return bad("store.postgres.lease", "must be between 1s and 1m")
		}
	default:
		return bad("store.driver", "%q is not one of bbolt, postgres", c.Store.Driver)
	}
	if c.Store.LockTimeout <= 0 {
		return bad("store.lock_timeout", "must be positive, e.g. 2s")
	}
	if c.Store.SeenRetention < time.Hour {
		return bad("store.seen_retention", "must be at least 1h (platforms redeliver events for minutes to hours)")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		return bad("http.listen", "%q is not host:port", c.HTTP.Listen)
	}
	if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		return bad("log.level", "%q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "json", "pretty":
	default:
		return bad("log.format", "%q is not one of auto, json, pretty", c.Log.Format)
	}
	if u := c.Console.User; u != "" {
		if _, ok := bot.ParseMention("@" + u); !ok {
			return bad("console.user", "%q is not a user name", u)
		}
	}
	for key, ch := range map[string]string{"console.channel": c.Console.Channel, "console.announce_channel": c.Console.AnnounceChannel} {
		if ch != "" && bot.Slug(ch, 80) != ch {
			return bad(key, "%q is not a channel name (lower-case letters, digits and -)", ch)
		}
	}
	if err := c.validatePlatforms(); err != nil {
		return err
	}
	if err := commands.ValidateChannelPattern(c.Incidents.ChannelPattern); err != nil {
		return bad("incidents.channel_pattern", "%v", err)
	}
	if err := commands.ValidateCallURL(c.Incidents.CallURL); err != nil {
		return bad("incidents.call_url", "%v", err)
	}
	if err := c.severities().Validate(); err != nil {
		return bad("incidents.severities", "%v", err)
	}
	for name, d := range c.Incidents.UpdateReminders {
		if _, err := c.severities().Parse(name); err != nil {
			return bad("incidents.update_reminders."+name, "%q is not a severity", name)
		}
		if d != 0 && d < time.Minute {
			return bad("incidents.update_reminders."+name, "must be 0 (off) or at least 1m")
		}
	}
	if c.Templates.Dir != "" {
		if _, err := template.ParseFS(os.DirFS(c.Templates.Dir), commands.PostmortemTemplate); err != nil {
			return bad("templates.dir", "%v", err)
		}
	}
	if a := c.Incidents.ArchiveAfter; a != 0 && a < time.Minute {
		return bad("incidents.archive_after", "must be 0 (never) or at least 1m, e.g. 168h")
	}
	if c.Incidents.CommanderNag < 0 {
		return bad("incidents.commander_nag", "must not be negative")
	}
	for i, r := range c.Incidents.Roles {
		if err := bot.ValidateRoleName(r); err != nil {
			return bad(fmt.Sprintf("incidents.roles[%d]", i), "%v", err)
		}
	}
	people := map[string]bool{}
	for i, p := range c.People {
		key := fmt.Sprintf("people[%d]", i)
		if err := p.person().Validate(); err != nil {
			return bad(key, "%v", err)
		}
		if people[p.ID] {
			return bad(key+".id", "%q is used twice", p.ID)
		}
		people[p.ID] = true
		if p.TimeZone != "" {
			if _, err := time.LoadLocation(p.TimeZone); err != nil {
				return bad(key+".time_zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", p.TimeZone)
			}
		}
		if _, err := p.WorkingHours.hours(key+".working_hours", p.TimeZone); err != nil {
			return err
		}
	}
	services := map[string]bool{}
	for i, s := range c.Services {
		key := fmt.Sprintf("services[%d]", i)
		if err := s.service().Validate(); err != nil {
			return bad(key, "%v", err)
		}
		if services[s.ID] {
			return bad(key+".id", "%q is used twice", s.ID)
		}
		services[s.ID] = true
		for j, o := range s.Owners {
			if !slices.ContainsFunc(c.People, func(p PersonConfig) bool { return p.ID == o }) {
				return bad(fmt.Sprintf("%s.owners[%d]", key, j), "%q is not in people", o)
			}
		}
	}
	if err := c.build(); err != nil {
		return err
	}
	if err := c.validateTypes(); err != nil {
		return err
	}
	if c.HTTP.MaxConnsPerClient < 1 {
		return bad("http.max_conns_per_client", "must be at least 1")
	}
	if c.OnCall.MaxOverride <= 0 || c.OnCall.MaxOverride > oncall.MaxOverride {
		return bad("oncall.max_override", "must be more than 0 and at most %s", bot.Duration(oncall.MaxOverride))
	}
	if strings.TrimSpace(c.Status.Title) == "" {
		return bad("status.title", "must not be empty")
	}
	if c.Status.PublicURL != "" {
		if err := checkURL(c.Status.PublicURL, "https", "http"); err != nil {
			return bad("status.public_url", "%v", err)
		}
	}
	for i, o := range c.Status.FrameAncestors {
		if err := checkOrigin(o); err != nil {
			return bad(fmt.Sprintf("status.frame_ancestors[%d]", i), "%v", err)
		}
	}
	if c.HTTP.MetricsToken != "" && len(c.HTTP.MetricsToken) < 16 {
		return bad("http.metrics_token", "must be at least 16 characters")
	}
	if c.API.Token != "" && len(c.API.Token) < 16 {
		return bad("api.token", "must be at least 16 characters")
	}
	if c.API.AdminToken != "" && len(c.API.AdminToken) < 16 {
		return bad("api.admin_token", "must be at least 16 characters")
	}
	if c.API.Token != "" && c.API.Token == c.API.AdminToken {
		return bad("api.admin_token", "must differ from api.token")
	}
	if _, _, err := c.alertsConfig(); err != nil {
		return err
	}
	if _, _, err := c.heartbeats(); err != nil {
		return err
	}
	if _, err := c.hooks(nil); err != nil {
		return err
	}
	if _, err := c.trackers(nil); err != nil {
		return err
	}
	for i, p := range c.People {
		if err := c.publicSecret(fmt.Sprintf("people[%d].feed_token", i), p.FeedToken); err != nil {
			return err
		}
	}
	for i, s := range c.Schedules {
		if err := c.publicSecret(fmt.Sprintf("schedules[%d].feed_token", i), s.FeedToken); err != nil {
			return err
		}
	}
	if err := c.validateNotifications(); err != nil {
		return err
	}
	if err := c.validateWeb(); err != nil {
		return err
	}
	if err := c.validateSubscriptions(); err != nil {
		return err
	}
	if err := c.validateAPITokens(); err != nil {
		return err
	}
	return c.validatePagers()
}

func (c *Config) validatePagers() error {
	seen := map[string]bool{}
	for i, p := range c.Pagers {
		key := fmt.Sprintf("pagers[%d]", i)
		bad := func(sub, reason string) error { return &ConfigError{Key: key + sub, Reason: reason} }
		if p.ID == "" || seen[p.ID] {
			return bad(".id", fmt.Sprintf("%q must be set and unique", p.ID))
		}
		seen[p.ID] = true
		if _, err := bot.ParseMethod(p.ID); err == nil {
			return bad(".id", fmt.Sprintf("%q names one of klaxon's own contact methods (notifications); give the pager another id", p.ID))
		}
		switch p.Type {
		case "pagerduty":
			if p.RoutingKey == "" {
				return bad(".routing_key", "a pagerduty pager needs its integration's routing key")
			}
		case "opsgenie":
			if p.APIKey == "" {
				return bad(".api_key", "an opsgenie pager needs an API key")
			}
		case "webhook":
			if p.Secret == "" || p.URL == "" {
				return bad(".secret", "a webhook pager needs a url and a signing secret")
			}
			if len(p.Secret) < minSharedSecret {
				return bad(".secret", fmt.Sprintf("must be at least %d characters: the receiver trusts whatever is signed with it", minSharedSecret))
			}
		case "chat":
		default:
			return bad(".type", fmt.Sprintf("%q is not one of pagerduty, opsgenie, webhook, chat", p.Type))
		}
		if p.URL != "" {
			if err := checkURL(p.URL, "http", "https"); err != nil {
				return bad(".url", "not an http(s) URL")
			}
		}
	}
	return nil
}

func (c *Config) validatePlatforms() error {
	s := c.Slack
	if (s.AppToken == "") != (s.BotToken == "") {
		return bad("slack.app_token", "Slack needs both slack.app_token (xapp-…) and slack.bot_token (xoxb-…)")
	}
	if s.AppToken != "" && !strings.HasPrefix(s.AppToken.Reveal(), "xapp-") {
		return bad("slack.app_token", "must be an app-level token starting with xapp-")
	}
	if s.BotToken != "" && !strings.HasPrefix(s.BotToken.Reveal(), "xoxb-") {
		return bad("slack.bot_token", "must be a bot token starting with xoxb-")
	}
	if err := checkURL(s.APIURL, "http", "https"); err != nil {
		return bad("slack.api_url", "%v", err)
	}
	d := c.Discord
	if d.Token != "" && (d.ApplicationID == "" || d.GuildID == "") {
		return bad("discord.application_id", "with discord.token set, discord.application_id and discord.guild_id are required")
	}
	if err := checkURL(d.APIURL, "http", "https"); err != nil {
		return bad("discord.api_url", "%v", err)
	}
	if m := apiVersionPath.FindStringSubmatch(d.APIURL); m != nil && m[1] != discord.APIVersion {
		return bad("discord.api_url", "names Discord API v%s; klaxon speaks v%s (https://discord.com/api/v%s/)", m[1], discord.APIVersion, discord.APIVersion)
	}
	if err := checkURL(d.GatewayURL, "ws", "wss"); err != nil {
		return bad("discord.gateway_url", "%v", err)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("is not a URL")
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("%q must use %s", shownURL(u), strings.Join(schemes, " or "))
}

// shownURL is u as an error may show it: no password, query or fragment,
// where tokens hide.
func shownURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.Fragment, v.RawFragment = nil, "", "", ""
	if u.RawQuery != "" {
		v.RawQuery = "…"
	}
	return v.String()
}

// checkOrigin accepts an origin a Content-Security-Policy can name:
// https://host[:port] (http for loopback hosts), without a path.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin like https://intranet.example.com", o)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback())) {
		return fmt.Errorf("%q must use https", o)
	}
	return nil
}
