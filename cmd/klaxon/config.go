package main

import (
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

// The configuration's schema: what config.yaml (and KLAXON_* variables)
// may say, with the defaults. Loading, validation and building are in
// config_load.go, config_validate.go and config_build.go.

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
		// Driver is bbolt (one file, nothing to run) or postgres (a
		// database you operate; replicas share it).
		Driver        string        `mapstructure:"driver"`
		Path          string        `mapstructure:"path"` // bbolt
		LockTimeout   time.Duration `mapstructure:"lock_timeout"`
		SeenRetention time.Duration `mapstructure:"seen_retention"`
		Postgres      struct {
			DSN Secret `mapstructure:"dsn"` // postgres://user:password@host:5432/klaxon?sslmode=require
			// Lease is how long the leader's lease lasts: a standby takes
			// over at most this long after the leader dies.
			Lease time.Duration `mapstructure:"lease"`
		} `mapstructure:"postgres"`
	} `mapstructure:"store"`
	HTTP struct {
		Listen       string `mapstructure:"listen"`
		MetricsToken Secret `mapstructure:"metrics_token"` // bearer token for /metrics; empty: open
		// MaxConnsPerClient bounds the connections one client address holds
		// at once; behind a reverse proxy, raise it.
		MaxConnsPerClient int `mapstructure:"max_conns_per_client"`
		// PublicURL is where people and providers reach klaxon from
		// outside (https://klaxon.example.com): acknowledgement links and
		// Twilio's replies go there. Empty: status.public_url, else none.
		PublicURL string `mapstructure:"public_url"`
		// TrustedProxies are the reverse proxies (addresses or networks)
		// whose X-Forwarded-For klaxon believes, to tell clients apart for
		// the status page's rate limits.
		TrustedProxies []string `mapstructure:"trusted_proxies"`
	} `mapstructure:"http"`
	Status struct {
		Title     string `mapstructure:"title"`
		PublicURL string `mapstructure:"public_url"` // where people reach /status, for the Atom feed's links
		// FrameAncestors are the origins that may show /status in a frame
		// (its CSP frame-ancestors); empty: none may.
		FrameAncestors []string `mapstructure:"frame_ancestors"`
		// Subscriptions lets people subscribe to public incidents by email
		// (needs notifications.smtp and notifications.link_secret).
		Subscriptions bool `mapstructure:"subscriptions"`
	} `mapstructure:"status"`
	API struct {
		Token      Secret `mapstructure:"token"`       // a read token, named "read"
		AdminToken Secret `mapstructure:"admin_token"` // an admin token, named "admin"
		// Tokens are named tokens with a scope: read, write or admin.
		Tokens []APITokenConfig `mapstructure:"tokens"`
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
		Token         Secret `mapstructure:"token"`
		ApplicationID string `mapstructure:"application_id"`
		GuildID       string `mapstructure:"guild_id"`
		APIURL        string `mapstructure:"api_url"`
		GatewayURL    string `mapstructure:"gateway_url"`
		CategoryID    string `mapstructure:"category_id"`
		// Where archived incident channels go (incidents.archive_after).
		ArchiveCategoryID string `mapstructure:"archive_category_id"`
		AnnounceChannel   string `mapstructure:"announce_channel"`
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
		// A meeting link for each incident, in its summary and announcement.
		CallURL string `mapstructure:"call_url"`
		// Archive an incident's channel this long after it is closed; 0: never.
		ArchiveAfter time.Duration `mapstructure:"archive_after"`
		// Types of incident, each with its defaults and custom fields.
		Types []TypeConfig `mapstructure:"types"`
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
	OnCall struct {
		// MaxOverride is the longest override or cover anyone but an
		// admin (incidents.admins) may make.
		MaxOverride time.Duration `mapstructure:"max_override"`
	} `mapstructure:"oncall"`
	Heartbeats    []HeartbeatConfig   `mapstructure:"heartbeats"`
	Notifications NotificationsConfig `mapstructure:"notifications"`
	Web           WebConfig           `mapstructure:"web"`
	Hooks         []HookConfig        `mapstructure:"hooks"`
	// Trackers are where follow-ups become tickets (GitHub Issues, Jira
	// Cloud): a service's tracker, else followups.tracker.
	Trackers  []TrackerConfig `mapstructure:"trackers"`
	FollowUps struct {
		Tracker   string        `mapstructure:"tracker"`    // the default tracker's id; empty: none
		SyncEvery time.Duration `mapstructure:"sync_every"` // how often trackers are asked what changed
	} `mapstructure:"followups"`
	Alerts struct {
		Platform          string              `mapstructure:"platform"` // empty: the first connected
		DefaultSeverity   string              `mapstructure:"default_severity"`
		MitigateOnResolve bool                `mapstructure:"mitigate_on_resolve"`
		Sources           []AlertSourceConfig `mapstructure:"sources"`
		Routes            []AlertRouteConfig  `mapstructure:"routes"`
		// Storm caps the incidents one source declares: past MaxIncidents
		// in Window, its new groups join one alert storm incident.
		Storm struct {
			MaxIncidents int           `mapstructure:"max_incidents"` // 0: no cap
			Window       time.Duration `mapstructure:"window"`
		} `mapstructure:"storm"`
	} `mapstructure:"alerts"`

	built derived // what Validate built from the above (config_build.go)
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
	// HMACWithoutTimestamp accepts Grafana signatures without a timestamp
	// (replayable): an explicit opt-in.
	HMACWithoutTimestamp bool `mapstructure:"hmac_without_timestamp"`
}

