package webui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/klaxon-bot/klaxon/bot"
)

// OIDC is the identity provider people sign in with: any OpenID Connect
// provider (Google, Okta, Entra ID, Keycloak, Authentik, Dex; Slack is
// one too, at https://slack.com).
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string // besides openid; default: profile, email
}

// Cookie names. __Host- would pin them to the host, but klaxon may be
// served under a path prefix behind a proxy.
const (
	sessionCookie = "klaxon_session"
	loginCookie   = "klaxon_login"
)

// login is what a sign-in keeps in its short-lived cookie between the
// redirect to the provider and the callback: state, nonce and the PKCE
// verifier, and where to go after.
type login struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"`
	Expires  time.Time `json:"e"`
}

// provider is the discovered OIDC provider, found on first use and kept.
type provider struct {
	oidc     *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (u *UI) provider(ctx context.Context) (*provider, error) {
	u.mu.Lock()
	found := u.prov
	u.mu.Unlock()
	if found != nil {
		return found, nil
	}
	// Discovery is a network call: made without the lock; two sign-ins
	// at once may both discover, and the first kept wins.
	ctx = oidc.ClientContext(ctx, u.cfg.Client)
	p, err := oidc.NewProvider(ctx, u.cfg.OIDC.Issuer)
	if err != nil {
		return nil, fmt.Errorf("the identity provider at %s could not be reached: %w", u.cfg.OIDC.Issuer, err)
	}
	scopes := u.cfg.OIDC.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	prov := &provider{oidc: p,
		oauth: oauth2.Config{ClientID: u.cfg.OIDC.ClientID, ClientSecret: u.cfg.OIDC.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: u.cfg.PublicURL + "/auth/callback", Scopes: append([]string{oidc.ScopeOpenID}, scopes...)},
		verifier: p.Verifier(&oidc.Config{ClientID: u.cfg.OIDC.ClientID, Now: u.cfg.Clock.Now}),
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.prov == nil {
		u.prov = prov
	}
	return u.prov, nil
}

// random is n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on a working system
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeReturn keeps a return address on klaxon itself: a path under the
// console, never another host, scheme or a protocol-relative URL.
func (u *UI) safeReturn(r string) string {
	if r == "" || !strings.HasPrefix(r, "/") || strings.HasPrefix(r, "//") || strings.HasPrefix(r, "/\\") || strings.ContainsAny(r, "\r\n\\") {
		return u.cfg.BasePath + "/"
	}
	if p, err := url.Parse(r); err != nil || p.Host != "" || p.Scheme != "" {
		return u.cfg.BasePath + "/"
	}
	return r
}

// handleLogin starts a sign-in: authorization code flow with PKCE (S256),
// state and nonce.
func (u *UI) handleLogin(w http.ResponseWriter, r *http.Request) {
	u.headers(w)
	switch {
	case u.cfg.Discord != nil && u.cfg.OIDC.Issuer == "":
		u.handleDiscordLogin(w, r)
		return
	case u.cfg.Discord != nil && r.URL.Query().Get("with") == "":
		// Both: the person picks.
		ret := url.QueryEscape(r.URL.Query().Get("return"))
		u.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: map[string]string{
			"OIDC": u.cfg.BasePath + "/login?with=oidc&return=" + ret, "Discord": u.cfg.BasePath + "/login/discord?return=" + ret}})
		return
	}
	p, err := u.provider(r.Context())
	if err != nil {
		u.log.Error().Err(err).Msg("web sign-in")
		u.problem(w, r, http.StatusBadGateway, "Sign-in is not available", "klaxon could not reach the identity provider. Try again in a minute; the details are in klaxon's log.")
		return
	}
	l := login{State: random(24), Nonce: random(24), Verifier: oauth2.GenerateVerifier(), Return: u.safeReturn(r.URL.Query().Get("return")),
		Expires: u.cfg.Clock.Now().Add(10 * time.Minute)}
	u.setCookie(w, loginCookie, u.seal(l), 10*time.Minute)
	http.Redirect(w, r, p.oauth.AuthCodeURL(l.State, oidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(l.Verifier)), http.StatusFound)
}

