package discordfake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ClientSecret is the application's OAuth2 client secret in the fake.
const ClientSecret = "discord-oauth2-client-secret-fake"

// oauth2 is the fake's OAuth2 provider: the authorize page (as the
// person who consents), the token endpoint and /users/@me with a Bearer
// token, as Discord's OAuth2 documentation describes them.
type oauth2 struct {
	mu sync.Mutex
	as string // who consents at the next authorize
	// redirects are the redirect URIs registered in the application's
	// OAuth2 settings: Discord refuses any other.
	redirects map[string]bool
	codes     map[string]grant
	tokens    map[string]string // access token → user id
}

type grant struct {
	user, redirect string
	expires        time.Time
}

// AuthorizeAs makes the next visit to the authorize page consent as user.
func (s *Server) AuthorizeAs(user string) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.as = user
}

// AllowRedirect registers uri in the application's OAuth2 redirects, as
// its developer portal page does.
func (s *Server) AllowRedirect(uri string) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	if s.oauth.redirects == nil {
		s.oauth.redirects = map[string]bool{}
	}
	s.oauth.redirects[uri] = true
}

// AuthorizeURL is where Discord's authorize page is in the fake.
func (s *Server) AuthorizeURL() string { return s.srv.URL + "/oauth2/authorize" }

func token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// serveAuthorize consents for the person AuthorizeAs named and sends the
// browser back with a code, as Discord does after "Authorize".
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != AppID || q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " identify ") {
		http.Error(w, "Invalid OAuth2 request: client_id, response_type=code and scope identify are required", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	s.oauth.mu.Lock()
	registered := s.oauth.redirects[q.Get("redirect_uri")]
	s.oauth.mu.Unlock()
	if err != nil || redirect.Host == "" || !registered {
		http.Error(w, "Invalid OAuth2 redirect_uri", http.StatusBadRequest)
		return
	}
	s.oauth.mu.Lock()
	user := s.oauth.as
	if s.oauth.codes == nil {
		s.oauth.codes = map[string]grant{}
	}
	code := token()
	s.oauth.codes[code] = grant{user: user, redirect: q.Get("redirect_uri"), expires: time.Now().Add(10 * time.Minute)}
	s.oauth.mu.Unlock()
	if user == "" {
		v := redirect.Query()
		v.Set("error", "access_denied")
		v.Set("state", q.Get("state"))
		redirect.RawQuery = v.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
		return
	}
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// serveToken exchanges a code: form-encoded, the client authenticated
// (Basic or in the form), the code once, before it expires, for the
// redirect_uri it was issued to.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body must be form-encoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The form could not be read.")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != AppID || secret != ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
		return
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	code := r.PostForm.Get("code")
	g, ok := s.oauth.codes[code]
	delete(s.oauth.codes, code) // once
	if !ok || time.Now().After(g.expires) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "code" in request.`)
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirect {
		oauthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "redirect_uri" in request.`)
		return
	}
	if s.oauth.tokens == nil {
		s.oauth.tokens = map[string]string{}
	}
	access := token()
	s.oauth.tokens[access] = g.user
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 604800, "refresh_token": token(), "scope": "identify"})
}

// serveMe answers GET /users/@me for a Bearer token; a bot's request
// goes on to the bot routes.
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		s.serveREST(w, r)
		return
	}
	s.oauth.mu.Lock()
	user, known := s.oauth.tokens[bearer]
	s.oauth.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 0, "message": "401: Unauthorized"})
		return
	}
	s.mu.Lock()
	name := s.users[user]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": user, "username": name, "global_name": name, "discriminator": "0"})
}
