package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/heartbeats"
	"github.com/klaxon-bot/klaxon/commands/hooks"
)

// alertsConfig checks the alerts section and turns it into the intake
// policy and the enabled sources, naming the first bad key.
func (c *Config) alertsConfig() (alerts.Config, map[string]web.Source, error) {
	out := alerts.Config{Platform: c.platform(), DefaultSeverity: c.Alerts.DefaultSeverity, MitigateOnResolve: c.Alerts.MitigateOnResolve,
		Storm: alerts.Storm{MaxIncidents: c.Alerts.Storm.MaxIncidents, Window: c.Alerts.Storm.Window}}
	if out.Storm.MaxIncidents < 0 {
		return out, nil, bad("alerts.storm.max_incidents", "must be 0 (no cap) or more")
	}
	if out.Storm.MaxIncidents > 0 && out.Storm.Window < time.Minute {
		return out, nil, bad("alerts.storm.window", "must be at least 1m")
	}
	switch p := bot.Platform(c.Alerts.Platform); {
	case p == "":
	case knownPlatform(p):
		if !slices.Contains(strings.Split(c.Mode(), "+"), string(p)) {
			return out, nil, bad("alerts.platform", "%q is not connected (klaxon runs in %s mode)", p, c.Mode())
		}
		out.Platform = p
	default:
		return out, nil, bad("alerts.platform", "%q is not one of %s", p, platformNames())
	}
	sevs := c.severities()
	if c.Alerts.DefaultSeverity != "" {
		if _, err := sevs.Parse(c.Alerts.DefaultSeverity); err != nil {
			return out, nil, bad("alerts.default_severity", "%q is not a severity", c.Alerts.DefaultSeverity)
		}
	}
	loopback := c.loopback()
	sources := map[string]web.Source{}
	for i, s := range c.Alerts.Sources {
		key := fmt.Sprintf("alerts.sources[%d]", i)
		switch s.Name {
		case "alertmanager", "grafana", "generic":
		default:
			return out, nil, bad(key+".name", "%q is not one of alertmanager, grafana, generic", s.Name)
		}
		if _, dup := sources[s.Name]; dup {
			return out, nil, bad(key+".name", "%q is configured twice", s.Name)
		}
		if (s.Username == "") != (s.Password == "") {
			return out, nil, bad(key+".password", "username and password go together")
		}
		if s.HMACSecret != "" && s.Name != "grafana" {
			return out, nil, bad(key+".hmac_secret", "only Grafana signs its webhooks")
		}
		if s.HMACWithoutTimestamp && s.HMACSecret == "" {
			return out, nil, bad(key+".hmac_without_timestamp", "goes with hmac_secret")
		}
		src := web.Source{Token: s.Token.Reveal(), Username: s.Username, Password: s.Password.Reveal(), HMACSecret: s.HMACSecret.Reveal(),
			HMACWithoutTimestamp: s.HMACWithoutTimestamp}
		if err := c.publicSecret(key+".token", s.Token); err != nil {
			return out, nil, err
		}
		if err := c.publicSecret(key+".password", s.Password); err != nil {
			return out, nil, err
		}
		if s.HMACSecret != "" && len(s.HMACSecret) < minSharedSecret {
			return out, nil, bad(key+".hmac_secret", "must be at least %d characters: a short one is guessed in a few tries", minSharedSecret)
		}
		if src.Open() && !loopback {
			return out, nil, bad(key, "needs a token, username/password or hmac_secret: http.listen %q is reachable from other machines", c.HTTP.Listen)
		}
		sources[s.Name] = src
	}
	services := map[string]bool{}
	for _, s := range c.Services {
		services[s.ID] = true
	}
	for i, r := range c.Alerts.Routes {
		key := fmt.Sprintf("alerts.routes[%d]", i)
		if len(r.Match) == 0 {
			return out, nil, bad(key+".match", "needs at least one label matcher")
		}
		route := alerts.Route{Match: map[string]*regexp.Regexp{}, Service: r.Service, Severity: r.Severity, Type: r.Type, Public: r.Public}
		for label, pattern := range r.Match {
			re, err := regexp.Compile("^(?:" + pattern + ")$")
			if err != nil {
				return out, nil, bad(key+".match."+label, "%q is not a regular expression: %v", pattern, err)
			}
			route.Match[label] = re
		}
		if r.Service != "" && len(services) > 0 && !services[r.Service] {
			return out, nil, bad(key+".service", "%q is not in services", r.Service)
		}
		if r.Severity != "" {
			if _, err := sevs.Parse(r.Severity); err != nil {
				return out, nil, bad(key+".severity", "%q is not a severity", r.Severity)
			}
		}
		if r.Type != "" {
			if _, ok := c.incidentTypes().Get(r.Type); !ok {
				return out, nil, bad(key+".type", "%q is not one of incidents.types", r.Type)
			}
		}
		if r.Service == "" && r.Severity == "" && r.Type == "" {
			return out, nil, bad(key, "sets neither service, severity nor type")
		}
		out.Routes = append(out.Routes, route)
	}
	return out, sources, nil
}

