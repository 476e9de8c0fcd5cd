package main

import (
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/webui"
)

// WebConfig is the web console: sign-in with an OpenID Connect provider.
type WebConfig struct {
	OIDC struct {
		Issuer       string   `mapstructure:"issuer"`
		ClientID     string   `mapstructure:"client_id"`
		ClientSecret Secret   `mapstructure:"client_secret"`
		Scopes       []string `mapstructure:"scopes"`
	} `mapstructure:"oidc"`
	// Discord is "Sign in with Discord" (OAuth2, scope identify): the
	// application's client secret; its id is discord.application_id
	// unless client_id says otherwise.
	Discord struct {
		ClientID     string `mapstructure:"client_id"`
		ClientSecret Secret `mapstructure:"client_secret"`
		AuthorizeURL string `mapstructure:"authorize_url"`
	} `mapstructure:"discord"`
	// SessionSecret signs the sign-in in progress (state, nonce, PKCE).
	SessionSecret Secret        `mapstructure:"session_secret"`
	SessionIdle   time.Duration `mapstructure:"session_idle"`
	SessionMax    time.Duration `mapstructure:"session_max"`
	// UnknownPeople is what someone who signs in but is not one of
	// klaxon's people gets: refuse (a page that says so) or status (the
	// public status page).
	UnknownPeople string `mapstructure:"unknown_people"`
}

// webEnabled reports whether the console is configured.
func (c *Config) webEnabled() bool {
	return c.Web.OIDC.Issuer != "" || c.Web.Discord.ClientSecret != ""
}

// discordSignIn is "Sign in with Discord", or nil.
func (c *Config) discordSignIn() *webui.DiscordOAuth {
	d := c.Web.Discord
	if d.ClientSecret == "" {
		return nil
	}
	id := d.ClientID
	if id == "" {
		id = c.Discord.ApplicationID
	}
	api := c.Discord.APIURL
	if api == "" {
		api = "https://discord.com/api/v10"
	}
	auth := d.AuthorizeURL
	if auth == "" {
		auth = "https://discord.com/oauth2/authorize"
	}
	return &webui.DiscordOAuth{ClientID: id, ClientSecret: d.ClientSecret.Reveal(), AuthorizeURL: auth, APIURL: strings.TrimSuffix(api, "/")}
}

func (c *Config) validateWeb() error {
	w := c.Web
	if !c.webEnabled() {
		if w.OIDC.ClientID != "" {
			return bad("web.oidc.issuer", "is required with web.oidc.client_id: the provider's issuer URL, e.g. https://accounts.google.com")
		}
		return nil
	}
	if w.OIDC.Issuer != "" {
		if err := checkURL(w.OIDC.Issuer, "https", "http"); err != nil {
			return bad("web.oidc.issuer", "%v", err)
		}
		if w.OIDC.ClientID == "" {
			return bad("web.oidc.client_id", "is required: the client id klaxon is registered under at the provider")
		}
	}
	if w.Discord.ClientSecret != "" && w.Discord.ClientID == "" && c.Discord.ApplicationID == "" {
		return bad("web.discord.client_id", "is required (or discord.application_id): the Discord application people sign in to")
	}
	if w.Discord.AuthorizeURL != "" {
		if err := checkURL(w.Discord.AuthorizeURL, "https", "http"); err != nil {
			return bad("web.discord.authorize_url", "%v", err)
		}
	}
	if c.publicURL() == "" {
		return bad("http.public_url", "is required with web.oidc: the provider sends people back to <public_url>/auth/callback")
	}
	if len(w.SessionSecret) < minSharedSecret {
		return bad("web.session_secret", "must be at least %d characters: it signs sign-ins in progress", minSharedSecret)
	}
	if w.UnknownPeople != "refuse" && w.UnknownPeople != "status" {
		return bad("web.unknown_people", "%q is not one of refuse, status", w.UnknownPeople)
	}
	if w.SessionIdle < time.Minute || w.SessionMax < w.SessionIdle {
		return bad("web.session_idle", "must be at least 1m and at most web.session_max")
	}
	return nil
}

// webUI builds the console, or nil when it is not configured.
func (a *app) webUI() (*webui.UI, error) {
	c := a.cfg
	if !c.webEnabled() {
		return nil, nil
	}
	var services []string
	for _, s := range c.Services {
		services = append(services, s.ID)
	}
	var platforms []bot.Platform
	for _, ch := range a.chats {
		platforms = append(platforms, ch.Platform())
	}
	var roles []string
	for _, r := range c.commandsConfig().Roles {
		roles = append(roles, string(r))
	}
	if len(roles) == 0 {
		for _, r := range bot.DefaultRoles() {
			roles = append(roles, string(r))
		}
	}
	tokens := c.feedTokens()
	feeds := func(person string) string {
		if tok := tokens["person:"+person]; tok != "" {
			return c.publicURL() + "/oncall/person/" + url.PathEscape(person) + ".ics?token=" + url.QueryEscape(tok)
		}
		return ""
	}
	return webui.New(webui.Config{Discord: c.discordSignIn(), Roles: roles, OnCall: a.oncall, Policies: a.paging, Feeds: feeds, Insights: insightsSource{a}, Types: c.incidentTypes(), StatusForUnknown: c.Web.UnknownPeople == "status",
		OIDC:      webui.OIDC{Issuer: strings.TrimSuffix(c.Web.OIDC.Issuer, "/"), ClientID: c.Web.OIDC.ClientID, ClientSecret: c.Web.OIDC.ClientSecret.Reveal(), Scopes: c.Web.OIDC.Scopes},
		PublicURL: c.publicURL(), Key: []byte(c.Web.SessionSecret.Reveal()), IdleTimeout: c.Web.SessionIdle, MaxAge: c.Web.SessionMax,
		People: a.policy.People, Severities: c.severities(), Services: services, Store: a.store, Incidents: a.incidents, Postmortems: a.incidents.Reports(),
		Dispatch: a.mux.Dispatch, Act: a.mux.Act, Platforms: platforms, Client: bot.OutboundClient(10 * time.Second), Clock: a.clock, Log: a.log,
	})
}