// AlertRouteConfig maps alerts whose labels all match (regular
// expressions, anchored) to a service, a severity and an incident type.
type AlertRouteConfig struct {
	Match    map[string]string `mapstructure:"match"`
	Service  string            `mapstructure:"service"`
	Severity string            `mapstructure:"severity"`
	Type     string            `mapstructure:"type"`
	// Public puts the incidents it declares on the status page at once.
	Public bool `mapstructure:"public"`
}

// TypeConfig is one incident type (incidents.types).
type TypeConfig struct {
	ID               string `mapstructure:"id"`
	Name             string `mapstructure:"name"`
	Private          bool   `mapstructure:"private"`
	ChannelPattern   string `mapstructure:"channel_pattern"`
	EscalationPolicy string `mapstructure:"escalation_policy"`
	// Announce names the type's announcement channel per platform.
	Announce struct {
		Console string `mapstructure:"console"`
		Slack   string `mapstructure:"slack"`
		Discord string `mapstructure:"discord"`
	} `mapstructure:"announce"`
	// StatusPage shows the type's incidents on the status page; default
	// true (private incidents never show).
	StatusPage *bool               `mapstructure:"status_page"`
	Fields     []CustomFieldConfig `mapstructure:"fields"`
}

// CustomFieldConfig is one custom field of an incident type.
type CustomFieldConfig struct {
	ID       string   `mapstructure:"id"`
	Label    string   `mapstructure:"label"`
	Kind     string   `mapstructure:"kind"` // text, select, user
	Options  []string `mapstructure:"options"`
	Required bool     `mapstructure:"required"`
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

// APITokenConfig is one entry of api.tokens.
type APITokenConfig struct {
	Name  string `mapstructure:"name"` // in the timeline: "token <name>"
	Token Secret `mapstructure:"token"`
	Scope string `mapstructure:"scope"` // read (default), write or admin
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
	// Contact is where klaxon reaches the person itself; Notify their
	// rules ("push 0m", "sms 1m", "voice 5m"), else
	// notifications.default_rules.
	Contact ContactConfig `mapstructure:"contact"`
	Notify  []string      `mapstructure:"notify"`
	// WorkingHours are when the person works, for insights' pages outside
	// working hours. Default: Mon–Fri 09:00–17:00 in their time zone.
	WorkingHours HoursConfig `mapstructure:"working_hours"`
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
	// Chat groups whose members klaxon keeps to who is on call: a Slack
	// user group's handle (created when missing) and a Discord role's id.
	// Schedules may share a group: its members are all their on-call.
	SlackUserGroup string `mapstructure:"slack_user_group"`
	DiscordRole    string `mapstructure:"discord_role"`
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

// TrackerConfig is one issue tracker follow-ups become tickets in.
type TrackerConfig struct {
	ID   string `mapstructure:"id"`
	Type string `mapstructure:"type"` // github, jira
	// GitHub: the repository (owner/name) and the API's URL.
	Repo   string `mapstructure:"repo"`
	APIURL string `mapstructure:"api_url"`
	// Jira Cloud: the site, the account's email, the project and the
	// issue type.
	URL       string `mapstructure:"url"`
	Email     string `mapstructure:"email"`
	Project   string `mapstructure:"project"`
	IssueType string `mapstructure:"issue_type"`
	Token     Secret `mapstructure:"token"` // GitHub token, Jira API token
	// PrivateFollowUps is what of a private incident's follow-ups may go
	// to this tracker: never (the default), without_title, with_title.
	PrivateFollowUps string `mapstructure:"private_followups"`
}

// ServiceConfig is one entry of services.
type ServiceConfig struct {
	ID               string `mapstructure:"id"`
	Name             string `mapstructure:"name"`
	Description      string `mapstructure:"description"`
	EscalationPolicy string `mapstructure:"escalation_policy"`
	Tracker          string `mapstructure:"tracker"` // where its follow-ups become tickets; empty: followups.tracker
	// Owners (person ids) may change the service's schedules and put
	// anyone klaxon knows on them.
	Owners []string `mapstructure:"owners"`
	// When low-priority pages may go out. Default: Mon–Fri 09:00–17:00 in
	// the time zone of the service's first schedule (else UTC).
	BusinessHours HoursConfig `mapstructure:"business_hours"`
}

// HoursConfig is a weekly window: days (mon…sun), from and to (15:04) in
// a time zone.
type HoursConfig struct {
	TimeZone string   `mapstructure:"time_zone"`
	Days     []string `mapstructure:"days"`
	From     string   `mapstructure:"from"`
	To       string   `mapstructure:"to"`
}

// defaults registers every key, so viper knows them all (environment
// variables only reach keys viper knows) and a bare binary runs.
func defaults(v *viper.Viper) {
	v.SetDefault("incidents.call_url", "")
	v.SetDefault("incidents.archive_after", "0s")
	v.SetDefault("incidents.types", []any{})
	v.SetDefault("discord.archive_category_id", "")
	v.SetDefault("store.driver", "bbolt")
	v.SetDefault("http.public_url", "")
	v.SetDefault("notifications.default_rules", []string{})
	v.SetDefault("notifications.link_ttl", "24h")
	v.SetDefault("notifications.smtp.port", 587)
	v.SetDefault("notifications.smtp.security", "starttls")
	v.SetDefault("web.oidc.issuer", "")
	v.SetDefault("web.oidc.client_id", "")
	v.SetDefault("web.oidc.client_secret", "")
	v.SetDefault("web.oidc.scopes", []string{})
	v.SetDefault("web.session_secret", "")
	v.SetDefault("web.session_idle", "12h")
	v.SetDefault("web.session_max", "168h")
	v.SetDefault("web.unknown_people", "refuse")
	v.SetDefault("web.discord.client_id", "")
	v.SetDefault("web.discord.client_secret", "")
	v.SetDefault("web.discord.authorize_url", "")
	v.SetDefault("store.path", "./data/klaxon.db")
	v.SetDefault("store.postgres.dsn", "")
	v.SetDefault("store.postgres.lease", "5s")
	v.SetDefault("store.lock_timeout", "2s")
	v.SetDefault("store.seen_retention", "168h")
	v.SetDefault("http.listen", "127.0.0.1:8080")
	v.SetDefault("status.title", "Status")
	v.SetDefault("oncall.max_override", "168h")
	v.SetDefault("alerts.storm.max_incidents", 10)
	v.SetDefault("alerts.storm.window", "10m")
	v.SetDefault("http.max_conns_per_client", 100)
	v.SetDefault("status.frame_ancestors", []string{})
	v.SetDefault("status.subscriptions", false)
	v.SetDefault("api.tokens", []map[string]any{})
	v.SetDefault("http.trusted_proxies", []string{})
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
	v.SetDefault("discord.api_url", "https://discord.com/api/v10/")
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
	v.SetDefault("followups.tracker", "")
	v.SetDefault("followups.sync_every", "2m")
	for _, list := range []string{"people", "services", "schedules", "escalation_policies", "pagers", "heartbeats", "hooks", "trackers"} {
		v.SetDefault(list, []any{})
	}
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return "KLAXON_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}
