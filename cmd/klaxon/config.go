package main

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/rs/zerolog"
	"github.com/spf13/viper"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/commands"
)

// Secret is a configuration value that must never be shown: its String and
// its JSON form are redacted.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalText redacts the secret in any encoding.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for handing to a client library.
func (s Secret) Reveal() string { return string(s) }

// Config is klaxon's whole configuration. Every key has a default in
// defaults(); config.example.yaml documents each one.
type Config struct {
	Store struct {
		Path          string        `mapstructure:"path"`
		LockTimeout   time.Duration `mapstructure:"lock_timeout"`
		SeenRetention time.Duration `mapstructure:"seen_retention"`
	} `mapstructure:"store"`
	HTTP struct {
		Listen string `mapstructure:"listen"`
	} `mapstructure:"http"`
	Status struct {
		Title string `mapstructure:"title"`
	} `mapstructure:"status"`
	API struct {
		Token      Secret `mapstructure:"token"`       // read-only JSON API
		AdminToken Secret `mapstructure:"admin_token"` // also GET /api/v1/backup
	} `mapstructure:"api"`
	Log struct {
		Level  string `mapstructure:"level"`
		Format string `mapstructure:"format"`
	} `mapstructure:"log"`
	Console struct {
		User            string `mapstructure:"user"`
		Channel         string `mapstructure:"channel"`
		AnnounceChannel string `mapstructure:"announce_channel"`
	} `mapstructure:"console"`
	Slack struct {
		AppToken        Secret `mapstructure:"app_token"`
		BotToken        Secret `mapstructure:"bot_token"`
		APIURL          string `mapstructure:"api_url"`
		AnnounceChannel string `mapstructure:"announce_channel"`
	} `mapstructure:"slack"`
	Discord struct {
		Token           Secret `mapstructure:"token"`
		ApplicationID   string `mapstructure:"application_id"`
		GuildID         string `mapstructure:"guild_id"`
		APIURL          string `mapstructure:"api_url"`
		GatewayURL      string `mapstructure:"gateway_url"`
		CategoryID      string `mapstructure:"category_id"`
		AnnounceChannel string `mapstructure:"announce_channel"`
	} `mapstructure:"discord"`
	Incidents struct {
		ChannelPattern string           `mapstructure:"channel_pattern"`
		Severities     []SeverityConfig `mapstructure:"severities"`
		Roles          []string         `mapstructure:"roles"`
		HighlightEmoji []string         `mapstructure:"highlight_emoji"`
		// How often the commander is reminded to post an update, by severity
		// name, and how soon an incident without a commander is nagged.
		UpdateReminders map[string]time.Duration `mapstructure:"update_reminders"`
		CommanderNag    time.Duration            `mapstructure:"commander_nag"`
		// Only role holders and admins may change severity, roles and status.
		RestrictLifecycle bool     `mapstructure:"restrict_lifecycle"`
		Admins            []string `mapstructure:"admins"`
	} `mapstructure:"incidents"`
	Templates struct {
		Dir string `mapstructure:"dir"` // your own postmortem.md.tmpl; empty: klaxon's
	} `mapstructure:"templates"`
	People             []PersonConfig   `mapstructure:"people"`
	Services           []ServiceConfig  `mapstructure:"services"`
	Schedules          []ScheduleConfig `mapstructure:"schedules"`
	EscalationPolicies []PolicyConfig   `mapstructure:"escalation_policies"`
	Pagers             []PagerConfig    `mapstructure:"pagers"`
	Paging             struct {
		AckEmoji []string `mapstructure:"ack_emoji"`
	} `mapstructure:"paging"`
	Heartbeats []HeartbeatConfig `mapstructure:"heartbeats"`
	Hooks      []HookConfig      `mapstructure:"hooks"`
	Alerts     struct {
		Platform          string              `mapstructure:"platform"` // empty: the first connected
		DefaultSeverity   string              `mapstructure:"default_severity"`
		MitigateOnResolve bool                `mapstructure:"mitigate_on_resolve"`
		Sources           []AlertSourceConfig `mapstructure:"sources"`
		Routes            []AlertRouteConfig  `mapstructure:"routes"`
	} `mapstructure:"alerts"`
}