// seal signs a login so the browser cannot change it; unseal checks it.
func (u *UI) seal(l login) string {
	data, _ := json.Marshal(l)
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(u.mac(data))
}

func (u *UI) unseal(v string) (login, bool) {
	d, s, ok := strings.Cut(v, ".")
	data, err1 := base64.RawURLEncoding.DecodeString(d)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	var l login
	if !ok || err1 != nil || err2 != nil || subtle.ConstantTimeCompare(sig, u.mac(data)) != 1 || json.Unmarshal(data, &l) != nil {
		return login{}, false
	}
	return l, u.cfg.Clock.Now().Before(l.Expires)
}

func (u *UI) mac(data []byte) []byte {
	h := sha256.New()
	h.Write(u.cfg.Key)
	h.Write([]byte("\x00klaxon web login v1\x00"))
	h.Write(data)
	return h.Sum(nil)
}

// ErrSignIn explains a refused sign-in; the page shows it, nothing is stored.
var errSignIn = errors.New("sign-in refused")

// callback begins a provider's callback: it spends the login cookie
// (so a replayed callback finds none), unseals it, and checks the
// provider's error and the state. refuse answers with a page that says
// why; ok is false when the callback was refused already.
func (u *UI) callback(w http.ResponseWriter, r *http.Request, provider string) (l login, refuse func(string, error), ok bool) {
	u.clearCookie(w, loginCookie)
	refuse = func(reason string, err error) {
		u.log.Warn().Err(err).Str("reason", reason).Str("provider", provider).Msg("web sign-in refused")
		u.problem(w, r, http.StatusForbidden, "Sign-in refused", reason+" Nothing was stored. Start again from the sign-in page.")
	}
	c, err := r.Cookie(loginCookie)
	if err != nil {
		refuse("This sign-in was not started here, or it was used already.", err)
		return login{}, refuse, false
	}
	if l, ok = u.unseal(c.Value); !ok {
		refuse("This sign-in has expired or was changed.", errSignIn)
		return login{}, refuse, false
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		refuse(upper(provider)+" said: "+bot.Cut(e+" "+q.Get("error_description"), 200)+".", errSignIn)
		return login{}, refuse, false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.State)) != 1 {
		refuse("The sign-in's state does not match.", errSignIn)
		return login{}, refuse, false
	}
	return l, refuse, true
}

func upper(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// handleCallback finishes a sign-in: the state matches the login's (the
// login cookie is spent either way, so a replayed state finds none), the
// code is exchanged with the PKCE verifier, the ID token's signature,
// issuer, audience and expiry are checked, then its nonce, and the
// identity is mapped to a person.
func (u *UI) handleCallback(w http.ResponseWriter, r *http.Request) {
	l, refuse, ok := u.callback(w, r, "the identity provider")
	if !ok {
		return
	}
	q := r.URL.Query()
	p, err := u.provider(r.Context())
	if err != nil {
		refuse("klaxon could not reach the identity provider.", err)
		return
	}
	ctx := oidc.ClientContext(r.Context(), u.cfg.Client)
	tok, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(l.Verifier))
	if err != nil {
		refuse("The identity provider did not accept the sign-in code.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse("The identity provider sent no ID token.", errSignIn)
		return
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		refuse("The ID token is not valid for klaxon (its signature, issuer, audience or expiry).", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.Nonce)) != 1 {
		refuse("The ID token's nonce does not match this sign-in.", errSignIn)
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		SlackUser     string `json:"https://slack.com/user_id"`
	}
	if err := idt.Claims(&claims); err != nil {
		refuse("The ID token's claims could not be read.", err)
		return
	}
	if claims.Email == "" && claims.SlackUser == "" {
		// Providers that keep the profile out of the ID token serve it
		// at their userinfo endpoint, for the same subject.
		info, err := p.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			refuse("The identity provider did not say who you are (userinfo).", err)
			return
		}
		if info.Subject != idt.Subject {
			refuse("The identity provider's userinfo is about someone else.", errSignIn)
			return
		}
		claims.Email, claims.EmailVerified = info.Email, &info.EmailVerified
	}
	who, ok := u.personFor(claims.SlackUser, claims.Email, claims.EmailVerified)
	if !ok && u.cfg.StatusForUnknown {
		// Not one of klaxon's people: what the public sees, no session.
		u.log.Info().Msg("web sign-in by someone klaxon does not know: sent to the status page")
		http.Redirect(w, r, u.cfg.PublicURL+"/status", http.StatusSeeOther)
		return
	}
	if !ok {
		refuse(fmt.Sprintf("%s is not one of klaxon's people. Ask an admin to add you under people: with this email address.", orSomeone(claims.Email)), errSignIn)
		return
	}
	u.startSession(w, r, who, u.cfg.OIDC.Issuer, l.Return)
}