// heartbeats checks the heartbeats section, naming the first bad key.
func (c *Config) heartbeats() ([]heartbeats.Config, map[string]string, error) {
	loopback := c.loopback()
	services := map[string]bool{}
	for _, s := range c.Services {
		services[s.ID] = true
	}
	var out []heartbeats.Config
	tokens := map[string]string{}
	seen := map[string]bool{}
	for i, h := range c.Heartbeats {
		key := fmt.Sprintf("heartbeats[%d]", i)
		if h.Name == "" || bot.Slug(h.Name, 60) != h.Name {
			return nil, nil, bad(key+".name", "%q must be lower-case letters, digits and - (it is the URL /heartbeat/<name>)", h.Name)
		}
		if seen[h.Name] {
			return nil, nil, bad(key+".name", "%q is configured twice", h.Name)
		}
		seen[h.Name] = true
		if h.Interval < time.Minute {
			return nil, nil, bad(key+".interval", "must be at least 1m")
		}
		if h.Grace < 0 {
			return nil, nil, bad(key+".grace", "must not be negative")
		}
		if h.Service != "" && len(services) > 0 && !services[h.Service] {
			return nil, nil, bad(key+".service", "%q is not in services", h.Service)
		}
		if h.Severity != "" {
			if _, err := c.severities().Parse(h.Severity); err != nil {
				return nil, nil, bad(key+".severity", "%q is not a severity", h.Severity)
			}
		}
		if err := c.publicSecret(key+".token", h.Token); err != nil {
			return nil, nil, err
		}
		if h.Token == "" && !loopback {
			return nil, nil, bad(key+".token", "is required: http.listen %q is reachable from other machines", c.HTTP.Listen)
		}
		tokens[h.Name] = h.Token.Reveal()
		out = append(out, heartbeats.Config{Name: h.Name, Interval: h.Interval, Grace: h.Grace, Service: h.Service, Severity: h.Severity})
	}
	return out, tokens, nil
}

// minPublicSecret is the shortest token or password klaxon takes on a
// listener other machines can reach; minSharedSecret the shortest signing
// secret it takes anywhere (a signature is checked wherever it goes).
const (
	minPublicSecret = 16
	minSharedSecret = 16
)

// publicSecret refuses a short credential at key when http.listen is
// reachable from other machines: a one-character token is no lock.
func (c *Config) publicSecret(key string, s Secret) error {
	if s != "" && len(s) < minPublicSecret && !c.loopback() {
		return bad(key, "must be at least %d characters: http.listen %q is reachable from other machines", minPublicSecret, c.HTTP.Listen)
	}
	return nil
}

// loopback reports whether http.listen is reachable from this machine only.
func (c *Config) loopback() bool {
	host, _, _ := net.SplitHostPort(c.HTTP.Listen)
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// hooks checks the hooks section and builds the hook senders, naming the
// first bad key.
func (c *Config) hooks(client *http.Client) ([]hooks.Config, error) {
	var out []hooks.Config
	seen := map[string]bool{}
	for i, h := range c.Hooks {
		key := fmt.Sprintf("hooks[%d]", i)
		if h.ID == "" || bot.Slug(h.ID, 40) != h.ID {
			return nil, bad(key+".id", "%q must be lower-case letters, digits and -", h.ID)
		}
		if seen[h.ID] {
			return nil, bad(key+".id", "%q is used twice", h.ID)
		}
		seen[h.ID] = true
		if err := checkURL(h.URL, "https", "http"); err != nil {
			return nil, bad(key+".url", "%v", err)
		}
		if len(h.Secret) < minSharedSecret {
			return nil, bad(key+".secret", "must be at least %d characters: receivers check the signature with it", minSharedSecret)
		}
		events := h.Events
		if slices.Equal(events, []string{"*"}) {
			events = bot.HookEvents()
		}
		if len(events) == 0 {
			return nil, bad(key+".events", "name at least one event, or \"*\": %s", strings.Join(bot.HookEvents(), ", "))
		}
		for j, e := range events {
			if !slices.Contains(bot.HookEvents(), e) {
				return nil, bad(fmt.Sprintf("%s.events[%d]", key, j), "%q is not one of %s", e, strings.Join(bot.HookEvents(), ", "))
			}
		}
		u, secret := h.URL, h.Secret.Reveal()
		out = append(out, hooks.Config{ID: h.ID, Events: events, Post: func(ctx context.Context, d bot.HookDelivery) bot.SendResult {
			return pager.SignedPost(ctx, client, u, secret, d.Key, nil, d.Body, http.Header{"X-Klaxon-Event": {d.Event}})
		}})
	}
	return out, nil
}