// HeartbeatConfig is one heartbeat: POST /heartbeat/<name> at least every
// interval (plus grace), or klaxon declares an incident.
type HeartbeatConfig struct {
	Name     string        `mapstructure:"name"`
	Interval time.Duration `mapstructure:"interval"`
	Grace    time.Duration `mapstructure:"grace"`
	Service  string        `mapstructure:"service"`
	Severity string        `mapstructure:"severity"`
	Token    Secret        `mapstructure:"token"`
}

// HookConfig is one outgoing event webhook.
type HookConfig struct {
	ID     string   `mapstructure:"id"`
	URL    string   `mapstructure:"url"`
	Events []string `mapstructure:"events"` // bot.Hook* names, or "*" for all
	Secret Secret   `mapstructure:"secret"`
}

// AlertSourceConfig enables one alert endpoint, /alerts/<name>, and says
// how its sender authenticates.
type AlertSourceConfig struct {
	Name       string `mapstructure:"name"` // alertmanager, grafana, generic
	Token      Secret `mapstructure:"token"`
	Username   string `mapstructure:"username"`
	Password   Secret `mapstructure:"password"`
	HMACSecret Secret `mapstructure:"hmac_secret"` // grafana only
}

// AlertRouteConfig maps alerts whose labels all match (regular
// expressions, anchored) to a service and severity.
type AlertRouteConfig struct {
	Match    map[string]string `mapstructure:"match"`
	Service  string            `mapstructure:"service"`
	Severity string            `mapstructure:"severity"`
}

// PolicyConfig is one escalation policy.
type PolicyConfig struct {
	ID     string       `mapstructure:"id"`
	Repeat int          `mapstructure:"repeat"`
	Steps  []StepConfig `mapstructure:"steps"`
}

// StepConfig is one step: wait Delay for an acknowledgement after paging
// its targets.
type StepConfig struct {
	Delay   time.Duration  `mapstructure:"delay"`
	Targets []TargetConfig `mapstructure:"targets"`
}

// TargetConfig names one of a schedule's on-call, a person, or a whole team
// (everyone on a schedule's rotations).
type TargetConfig struct {
	Schedule string `mapstructure:"schedule"`
	Person   string `mapstructure:"person"`
	Team     string `mapstructure:"team"`
}

// PagerConfig is one pager.
type PagerConfig struct {
	ID         string   `mapstructure:"id"`
	Type       string   `mapstructure:"type"` // pagerduty, opsgenie, webhook, chat
	URL        string   `mapstructure:"url"`
	RoutingKey Secret   `mapstructure:"routing_key"` // pagerduty
	APIKey     Secret   `mapstructure:"api_key"`     // opsgenie
	Secret     Secret   `mapstructure:"secret"`      // webhook signing secret
	People     []string `mapstructure:"people"`      // only page these people through it (default: everyone)
}

// SeverityConfig is one level of incidents.severities.
type SeverityConfig struct {
	Name     string `mapstructure:"name"`
	Label    string `mapstructure:"label"`
	Priority string `mapstructure:"priority"`
}

// PersonConfig is one entry of people.
type PersonConfig struct {
	ID        string `mapstructure:"id"`
	Name      string `mapstructure:"name"`
	TimeZone  string `mapstructure:"time_zone"`
	SlackID   string `mapstructure:"slack_id"`
	DiscordID string `mapstructure:"discord_id"`
	Email     string `mapstructure:"email"`
	Phone     string `mapstructure:"phone"`
	FeedToken Secret `mapstructure:"feed_token"` // this person's calendar feed
}

