package main

import (
	"fmt"
	"regexp"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

var tokenName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

var scopes = map[string]web.Scope{"": web.ScopeRead, "read": web.ScopeRead, "write": web.ScopeWrite, "admin": web.ScopeAdmin}

// apiTokens are the API's tokens: api.token (named read), api.admin_token
// (named admin) and api.tokens (checked at start-up).
func (c *Config) apiTokens() []web.Token {
	var out []web.Token
	if c.API.Token != "" {
		out = append(out, web.Token{Name: "read", Secret: c.API.Token.Reveal(), Scope: web.ScopeRead})
	}
	if c.API.AdminToken != "" {
		out = append(out, web.Token{Name: "admin", Secret: c.API.AdminToken.Reveal(), Scope: web.ScopeAdmin})
	}
	for _, t := range c.API.Tokens {
		out = append(out, web.Token{Name: t.Name, Secret: t.Token.Reveal(), Scope: scopes[t.Scope]})
	}
	return out
}

// adminTokens are the actors of the admin-scoped tokens, which the use
// cases count as admins.
func (c *Config) adminTokens() []string {
	var out []string
	for _, t := range c.apiTokens() {
		if t.Scope == web.ScopeAdmin {
			out = append(out, bot.TokenUser(t.Name).ID)
		}
	}
	return out
}

// validateAPITokens checks api.tokens: names, scopes, lengths, and that
// no two tokens share a name or a secret.
func (c *Config) validateAPITokens() error {
	names, secrets := map[string]string{}, map[string]string{}
	if c.API.Token != "" {
		names["read"], secrets[c.API.Token.Reveal()] = "api.token", "api.token"
	}
	if c.API.AdminToken != "" {
		names["admin"], secrets[c.API.AdminToken.Reveal()] = "api.admin_token", "api.admin_token"
	}
	for i, t := range c.API.Tokens {
		key := fmt.Sprintf("api.tokens[%d]", i)
		if !tokenName.MatchString(t.Name) {
			return bad(key+".name", "%q must be 1 to 40 lower-case letters, digits, '.', '_' or '-'", t.Name)
		}
		if other, dup := names[t.Name]; dup {
			return bad(key+".name", "%q is taken by %s", t.Name, other)
		}
		if _, ok := scopes[t.Scope]; !ok {
			return bad(key+".scope", "%q is not one of read, write, admin", t.Scope)
		}
		if len(t.Token) < 16 {
			return bad(key+".token", "must be at least 16 characters")
		}
		if other, dup := secrets[t.Token.Reveal()]; dup {
			return bad(key+".token", "is the same as %s: each token must differ", other)
		}
		names[t.Name], secrets[t.Token.Reveal()] = key, key
	}
	return nil
}
