package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
	"github.com/klaxon-bot/klaxon/commands/subscribe"
)

// statusURL is where people reach the status page: status.public_url,
// else http.public_url.
func (c *Config) statusURL() string {
	if c.Status.PublicURL != "" {
		return c.Status.PublicURL
	}
	return c.HTTP.PublicURL
}

// validateSubscriptions checks status.subscriptions and
// http.trusted_proxies.
func (c *Config) validateSubscriptions() error {
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			return bad(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an address or a network like 10.0.0.0/8", p)
		}
	}
	if !c.Status.Subscriptions {
		return nil
	}
	switch {
	case c.Notifications.SMTP.Host == "":
		return bad("status.subscriptions", "needs notifications.smtp: the confirmation and notice mails go through it")
	case c.statusURL() == "":
		return bad("status.subscriptions", "needs status.public_url (or http.public_url): the mails link to the status page")
	case len(c.Notifications.LinkSecret) < minSharedSecret:
		return bad("status.subscriptions", "needs notifications.link_secret (at least %d characters): it signs the confirmation and unsubscribe links", minSharedSecret)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trustedProxies are http.trusted_proxies, parsed (checked at start-up).
func (c *Config) trustedProxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.HTTP.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// initSubscriptions lets people subscribe to the status page by email,
// when status.subscriptions is on.
func (a *app) initSubscriptions(context.Context) error {
	cfg := a.cfg
	if !cfg.Status.Subscriptions {
		return nil
	}
	s := cfg.Notifications.SMTP
	mailer := &notify.Email{Host: s.Host, Port: s.Port, Security: s.Security, Username: s.Username, Password: s.Password.Reveal(), From: s.From}
	a.subs = subscribe.New(a.store, subscribe.Config{Title: cfg.Status.Title, PublicURL: cfg.statusURL(),
		Secret: []byte(cfg.Notifications.LinkSecret.Reveal()), Services: a.policy.Services, Types: a.policy.Types,
		Mailer: mailer, Wake: a.wake}, a.clock, a.log)
	a.incidents.Follow(a.subs)
	a.outbox.Handle(bot.OpStatusNotice, a.subs)
	a.outbox.Handle(bot.OpStatusMail, a.subs)
	return nil
}