// ScheduleConfig is one entry of schedules.
type ScheduleConfig struct {
	ID        string        `mapstructure:"id"`
	Name      string        `mapstructure:"name"`
	Service   string        `mapstructure:"service"`
	Role      string        `mapstructure:"role"` // primary (default) or secondary
	TimeZone  string        `mapstructure:"time_zone"`
	FeedToken Secret        `mapstructure:"feed_token"`
	Layers    []LayerConfig `mapstructure:"layers"`
	// Where handoffs are announced ("alice hands over to bob"), and how
	// long before a shift its person gets a DM (0 turns the DM off).
	HandoffChannel  string        `mapstructure:"handoff_channel"`
	HandoffPlatform string        `mapstructure:"handoff_platform"` // console, slack or discord; default: the one connected
	HandoffReminder time.Duration `mapstructure:"handoff_reminder"`
}

// LayerConfig is one layer of a schedule.
type LayerConfig struct {
	Name         string              `mapstructure:"name"`
	Rotation     string              `mapstructure:"rotation"` // daily, weekly, hourly, custom
	Length       time.Duration       `mapstructure:"length"`   // hourly and custom
	Days         int                 `mapstructure:"days"`     // daily (default 1) and weekly (default 7)
	Start        string              `mapstructure:"start"`    // date of the first handoff
	Handoff      string              `mapstructure:"handoff"`  // wall-clock time, default 09:00
	Participants []string            `mapstructure:"participants"`
	Restrictions []RestrictionConfig `mapstructure:"restrictions"`
}

// RestrictionConfig limits a layer to a weekly window.
type RestrictionConfig struct {
	Days []string `mapstructure:"days"` // mon … sun; empty means every day
	From string   `mapstructure:"from"`
	To   string   `mapstructure:"to"`
}

// ServiceConfig is one entry of services.
type ServiceConfig struct {
	ID               string `mapstructure:"id"`
	Name             string `mapstructure:"name"`
	Description      string `mapstructure:"description"`
	EscalationPolicy string `mapstructure:"escalation_policy"`
	// When low-priority pages may go out. Default: Mon–Fri 09:00–17:00 in
	// the time zone of the service's first schedule (else UTC).
	BusinessHours struct {
		TimeZone string   `mapstructure:"time_zone"`
		Days     []string `mapstructure:"days"`
		From     string   `mapstructure:"from"`
		To       string   `mapstructure:"to"`
	} `mapstructure:"business_hours"`
}