// startSession signs who in: a new session in the store, its secret in
// the cookie, and on to where the sign-in started.
func (u *UI) startSession(w http.ResponseWriter, r *http.Request, who bot.Person, via, back string) {
	secret := random(32)
	now := u.cfg.Clock.Now()
	s := &bot.Session{ID: hashSecret(secret), Person: who.ID, CSRF: random(24), Via: via, Start: now, Seen: now}
	if err := u.cfg.Store.Update(r.Context(), func(tx bot.Tx) error { return tx.PutSession(s) }); err != nil {
		u.log.Error().Err(err).Msg("storing a web session")
		u.problem(w, r, http.StatusInternalServerError, "Sign-in failed", "klaxon could not store the session. Try again.")
		return
	}
	u.log.Info().Str("person", who.ID).Str("via", via).Msg("signed in to the web console")
	u.setCookie(w, sessionCookie, secret, u.cfg.MaxAge)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func orSomeone(email string) string {
	if email == "" {
		return "This identity"
	}
	return email
}

// personFor maps a signed-in identity to a person: by Slack user id (the
// claim Slack's OpenID provider sets), else by a verified email address.
func (u *UI) personFor(slackID, email string, verified *bool) (bot.Person, bool) {
	if slackID != "" {
		if p, ok := u.cfg.People.ByUser(bot.PlatformSlack, slackID); ok {
			return p, true
		}
	}
	if email == "" || (verified != nil && !*verified) {
		return bot.Person{}, false
	}
	for _, p := range u.cfg.People {
		if p.Email != "" && strings.EqualFold(p.Email, email) {
			return p, true
		}
	}
	return bot.Person{}, false
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// session is the request's session, if its cookie names a live one: not
// past its idle or absolute expiry. A use more than a minute after the
// last is recorded, so idle expiry counts from the last use.
func (u *UI) session(r *http.Request) (*bot.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	s, err := u.cfg.Store.Session(r.Context(), hashSecret(c.Value))
	if err != nil {
		return nil, false
	}
	now := u.cfg.Clock.Now()
	if now.Sub(s.Seen) > u.cfg.IdleTimeout || now.Sub(s.Start) > u.cfg.MaxAge {
		_ = u.cfg.Store.Update(r.Context(), func(tx bot.Tx) error { return tx.DeleteSession(s.ID) })
		return nil, false
	}
	if now.Sub(s.Seen) > time.Minute {
		s.Seen = now
		_ = u.cfg.Store.Update(r.Context(), func(tx bot.Tx) error { return tx.PutSession(s) })
	}
	return s, true
}

// handleLogout ends the session (a POST with its CSRF token).
func (u *UI) handleLogout(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	if err := u.cfg.Store.Update(r.Context(), func(tx bot.Tx) error { return tx.DeleteSession(s.ID) }); err != nil {
		u.log.Error().Err(err).Msg("ending a web session")
	}
	u.clearCookie(w, sessionCookie)
	u.render(w, r, http.StatusOK, "signedout", page{Title: "Signed out"})
}

func (u *UI) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: u.cookiePath(), MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: u.secure(), SameSite: http.SameSiteLaxMode})
}

func (u *UI) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: u.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: u.secure(), SameSite: http.SameSiteLaxMode})
}

func (u *UI) cookiePath() string {
	if p, err := url.Parse(u.cfg.PublicURL); err == nil && p.Path != "" {
		return p.Path
	}
	return "/"
}

func (u *UI) secure() bool { return strings.HasPrefix(u.cfg.PublicURL, "https://") }
