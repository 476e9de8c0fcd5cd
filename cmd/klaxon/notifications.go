package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
)

// NotificationsConfig is how klaxon reaches people itself: the providers
// it sends through and the rules of people who set none.
type NotificationsConfig struct {
	// DefaultRules are "method delay" rules, e.g. ["push 0m", "sms 1m",
	// "voice 5m"], for everyone whose people[].notify is empty.
	DefaultRules []string `mapstructure:"default_rules"`
	// LinkSecret signs acknowledgement links (texts, calls, pushes,
	// mails); required with http.public_url. LinkTTL is how long one works.
	LinkSecret Secret        `mapstructure:"link_secret"`
	LinkTTL    time.Duration `mapstructure:"link_ttl"`
	Twilio     struct {
		AccountSID   string `mapstructure:"account_sid"`
		AuthToken    Secret `mapstructure:"auth_token"`
		APIKeySID    string `mapstructure:"api_key_sid"`
		APIKeySecret Secret `mapstructure:"api_key_secret"`
		From         string `mapstructure:"from"`
		APIURL       string `mapstructure:"api_url"`
	} `mapstructure:"twilio"`
	Ntfy struct {
		Server string `mapstructure:"server"`
		Token  Secret `mapstructure:"token"`
	} `mapstructure:"ntfy"`
	SMTP struct {
		Host     string `mapstructure:"host"`
		Port     int    `mapstructure:"port"`
		Security string `mapstructure:"security"` // starttls, tls, none
		Username string `mapstructure:"username"`
		Password Secret `mapstructure:"password"`
		From     string `mapstructure:"from"`
	} `mapstructure:"smtp"`
}

// ContactConfig is people[].contact: where klaxon reaches a person.
type ContactConfig struct {
	SMS        string `mapstructure:"sms"`         // E.164, e.g. +14155550100
	Voice      string `mapstructure:"voice"`       // E.164
	Email      string `mapstructure:"email"`       // default: people[].email
	Push       string `mapstructure:"push"`        // an ntfy topic
	PushServer string `mapstructure:"push_server"` // default: notifications.ntfy.server
	PushToken  Secret `mapstructure:"push_token"`  // default: notifications.ntfy.token
}

// reach is the person's contacts and rules from the configuration
// (checked by validateNotifications; unparsable rules are left out here).
func (p PersonConfig) reach() bot.Reach {
	var r bot.Reach
	add := func(m bot.Method, to, server string) {
		if to != "" {
			r.Contacts = append(r.Contacts, bot.Contact{Method: m, To: to, Server: server, Verified: true})
		}
	}
	email := p.Contact.Email
	if email == "" {
		email = p.Email
	}
	add(bot.MethodPush, p.Contact.Push, p.Contact.PushServer)
	add(bot.MethodSMS, p.Contact.SMS, "")
	add(bot.MethodVoice, p.Contact.Voice, "")
	add(bot.MethodEmail, email, "")
	for _, s := range p.Notify {
		if rule, err := bot.ParseRule(s); err == nil {
			r.Rules = append(r.Rules, rule)
		}
	}
	bot.SortRules(r.Rules)
	return r
}

// publicURL is where people and providers reach klaxon: http.public_url,
// else status.public_url, without a trailing slash.
func (c *Config) publicURL() string {
	u := c.HTTP.PublicURL
	if u == "" {
		u = c.Status.PublicURL
	}
	return strings.TrimSuffix(u, "/")
}

// methodConfigured reports whether klaxon has a provider for m.
func (c *Config) methodConfigured(m bot.Method) bool {
	n := c.Notifications
	switch m {
	case bot.MethodSMS, bot.MethodVoice:
		return n.Twilio.AccountSID != ""
	case bot.MethodPush:
		return n.Ntfy.Server != ""
	case bot.MethodEmail:
		return n.SMTP.Host != ""
	}
	return false
}