// defaults registers every key, so viper knows them all (environment
// variables only reach keys viper knows) and a bare binary runs.
func defaults(v *viper.Viper) {
	v.SetDefault("store.path", "./data/klaxon.db")
	v.SetDefault("store.lock_timeout", "2s")
	v.SetDefault("store.seen_retention", "168h")
	v.SetDefault("http.listen", "127.0.0.1:8080")
	v.SetDefault("status.title", "Status")
	v.SetDefault("api.token", "")
	v.SetDefault("api.admin_token", "")
	v.SetDefault("log.level", "info")
	v.SetDefault("log.format", "auto")
	v.SetDefault("console.user", "")
	v.SetDefault("console.channel", "general")
	v.SetDefault("console.announce_channel", "incidents")
	v.SetDefault("slack.app_token", "")
	v.SetDefault("slack.bot_token", "")
	v.SetDefault("slack.api_url", "https://slack.com/api/")
	v.SetDefault("slack.announce_channel", "")
	v.SetDefault("discord.token", "")
	v.SetDefault("discord.application_id", "")
	v.SetDefault("discord.guild_id", "")
	v.SetDefault("discord.api_url", "https://discord.com/api/v9/")
	v.SetDefault("discord.gateway_url", "wss://gateway.discord.gg")
	v.SetDefault("discord.category_id", "")
	v.SetDefault("discord.announce_channel", "")
	v.SetDefault("incidents.channel_pattern", commands.DefaultChannelPattern)
	sevs := make([]map[string]any, 0, 4)
	for _, s := range bot.DefaultSeverities() {
		sevs = append(sevs, map[string]any{"name": s.Name, "label": s.Label, "priority": string(s.Priority)})
	}
	v.SetDefault("incidents.severities", sevs)
	v.SetDefault("incidents.roles", []string{})
	v.SetDefault("incidents.highlight_emoji", []string{"📌"})
	v.SetDefault("incidents.update_reminders", map[string]string{"SEV1": "30m", "SEV2": "60m"})
	v.SetDefault("incidents.commander_nag", "5m")
	v.SetDefault("incidents.restrict_lifecycle", false)
	v.SetDefault("incidents.admins", []string{})
	v.SetDefault("templates.dir", "")
	v.SetDefault("paging.ack_emoji", []string{"✅", "👀"})
	v.SetDefault("alerts.platform", "")
	v.SetDefault("alerts.default_severity", "")
	v.SetDefault("alerts.mitigate_on_resolve", true)
	v.SetDefault("alerts.sources", []any{})
	v.SetDefault("alerts.routes", []any{})
	for _, list := range []string{"people", "services", "schedules", "escalation_policies", "pagers", "heartbeats", "hooks"} {
		v.SetDefault(list, []any{})
	}
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return "KLAXON_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// newViper returns a viper that knows every key and its default.
func newViper() *viper.Viper {
	v := viper.New()
	defaults(v)
	return v
}

// ConfigError is a configuration problem, naming the key.
type ConfigError struct {
	Key    string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Reason) }

// LoadConfig reads the config file at path ("" means ./config.yaml if it
// exists, else only defaults), then KLAXON_* environment variables, and
// validates the result. getenv is os.Getenv outside tests.
func LoadConfig(path string, getenv func(string) string) (*Config, string, error) {
	v := newViper()
	source := "built-in defaults"
	if path == "" {
		if _, err := os.Stat("config.yaml"); err == nil {
			path = "config.yaml"
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, "", fmt.Errorf("config: reading %s: %w", path, err)
		}
		source = path
	}
	// KLAXON_SLACK_BOT_TOKEN overrides slack.bot_token, and so on for every
	// key. Reading them here, rather than with viper's AutomaticEnv, lets
	// tests pass their own environment.
	for _, key := range v.AllKeys() {
		if val := getenv(EnvName(key)); val != "" {
			v.Set(key, val)
		}
	}
	var cfg Config
	err := v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			yamlDateToString,
		)
	})
	if err != nil {
		return nil, "", decodeError(err, v)
	}
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	return &cfg, source, nil
}

var (
	invalidKeys = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)
	badValue    = regexp.MustCompile(`'([^']+)' (.+)`)
)

// decodeError rewrites mapstructure's messages to name the keys plainly and
// show the offending value, unless the key holds a secret.
func decodeError(err error, v *viper.Viper) error {
	msg := err.Error()
	if m := invalidKeys.FindStringSubmatch(msg); m != nil {
		var keys []string
		for _, k := range strings.Split(m[2], ", ") {
			if m[1] != "" {
				k = m[1] + "." + k
			}
			keys = append(keys, k)
		}
		return &ConfigError{Key: strings.Join(keys, ", "), Reason: "unknown key (see config.example.yaml for the keys klaxon reads)"}
	}
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "* ")
		if m := badValue.FindStringSubmatch(line); m != nil {
			reason := m[2]
			if got := v.Get(m[1]); got != nil && !secretKey(m[1]) {
				reason += fmt.Sprintf(" (got %q)", fmt.Sprint(got))
			}
			return &ConfigError{Key: m[1], Reason: reason}
		}
	}
	return fmt.Errorf("config: %w", err)
}

// yamlDateToString keeps dates as the text people wrote: YAML reads an
// unquoted 2026-11-16 as a timestamp.
func yamlDateToString(from, to reflect.Type, data any) (any, error) {
	if t, ok := data.(time.Time); ok && to.Kind() == reflect.String {
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02"), nil
		}
		return t.Format(time.RFC3339), nil
	}
	return data, nil
}

// secretKey reports whether a key holds a token or secret.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "token") || strings.Contains(k, "secret") || strings.Contains(k, "key") || strings.Contains(k, "password")
}

// bad is a ConfigError for key.
func bad(key, format string, args ...any) error {
	return &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every value and names the first bad key.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Store.Path) == "" {
		return bad("store.path", "must not be empty")
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
	}
	if _, err := c.schedules(); err != nil {
		return err
	}
	if _, err := c.policies(); err != nil {
		return err
	}
	for _, s := range c.Services {
		if _, err := c.businessHours(s); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.Status.Title) == "" {
		return bad("status.title", "must not be empty")
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
	return c.validatePagers()
}

// policies turns escalation_policies into bot policies, naming the first
// bad key.
func (c *Config) policies() (map[string]bot.Policy, error) {
	schedules, people := map[string]bool{}, map[string]bool{}
	for _, s := range c.Schedules {
		schedules[s.ID] = true
	}
	for _, p := range c.People {
		people[p.ID] = true
	}
	out := map[string]bot.Policy{}
	for i, pc := range c.EscalationPolicies {
		key := fmt.Sprintf("escalation_policies[%d]", i)
		if pc.ID == "" || out[pc.ID].ID != "" {
			return nil, &ConfigError{Key: key + ".id", Reason: fmt.Sprintf("%q must be set and unique", pc.ID)}
		}
		pol := bot.Policy{ID: pc.ID, Repeat: pc.Repeat}
		for j, sc := range pc.Steps {
			step := bot.Step{Delay: sc.Delay}
			for k, tc := range sc.Targets {
				tkey := fmt.Sprintf("%s.steps[%d].targets[%d]", key, j, k)
				var t bot.Target
				switch {
				case tc.Schedule != "" && tc.Person == "" && tc.Team == "":
					t = bot.Target{Kind: bot.TargetSchedule, ID: tc.Schedule}
				case tc.Person != "" && tc.Schedule == "" && tc.Team == "":
					t = bot.Target{Kind: bot.TargetPerson, ID: tc.Person}
				case tc.Team != "" && tc.Schedule == "" && tc.Person == "":
					t = bot.Target{Kind: bot.TargetTeam, ID: tc.Team}
				default:
					return nil, &ConfigError{Key: tkey, Reason: "name exactly one of schedule, person or team"}
				}
				if (t.Kind == bot.TargetPerson && !people[t.ID]) || (t.Kind != bot.TargetPerson && !schedules[t.ID]) {
					return nil, &ConfigError{Key: tkey, Reason: fmt.Sprintf("%q is not a configured %s", t.ID, map[bool]string{true: "person", false: "schedule"}[t.Kind == bot.TargetPerson])}
				}
				step.Targets = append(step.Targets, t)
			}
			pol.Steps = append(pol.Steps, step)
		}
		if err := pol.Validate(); err != nil {
			return nil, &ConfigError{Key: key, Reason: err.Error()}
		}
		out[pc.ID] = pol
	}
	for i, s := range c.Services {
		if s.EscalationPolicy != "" && out[s.EscalationPolicy].ID == "" {
			return nil, &ConfigError{Key: fmt.Sprintf("services[%d].escalation_policy", i), Reason: fmt.Sprintf("%q is not one of the escalation_policies", s.EscalationPolicy)}
		}
	}
	return out, nil
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

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// schedules turns the schedules config into bot schedules, or names the
// first bad key.
func (c *Config) schedules() ([]*bot.Schedule, error) {
	people := map[string]bool{}
	for _, p := range c.People {
		people[p.ID] = true
	}
	var out []*bot.Schedule
	seen := map[string]bool{}
	for i, sc := range c.Schedules {
		key := fmt.Sprintf("schedules[%d]", i)
		bad := func(sub, format string, args ...any) error {
			return &ConfigError{Key: key + sub, Reason: fmt.Sprintf(format, args...)}
		}
		if seen[sc.ID] {
			return nil, bad(".id", "%q is used twice", sc.ID)
		}
		seen[sc.ID] = true
		loc, err := time.LoadLocation(sc.TimeZone)
		if err != nil || sc.TimeZone == "" {
			return nil, bad(".time_zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", sc.TimeZone)
		}
		role := sc.Role
		if role == "" {
			role = "primary"
		}
		if role != "primary" && role != "secondary" {
			return nil, bad(".role", "%q is not one of primary, secondary", sc.Role)
		}
		if sc.Service != "" && len(c.Services) > 0 && !slices.ContainsFunc(c.Services, func(s ServiceConfig) bool { return s.ID == sc.Service }) {
			return nil, bad(".service", "%q is not one of the services", sc.Service)
		}
		name := sc.Name
		if name == "" {
			name = sc.ID
		}
		s := &bot.Schedule{ID: sc.ID, Name: name, Service: sc.Service, Role: role, Location: loc}
		for j, lc := range sc.Layers {
			lkey := fmt.Sprintf(".layers[%d]", j)
			r := bot.Rotation{Kind: bot.RotationKind(lc.Rotation), Length: lc.Length, Days: lc.Days, Participants: lc.Participants}
			switch r.Kind {
			case bot.RotationDaily:
				r.Days = max(r.Days, 1)
			case bot.RotationWeekly:
				if r.Days == 0 {
					r.Days = 7
				}
			case bot.RotationHourly:
				if r.Length == 0 {
					r.Length = time.Hour
				}
			}
			if r.Start, err = bot.ParseDate(lc.Start); err != nil {
				return nil, bad(lkey+".start", "%q is not a date like 2026-01-05", lc.Start)
			}
			handoff := lc.Handoff
			if handoff == "" {
				handoff = "09:00"
			}
			if r.Handoff, err = bot.ParseTimeOfDay(handoff); err != nil {
				return nil, bad(lkey+".handoff", "%q is not a time of day like 09:00", lc.Handoff)
			}
			for k, p := range lc.Participants {
				if !people[p] {
					return nil, bad(fmt.Sprintf("%s.participants[%d]", lkey, k), "%q is not one of the people", p)
				}
			}
			layer := bot.Layer{Name: lc.Name, Rotation: r}
			for k, rc := range lc.Restrictions {
				rkey := fmt.Sprintf("%s.restrictions[%d]", lkey, k)
				var rs bot.Restriction
				if rs.From, err = bot.ParseTimeOfDay(rc.From); err != nil {
					return nil, bad(rkey+".from", "%q is not a time of day like 09:00", rc.From)
				}
				if rs.To, err = bot.ParseTimeOfDay(rc.To); err != nil {
					return nil, bad(rkey+".to", "%q is not a time of day like 17:00", rc.To)
				}
				for _, d := range rc.Days {
					wd, ok := weekdayNames[strings.ToLower(d)[:min(3, len(d))]]
					if !ok {
						return nil, bad(rkey+".days", "%q is not a day of the week (mon … sun)", d)
					}
					rs.Days[wd] = true
				}
				if len(rc.Days) == 0 {
					rs.Days = [7]bool{true, true, true, true, true, true, true}
				}
				layer.Restrictions = append(layer.Restrictions, rs)
			}
			s.Layers = append(s.Layers, layer)
		}
		switch sc.HandoffPlatform {
		case "", "console", "slack", "discord":
		default:
			return nil, bad(".handoff_platform", "%q is not one of console, slack, discord", sc.HandoffPlatform)
		}
		if sc.HandoffReminder < 0 || sc.HandoffReminder > 7*24*time.Hour {
			return nil, bad(".handoff_reminder", "must be between 0 and 168h")
		}
		if err := s.Validate(); err != nil {
			return nil, bad("", "%v", err)
		}
		out = append(out, s)
	}
	return out, nil
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
	if err := checkURL(d.GatewayURL, "ws", "wss"); err != nil {
		return bad("discord.gateway_url", "%v", err)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", raw)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("%q must use %s", raw, strings.Join(schemes, " or "))
}

func (c *Config) severities() bot.Severities {
	out := make(bot.Severities, len(c.Incidents.Severities))
	for i, s := range c.Incidents.Severities {
		out[i] = bot.Severity{Level: i + 1, Name: s.Name, Label: s.Label, Priority: bot.Priority(s.Priority)}
	}
	return out
}

func (p PersonConfig) person() bot.Person {
	return bot.Person{ID: p.ID, Name: p.Name, TimeZone: p.TimeZone, SlackID: p.SlackID, DiscordID: p.DiscordID, Email: p.Email, Phone: p.Phone}
}

func (s ServiceConfig) service() bot.Service {
	name := s.Name
	if name == "" {
		name = s.ID
	}
	return bot.Service{ID: s.ID, Name: name, Description: s.Description}
}

// handoffs says where each schedule announces its handoffs.
func (c *Config) handoffs() map[string]commands.HandoffNotice {
	platform := c.platform()
	out := map[string]commands.HandoffNotice{}
	for _, s := range c.Schedules {
		if s.HandoffChannel == "" && s.HandoffReminder == 0 {
			continue
		}
		p := platform
		if s.HandoffPlatform != "" {
			p = bot.Platform(s.HandoffPlatform)
		}
		out[s.ID] = commands.HandoffNotice{Platform: p, Channel: s.HandoffChannel, Remind: s.HandoffReminder}
	}
	return out
}

// pagingConfig builds the paging setup: policies, senders and ack emoji.
func (c *Config) pagingConfig(chats []bot.Chat, people bot.People) (commands.PagingConfig, error) {
	pols, err := c.policies()
	if err != nil {
		return commands.PagingConfig{}, err
	}
	pc := commands.PagingConfig{Policies: pols, ServicePolicy: map[string]string{}, Pagers: map[string]bot.Sender{},
		PagerPeople: map[string][]string{}, AcksSupported: map[string]bool{}, ServiceHours: map[string]bot.Hours{}}
	for _, s := range c.Services {
		if s.EscalationPolicy != "" {
			pc.ServicePolicy[s.ID] = s.EscalationPolicy
		}
		h, err := c.businessHours(s)
		if err != nil {
			return commands.PagingConfig{}, err
		}
		pc.ServiceHours[s.ID] = h
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range c.Pagers {
		switch p.Type {
		case "pagerduty":
			url := p.URL
			if url == "" {
				url = "https://events.pagerduty.com/v2/enqueue"
			}
			pc.Pagers[p.ID] = &pager.PagerDuty{URL: url, RoutingKey: p.RoutingKey.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "opsgenie":
			url := p.URL
			if url == "" {
				url = "https://api.opsgenie.com"
			}
			pc.Pagers[p.ID] = &pager.Opsgenie{URL: url, APIKey: p.APIKey.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "webhook":
			pc.Pagers[p.ID] = &pager.Webhook{URL: p.URL, Secret: p.Secret.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "chat":
			pc.Pagers[p.ID] = &commands.ChatPager{Chats: chats, People: people}
		}
		pc.PagerPeople[p.ID] = p.People
	}
	for _, e := range c.Paging.AckEmoji {
		pc.AckEmoji = append(pc.AckEmoji, bot.NormalizeEmoji(e))
	}
	return pc, nil
}

// businessHours reads a service's business hours, with defaults.
func (c *Config) businessHours(s ServiceConfig) (bot.Hours, error) {
	bh := s.BusinessHours
	key := "services[" + s.ID + "].business_hours"
	h := bot.Hours{Zone: bh.TimeZone, From: 9 * 60, To: 17 * 60}
	if h.Zone == "" {
		h.Zone = "UTC"
		for _, sc := range c.Schedules {
			if sc.Service == s.ID && sc.TimeZone != "" {
				h.Zone = sc.TimeZone
				break
			}
		}
	}
	if _, err := time.LoadLocation(h.Zone); err != nil {
		return h, &ConfigError{Key: key + ".time_zone", Reason: fmt.Sprintf("%q is not an IANA time zone", h.Zone)}
	}
	days := bh.Days
	if len(days) == 0 {
		days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	for _, d := range days {
		wd, ok := weekdayNames[strings.ToLower(d)[:min(3, len(d))]]
		if !ok {
			return h, &ConfigError{Key: key + ".days", Reason: fmt.Sprintf("%q is not a day of the week", d)}
		}
		h.Days[wd] = true
	}
	var err error
	if bh.From != "" {
		if h.From, err = bot.ParseTimeOfDay(bh.From); err != nil {
			return h, &ConfigError{Key: key + ".from", Reason: fmt.Sprintf("%q is not a time of day", bh.From)}
		}
	}
	if bh.To != "" {
		if h.To, err = bot.ParseTimeOfDay(bh.To); err != nil {
			return h, &ConfigError{Key: key + ".to", Reason: fmt.Sprintf("%q is not a time of day", bh.To)}
		}
	}
	if h.To <= h.From {
		return h, &ConfigError{Key: key, Reason: "to must be after from"}
	}
	return h, nil
}

// scheduleIDs lists the configured schedules.
func (c *Config) scheduleIDs() []string {
	var out []string
	for _, s := range c.Schedules {
		out = append(out, s.ID)
	}
	return out
}

// feedTokens maps each calendar feed to its token.
func (c *Config) feedTokens() map[string]string {
	out := map[string]string{}
	for _, s := range c.Schedules {
		if s.FeedToken != "" {
			out["schedule:"+s.ID] = s.FeedToken.Reveal()
		}
	}
	for _, p := range c.People {
		if p.FeedToken != "" {
			out["person:"+p.ID] = p.FeedToken.Reveal()
		}
	}
	return out
}

// commandsConfig turns the config into the incident policy.
func (c *Config) commandsConfig() commands.Config {
	roles := bot.DefaultRoles()
	for _, r := range c.Incidents.Roles {
		if !slices.Contains(roles, bot.Role(r)) {
			roles = append(roles, bot.Role(r))
		}
	}
	var people bot.People
	for _, p := range c.People {
		people = append(people, p.person())
	}
	var services bot.Services
	for _, s := range c.Services {
		services = append(services, s.service())
	}
	var emoji []string
	for _, e := range c.Incidents.HighlightEmoji {
		emoji = append(emoji, bot.NormalizeEmoji(e))
	}
	every := map[string]time.Duration{}
	for name, d := range c.Incidents.UpdateReminders {
		if sev, err := c.severities().Parse(name); err == nil {
			every[sev.Name] = d
		}
	}
	var tmpl fs.FS
	if c.Templates.Dir != "" {
		tmpl = os.DirFS(c.Templates.Dir)
	}
	return commands.Config{
		Templates:      tmpl,
		UpdateEvery:    every,
		CommanderNag:   c.Incidents.CommanderNag,
		Severities:     c.severities(),
		Roles:          roles,
		Services:       services,
		People:         people,
		ChannelPattern: c.Incidents.ChannelPattern,
		Announce: map[bot.Platform]string{
			bot.PlatformConsole: c.Console.AnnounceChannel,
			bot.PlatformSlack:   c.Slack.AnnounceChannel,
			bot.PlatformDiscord: c.Discord.AnnounceChannel,
		},
		HighlightEmoji:    emoji,
		RestrictLifecycle: c.Incidents.RestrictLifecycle,
		Admins:            c.Incidents.Admins,
	}
}