func (c *Config) validateNotifications() error {
	n := c.Notifications
	if c.HTTP.PublicURL != "" {
		if err := checkURL(c.HTTP.PublicURL, "https", "http"); err != nil {
			return bad("http.public_url", "%v", err)
		}
	}
	rules := func(key string, list []string) error {
		seen := map[bot.Method]bool{}
		for j, s := range list {
			rule, err := bot.ParseRule(s)
			if err != nil {
				return bad(fmt.Sprintf("%s[%d]", key, j), "%v", err)
			}
			if seen[rule.Method] {
				return bad(fmt.Sprintf("%s[%d]", key, j), "%s has a rule already; one rule per method", rule.Method)
			}
			seen[rule.Method] = true
			if !c.methodConfigured(rule.Method) {
				return bad(fmt.Sprintf("%s[%d]", key, j), "%s needs its provider configured under notifications (%s)", rule.Method, providerKey(rule.Method))
			}
		}
		return nil
	}
	if err := rules("notifications.default_rules", n.DefaultRules); err != nil {
		return err
	}
	for i, p := range c.People {
		key := fmt.Sprintf("people[%d]", i)
		if err := rules(key+".notify", p.Notify); err != nil {
			return err
		}
		for _, f := range []struct {
			m     bot.Method
			sub   string
			value string
		}{{bot.MethodSMS, "sms", p.Contact.SMS}, {bot.MethodVoice, "voice", p.Contact.Voice}, {bot.MethodEmail, "email", p.Contact.Email}, {bot.MethodPush, "push", p.Contact.Push}} {
			if f.value == "" {
				continue
			}
			if err := bot.ValidateContact(f.m, f.value); err != nil {
				return bad(key+".contact."+f.sub, "%v", err)
			}
		}
		if p.Contact.PushServer != "" {
			if err := checkURL(p.Contact.PushServer, "https", "http"); err != nil {
				return bad(key+".contact.push_server", "%v", err)
			}
		}
	}
	if t := n.Twilio; t.AccountSID != "" || t.From != "" || t.AuthToken != "" {
		if !strings.HasPrefix(t.AccountSID, "AC") || len(t.AccountSID) != 34 {
			return bad("notifications.twilio.account_sid", "%q is not a Twilio account SID (AC and 32 characters, from the Twilio console)", t.AccountSID)
		}
		if t.AuthToken == "" && (t.APIKeySID == "" || t.APIKeySecret == "") {
			return bad("notifications.twilio.auth_token", "set the account's auth token, or api_key_sid and api_key_secret")
		}
		if t.APIKeySID != "" && !strings.HasPrefix(t.APIKeySID, "SK") {
			return bad("notifications.twilio.api_key_sid", "%q is not an API key SID (SK…)", t.APIKeySID)
		}
		if err := bot.ValidateContact(bot.MethodSMS, t.From); err != nil {
			return bad("notifications.twilio.from", "%v", err)
		}
		if c.publicURL() != "" && t.AuthToken == "" {
			return bad("notifications.twilio.auth_token", "is needed with http.public_url: klaxon checks Twilio's signature on replies and key presses with it")
		}
		if t.APIURL != "" {
			if err := checkURL(t.APIURL, "https", "http"); err != nil {
				return bad("notifications.twilio.api_url", "%v", err)
			}
		}
	}
	if n.Ntfy.Server != "" {
		if err := checkURL(n.Ntfy.Server, "https", "http"); err != nil {
			return bad("notifications.ntfy.server", "%v", err)
		}
	}
	if s := n.SMTP; s.Host != "" {
		if s.Port < 1 || s.Port > 65535 {
			return bad("notifications.smtp.port", "must be a port, e.g. 587 (starttls) or 465 (tls)")
		}
		switch s.Security {
		case notify.SMTPStartTLS, notify.SMTPTLS, notify.SMTPNone:
		default:
			return bad("notifications.smtp.security", "%q is not one of starttls, tls, none", s.Security)
		}
		if err := bot.ValidateContact(bot.MethodEmail, s.From); err != nil {
			return bad("notifications.smtp.from", "%v", err)
		}
		if s.Username != "" && s.Password == "" {
			return bad("notifications.smtp.password", "is required with notifications.smtp.username")
		}
	}
	anyProvider := n.Twilio.AccountSID != "" || n.Ntfy.Server != "" || n.SMTP.Host != ""
	if anyProvider && c.publicURL() != "" && len(n.LinkSecret) < minSharedSecret {
		return bad("notifications.link_secret", "must be at least %d characters with http.public_url: it signs the acknowledgement links in texts, calls, pushes and mails", minSharedSecret)
	}
	if n.LinkTTL < 0 || n.LinkTTL > 7*24*time.Hour {
		return bad("notifications.link_ttl", "must be between 0 (24h) and 168h")
	}
	return nil
}

func providerKey(m bot.Method) string {
	switch m {
	case bot.MethodSMS, bot.MethodVoice:
		return "notifications.twilio"
	case bot.MethodPush:
		return "notifications.ntfy"
	}
	return "notifications.smtp"
}

// defaultRules are notifications.default_rules, parsed.
func (c *Config) defaultRules() []bot.Rule {
	var out []bot.Rule
	for _, s := range c.Notifications.DefaultRules {
		if r, err := bot.ParseRule(s); err == nil {
			out = append(out, r)
		}
	}
	bot.SortRules(out)
	return out
}

// links signs acknowledgement links; nil without a public URL.
func (c *Config) links() *notify.Links {
	if c.publicURL() == "" || c.Notifications.LinkSecret == "" {
		return nil
	}
	return &notify.Links{Key: []byte(c.Notifications.LinkSecret.Reveal()), TTL: c.Notifications.LinkTTL}
}

// twilio is the Twilio client, or nil.
func (c *Config) twilio(client *http.Client) *notify.Twilio {
	t := c.Notifications.Twilio
	if t.AccountSID == "" {
		return nil
	}
	api := t.APIURL
	if api == "" {
		api = notify.TwilioAPI
	}
	user, pass := t.AccountSID, t.AuthToken.Reveal()
	if t.APIKeySID != "" {
		user, pass = t.APIKeySID, t.APIKeySecret.Reveal()
	}
	return &notify.Twilio{URL: api, AccountSID: t.AccountSID, Username: user, Password: pass, From: t.From,
		PublicURL: c.publicURL(), Links: c.links(), Client: client}
}

// notifiers are the senders of the configured methods.
func (c *Config) notifiers(client *http.Client) map[bot.Method]bot.Sender {
	out := map[bot.Method]bot.Sender{}
	if tw := c.twilio(client); tw != nil {
		out[bot.MethodSMS], out[bot.MethodVoice] = notify.SMS{Twilio: tw}, notify.Voice{Twilio: tw}
	}
	public := c.publicURL()
	incidentURL := func(bot.Delivery) string {
		if public == "" {
			return ""
		}
		return public + "/status"
	}
	if n := c.Notifications.Ntfy; n.Server != "" {
		tokens := map[string]string{}
		for _, p := range c.People {
			if p.Contact.PushToken != "" {
				tokens[p.ID] = p.Contact.PushToken.Reveal()
			}
		}
		out[bot.MethodPush] = &notify.Ntfy{Server: n.Server, Token: n.Token.Reveal(), Tokens: tokens, PublicURL: public, Links: c.links(),
			IncidentURL: incidentURL, Client: client}
	}
	if s := c.Notifications.SMTP; s.Host != "" {
		out[bot.MethodEmail] = &notify.Email{Host: s.Host, Port: s.Port, Security: s.Security, Username: s.Username, Password: s.Password.Reveal(),
			From: s.From, PublicURL: public, Links: c.links(), IncidentURL: incidentURL}
	}
	return out
}

// checkNotifications is klaxon check's part for the providers: each is
// reached and authenticated without sending anything. It returns how
// many failed.
func (m *Main) checkNotifications(ctx context.Context, cfg *Config) int {
	client := bot.OutboundClient(20 * time.Second)
	notifiers := cfg.notifiers(client)
	var checks []struct {
		name, ok string
		check    func(context.Context) error
	}
	add := func(name, ok string, check func(context.Context) error) {
		checks = append(checks, struct {
			name, ok string
			check    func(context.Context) error
		}{name, ok, check})
	}
	if tw := cfg.twilio(client); tw != nil {
		add("notifications.twilio", "the credentials work and "+tw.From+" is the account's", tw.Check)
	}
	if n, ok := notifiers[bot.MethodPush].(*notify.Ntfy); ok {
		add("notifications.ntfy", "the server answers"+map[bool]string{true: " and takes the token", false: ""}[n.Token != ""], n.Check)
	}
	if e, ok := notifiers[bot.MethodEmail].(*notify.Email); ok {
		add("notifications.smtp", "klaxon connected and authenticated (nothing was sent)", e.Check)
	}
	problems := 0
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := c.check(ctx)
		cancel()
		if err != nil {
			problems++
			fmt.Fprintf(m.Stdout, "%s: ✗ %v\n", c.name, err)
			continue
		}
		fmt.Fprintf(m.Stdout, "%s: ✓ %s\n", c.name, c.ok)
	}
	return problems
}
