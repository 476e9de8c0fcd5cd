package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

// webRig runs klaxon (console mode) with the web console signing in
// through the OpenID provider at issuer.
type webRig struct {
	t      *testing.T
	public string
	logs   *syncBuffer
	in     *io.PipeWriter
}

// runMain runs klaxon (`run --config config`) in this process with the
// environment e (and clock; nil: the system's), until the test ends, and
// waits until health answers.
// It returns what klaxon prints and its standard input.
func runMain(t testing.TB, config string, e env, health string, clock bot.Clock) (*syncBuffer, *io.PipeWriter) {
	t.Helper()
	logs := &syncBuffer{}
	in, w := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	m := &Main{Stdin: in, Stdout: logs, Stderr: logs, TickEvery: 5 * time.Millisecond, Getenv: e.get, Clock: clock}
	done := make(chan error, 1)
	go func() { done <- m.Execute(ctx, []string{"run", "--config", config}) }()
	t.Cleanup(func() {
		cancel()
		w.Close()
		if err := <-done; err != nil {
			t.Errorf("klaxon: %v\n%s", err, logs)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		resp, err := http.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("klaxon did not answer at %s\n%s", health, logs)
		}
	}
	return logs, w
}

func (r *webRig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s\n%s", what, r.logs)
		}
	}
}

func (r *webRig) say(line string) { io.WriteString(r.in, line+"\n") }

// browser is an HTTP client with cookies that records where it went.
type browser struct {
	*http.Client
	visited []string
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.visited = append(b.visited, req.URL.String())
		return nil
	}}
	return b
}

func (b *browser) get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// startZitadel runs zitadel's example OpenID provider, a complete
// implementation of the protocol (code flow, PKCE, signed ID tokens,
// discovery, JWKS), on 127.0.0.1 with a web client for klaxon.
func startZitadel(t *testing.T, redirect string) (issuer string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer = "http://" + l.Addr().String()
	storage.RegisterClients(storage.WebClient("klaxon-web", "klaxon-client-secret", redirect))
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), nil, false)}}
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// signIn goes through the provider's login form as username.
func signIn(t *testing.T, b *browser, public, username string) (int, string) {
	t.Helper()
	status, body := b.get(t, public+"/app/incidents")
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body)
	if status != http.StatusOK || id == nil {
		t.Fatalf("no login form at the provider: %d %s", status, body)
	}
	login := b.visited[len(b.visited)-1]
	u, _ := url.Parse(login)
	return b.post(t, u.Scheme+"://"+u.Host+"/login/username", url.Values{"id": {id[1]}, "username": {username}, "password": {"verysecure"}})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestWebConsoleSignInAndAct signs in through a real OpenID provider,
// sees the incidents alice may see (not carol's private one, not even by
// its number), is refused an action without its CSRF token, and
// acknowledges one as herself, which the channel shows.
func TestWebConsoleSignInAndAct(t *testing.T) {
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	r := startWebRigAt(t, addr, issuer, "klaxon-web", "klaxon-client-secret")
	r.say(`/incident declare "Checkout is down" sev:1 service:payments`)
	r.say(`/incident declare "Payroll leak" sev:2 private`)
	r.waitFor("both declarations", func() bool { return strings.Contains(r.logs.String(), "INC-2") })

	b := newBrowser()
	status, body := signIn(t, b, r.public, "test-user2")
	if status != http.StatusOK || !strings.Contains(body, "Checkout is down") || strings.Contains(body, "Payroll") {
		t.Fatalf("after sign-in: %d\n%s\n%s", status, body, r.logs)
	}
	status, body = b.get(t, r.public+"/app/incidents/2")
	if status != http.StatusNotFound || strings.Contains(body, "Payroll") {
		t.Fatalf("a private incident by number: %d %s", status, body)
	}
	status, body = b.get(t, r.public+"/app/incidents/1")
	csrf := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || csrf == nil {
		t.Fatalf("incident page: %d %s", status, body)
	}
	if status, _ := b.post(t, r.public+"/app/incidents/1/ack", url.Values{}); status != http.StatusForbidden {
		t.Fatalf("an action without its CSRF token got %d", status)
	}
	if strings.Contains(r.logs.String(), "acknowledged by") {
		t.Fatal("the refused request acknowledged")
	}
	status, body = b.post(t, r.public+"/app/incidents/1/ack", url.Values{"csrf": {csrf[1]}})
	if status != http.StatusOK || !strings.Contains(body, "acknowledged") {
		t.Fatalf("ack: %d %s", status, body)
	}
	r.waitFor("the channel to show alice's acknowledgement", func() bool { return strings.Contains(r.logs.String(), "@alice 👀 acknowledged INC-1") })

	// A role, given from the page, as alice, by person id.
	if status, body = b.post(t, r.public+"/app/incidents/1/role", url.Values{"csrf": {csrf[1]}, "role": {"scribe"}, "person": {"carol"}}); status != http.StatusOK || !strings.Contains(body, "scribe") {
		t.Fatalf("role: %d %s", status, body)
	}
	if _, body = b.get(t, r.public+"/app/incidents/1"); !strings.Contains(body, "scribe: Carol") {
		t.Fatalf("the role is not on the page: %s", body)
	}

	// The postmortem: two saved versions, compared, then shared in the
	// channel (the console writes the upload next to the store).
	status, body = b.get(t, r.public+"/app/incidents/1/postmortem")
	if status != http.StatusOK || !strings.Contains(body, "No version saved yet") {
		t.Fatalf("postmortem page: %d %s", status, body)
	}
	for _, text := range []string{"# INC-1\n\nCheckout fell over.\n", "# INC-1\n\nCheckout fell over at 02:00.\n\n<script>alert(1)</script>\n"} {
		if status, body = b.post(t, r.public+"/app/incidents/1/postmortem", url.Values{"csrf": {csrf[1]}, "do": {"save"}, "markdown": {text}}); status != http.StatusOK {
			t.Fatalf("save: %d %s", status, body)
		}
	}
	if !strings.Contains(body, "Saved version 2.") || strings.Contains(body, "<script>alert") || !strings.Contains(body, "Checkout fell over at 02:00.") {
		t.Fatalf("after saving: %s", body)
	}
	_, body = b.get(t, r.public+"/app/incidents/1/postmortem?compare=1&with=2")
	if !strings.Contains(body, `<span class="ddel">- Checkout fell over.</span>`) || !strings.Contains(body, `<span class="dadd">+ Checkout fell over at 02:00.</span>`) {
		t.Fatalf("compare: %s", body)
	}
	if status, body = b.post(t, r.public+"/app/incidents/1/postmortem", url.Values{"csrf": {csrf[1]}, "do": {"share"}}); status != http.StatusOK {
		t.Fatalf("share: %d %s", status, body)
	}
	var shared string
	r.waitFor("the shared postmortem", func() bool {
		m := regexp.MustCompile(`INC-1-postmortem\.md \(\d+ bytes\) → (\S+)`).FindStringSubmatch(r.logs.String())
		if m == nil {
			return false
		}
		data, _ := os.ReadFile(m[1])
		shared = string(data)
		return shared != ""
	})
	if !strings.Contains(shared, "Checkout fell over at 02:00.") {
		t.Fatalf("the channel got %q, not the edited version", shared)
	}
	if _, body := b.get(t, r.public+"/app/incidents/1?show=changes"); !strings.Contains(body, "saved version 2 of the postmortem") {
		t.Error("the timeline has no record of the edit")
	}

	// The callback replayed: its sign-in was spent.
	var callback string
	for _, v := range b.visited {
		if strings.Contains(v, "/auth/callback") {
			callback = v
		}
	}
	status, body = b.get(t, callback)
	if status != http.StatusForbidden || !strings.Contains(body, "used already") {
		t.Fatalf("a replayed callback: %d %s", status, body)
	}
	// Sign out ends the session everywhere it is used.
	_, body = b.get(t, r.public+"/app/incidents")
	csrf = csrfField.FindStringSubmatch(body)
	if status, _ := b.post(t, r.public+"/app/logout", url.Values{"csrf": {csrf[1]}}); status != http.StatusOK {
		t.Fatalf("sign out: %d", status)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Jar: b.Jar}).Get(r.public + "/app/incidents")
	if err != nil || resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/app/login") {
		t.Fatalf("after sign-out: %v %v", resp, err)
	}
	resp.Body.Close()

	// Someone the provider knows but klaxon does not is refused.
	status, body = signIn(t, newBrowser(), r.public, "test-user@"+strings.Split(strings.TrimPrefix(issuer, "http://"), ":")[0])
	if status != http.StatusForbidden || !strings.Contains(body, "test-user@zitadel.ch is not one of klaxon") {
		t.Fatalf("an unknown person: %d %s", status, body)
	}
}

func startWebRigAt(t *testing.T, addr, issuer, clientID, secret string) *webRig {
	return startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch}
  - {id: carol, name: Carol, email: carol@example.com}
`, issuer, clientID, secret, env{})
}

// startWebRigWith runs klaxon on addr with people (YAML), the web
// console signing in at issuer, and e (a chat platform's settings, say).
func startWebRigWith(t *testing.T, addr, people, issuer, clientID, secret string, e env) *webRig {
	r := &webRig{t: t, public: "http://" + addr, logs: &syncBuffer{}}
	config := writeConfig(t, `
http:
  public_url: "`+r.public+`"
`+people+`
web:
  oidc: {issuer: "`+issuer+`", client_id: `+clientID+`, client_secret: "`+secret+`", scopes: [profile, email]}
  session_secret: "a-web-session-secret-of-32-characters"
`)
	e["KLAXON_STORE_PATH"], e["KLAXON_HTTP_LISTEN"], e["USER"] = filepath.Join(t.TempDir(), "k.db"), addr, "carol"
	r.logs, r.in = runMain(t, config, e, r.public+"/healthz", nil)
	return r
}

// craftedOP is an OpenID provider whose token endpoint answers with the
// ID token a test shapes, to prove klaxon refuses each bad one.
type craftedOP struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	claims   func(nonce string) map[string]any
	signWith *rsa.PrivateKey
	nonce    string
}

func newCraftedOP(t *testing.T) *craftedOP {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	op := &craftedOP{key: key}
	mux := http.NewServeMux()
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	iss := op.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		signKey := op.key
		if op.signWith != nil {
			signKey = op.signWith
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: signKey, KeyID: "k1"}}, nil)
		payload, _ := json.Marshal(op.claims(op.nonce))
		jws, _ := signer.Sign(payload)
		tok, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	return op
}

// TestWebSignInRefusals: wrong audience, an expired token, a bad
// signature, a mismatched nonce and an unknown person are each refused
// with a page that says why, and no session is made.
func TestWebSignInRefusals(t *testing.T) {
	op := newCraftedOP(t)
	addr := loopbackPort(t)
	r := startWebRigAt(t, addr, op.srv.URL, "klaxon-web", "client-secret")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := func(nonce string) map[string]any {
		now := time.Now()
		return map[string]any{"iss": op.srv.URL, "aud": "klaxon-web", "sub": "u1", "email": "test-user2@zitadel.ch", "email_verified": true,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce}
	}
	with := func(k string, v any) func(string) map[string]any {
		return func(n string) map[string]any { c := good(n); c[k] = v; return c }
	}
	for _, tc := range []struct {
		name   string
		claims func(string) map[string]any
		badKey bool
		want   string
	}{
		{"good", good, false, ""},
		{"wrong audience", with("aud", "someone-else"), false, "not valid for klaxon"},
		{"expired", with("exp", time.Now().Add(-time.Hour).Unix()), false, "not valid for klaxon"},
		{"bad signature", good, true, "not valid for klaxon"},
		{"wrong issuer", with("iss", "https://evil.example.com"), false, "not valid for klaxon"},
		{"mismatched nonce", with("nonce", "another"), false, "nonce does not match"},
		{"unknown person", with("email", "mallory@example.com"), false, "mallory@example.com is not one of klaxon"},
		{"unverified email", with("email_verified", false), false, "is not one of klaxon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op.claims, op.signWith = tc.claims, nil
			if tc.badKey {
				op.signWith = other
			}
			b := newBrowser()
			nb := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := nb.Get(r.public + "/app/login?return=/app/incidents")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			auth, _ := url.Parse(resp.Header.Get("Location"))
			q := auth.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
				t.Fatalf("the authorization request lacks PKCE, state or nonce: %s", auth)
			}
			op.nonce = q.Get("nonce")
			resp, err = nb.Get(r.public + "/auth/callback?code=c1&state=" + url.QueryEscape(q.Get("state")))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			signedIn := false
			for _, c := range b.Jar.Cookies(resp.Request.URL) {
				if c.Name == "klaxon_session" && c.Value != "" {
					signedIn = true
				}
			}
			if tc.want == "" {
				if resp.StatusCode != http.StatusSeeOther || !signedIn {
					t.Fatalf("a good token: %d %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), tc.want) || signedIn {
				t.Fatalf("%d, signed in %v: %s", resp.StatusCode, signedIn, body)
			}
		})
	}
	// A state that is not the sign-in's.
	b := newBrowser()
	nb := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := nb.Get(r.public + "/app/login")
	resp.Body.Close()
	resp, _ = nb.Get(r.public + "/auth/callback?code=c1&state=forged")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "state does not match") {
		t.Fatalf("a forged state: %d %s", resp.StatusCode, body)
	}
}

// TestWebDeclareWithATypeAndUnknownPeople: the declare form offers the
// types and, once one is chosen, its fields, as the chat form does; and
// with web.unknown_people: status someone klaxon does not know is sent
// to the status page, with no session.
func TestWebDeclareWithATypeAndUnknownPeople(t *testing.T) {
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	r := startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch}
  - {id: carol, name: Carol}
incidents:
  types:
    - id: security
      name: Security
      private: true
      fields:
        - {id: vector, label: Attack vector, kind: select, options: [phishing, malware], required: true}
        - {id: owner, label: Security lead, kind: user}
`, issuer, "klaxon-web", "klaxon-client-secret", env{"KLAXON_WEB_UNKNOWN_PEOPLE": "status"})
	b := newBrowser()
	if status, _ := signIn(t, b, r.public, "test-user2"); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	_, body := b.get(t, r.public+"/app/declare?type=security")
	csrf := csrfField.FindStringSubmatch(body)
	if csrf == nil || !strings.Contains(body, `name="field.vector"`) || !strings.Contains(body, "Security lead") {
		t.Fatalf("the form lacks the type's fields: %s", body)
	}
	status, body := b.post(t, r.public+"/app/declare", url.Values{"csrf": {csrf[1]}, "type": {"security"}, "title": {"Phish hit finance"},
		"severity": {"SEV2"}, "field.vector": {"phishing"}, "field.owner": {"carol"}})
	if status != http.StatusOK || !strings.Contains(body, "Attack vector") || !strings.Contains(body, "phishing") || !strings.Contains(body, "<dt>Security lead</dt><dd>Carol</dd>") {
		t.Fatalf("declared: %d %s", status, body)
	}
	if !strings.Contains(body, "private") {
		t.Error("a security incident is private by its type")
	}
	// Someone klaxon does not know goes to the status page.
	nb := newBrowser()
	status, _ = signIn(t, nb, r.public, "test-user@"+strings.Split(strings.TrimPrefix(issuer, "http://"), ":")[0])
	if status != http.StatusOK || !strings.HasSuffix(nb.visited[len(nb.visited)-1], "/status") {
		t.Fatalf("an unknown person: %d, went to %v", status, nb.visited)
	}
	for _, c := range nb.Jar.Cookies(&url.URL{Scheme: "http", Host: addr, Path: "/"}) {
		if c.Name == "klaxon_session" {
			t.Fatal("an unknown person got a session")
		}
	}
}

// TestWebSignInWithDiscord: with both an OpenID provider and Discord
// configured, the sign-in page offers both; Discord's OAuth2 (the strict
// fake: code once, for its redirect_uri, client secret) signs in the
// person with that discord_id; a Discord user klaxon does not know and a
// forged state are refused.
func TestWebSignInWithDiscord(t *testing.T) {
	dfake := discordfake.New(t, map[string]string{"200000000000000001": "alice", "200000000000000009": "mallory"})
	op := newCraftedOP(t)
	addr := loopbackPort(t)
	r := startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, discord_id: "200000000000000001"}
`, op.srv.URL, "klaxon-web", "client-secret", env{"KLAXON_WEB_DISCORD_CLIENT_ID": discordfake.AppID, "KLAXON_WEB_DISCORD_CLIENT_SECRET": discordfake.ClientSecret,
		"KLAXON_WEB_DISCORD_AUTHORIZE_URL": dfake.AuthorizeURL(), "KLAXON_DISCORD_API_URL": dfake.APIURL()})
	dfake.AllowRedirect(r.public + "/auth/discord/callback")
	b := newBrowser()
	_, body := b.get(t, r.public+"/app/incidents")
	link := regexp.MustCompile(`href="([^"]*/login/discord[^"]*)"`).FindStringSubmatch(body)
	if link == nil || !strings.Contains(body, "Sign in with your organisation") {
		t.Fatalf("no choice of sign-in: %s", body)
	}
	dfake.AuthorizeAs("200000000000000001")
	status, body := b.get(t, r.public+strings.ReplaceAll(link[1], "&amp;", "&"))
	if status != http.StatusOK || !strings.Contains(body, "<h1>Incidents</h1>") {
		t.Fatalf("signed in with Discord: %d %s", status, body)
	}
	// Someone klaxon does not know.
	dfake.AuthorizeAs("200000000000000009")
	status, body = newBrowser().get(t, r.public+"/app/login/discord")
	if status != http.StatusForbidden || !strings.Contains(body, "200000000000000009 is not one of klaxon") {
		t.Fatalf("an unknown Discord user: %d %s", status, body)
	}
	// A callback with a state that is not the sign-in's.
	nb := newBrowser()
	plain := &http.Client{Jar: nb.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := plain.Get(r.public + "/app/login/discord")
	resp.Body.Close()
	resp, _ = plain.Get(r.public + "/auth/discord/callback?code=x&state=forged")
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(data), "state does not match") {
		t.Fatalf("a forged state: %d %s", resp.StatusCode, data)
	}
}

// TestWebBehindAProxyWithAPrefix: behind a reverse proxy that serves
// klaxon under /klaxon (and strips it), every address klaxon gives out
// (redirects, the provider's redirect_uri, links, the cookie's path)
// carries the prefix, and X-Forwarded-* headers change nothing.
func TestWebBehindAProxyWithAPrefix(t *testing.T) {
	op := newCraftedOP(t)
	op.claims = func(nonce string) map[string]any {
		now := time.Now()
		return map[string]any{"iss": op.srv.URL, "aud": "klaxon-web", "sub": "u1", "email": "test-user2@zitadel.ch", "email_verified": true,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce}
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + pl.Addr().String() + "/klaxon"
	addr := loopbackPort(t)
	backend, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(backend)
	strip := http.StripPrefix("/klaxon", proxy)
	ps := &httptest.Server{Listener: pl, Config: &http.Server{Handler: strip}}
	ps.Start()
	t.Cleanup(ps.Close)

	config := writeConfig(t, `
http:
  public_url: "`+public+`"
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch}
web:
  oidc: {issuer: "`+op.srv.URL+`", client_id: klaxon-web, client_secret: "client-secret"}
  session_secret: "a-web-session-secret-of-32-characters"
`)
	runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "alice"}, public+"/healthz", nil)

	b := newBrowser()
	plain := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, public+"/app/incidents", nil)
	req.Header.Set("X-Forwarded-Host", "evil.example.com")
	req.Header.Set("X-Forwarded-Prefix", "/elsewhere")
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/klaxon/app/login?return=%2Fklaxon%2Fapp%2Fincidents") {
		t.Fatalf("redirect to sign-in: %q", loc)
	}
	resp, _ = plain.Get(public + "/app/login?return=/klaxon/app/incidents")
	resp.Body.Close()
	auth, _ := url.Parse(resp.Header.Get("Location"))
	if got := auth.Query().Get("redirect_uri"); got != public+"/auth/callback" {
		t.Fatalf("redirect_uri %q", got)
	}
	op.nonce = auth.Query().Get("nonce")
	resp, _ = plain.Get(public + "/auth/callback?code=c&state=" + url.QueryEscape(auth.Query().Get("state")))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/klaxon/app/incidents" {
		t.Fatalf("callback: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == "klaxon_session" && (c.Path != "/klaxon" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Fatalf("session cookie %+v", c)
		}
	}
	status, body := b.get(t, public+"/app/incidents")
	if status != http.StatusOK || !strings.Contains(body, `href="/klaxon/app/declare"`) || strings.Contains(body, "evil.example.com") {
		t.Fatalf("the list behind the proxy: %d %s", status, body)
	}
}

// TestWebOnCallCalendar: my shifts with the ICS link, a schedule's week
// in the viewer's zone (a DST day drawn as 25 hours), an override made
// from the page with chat's rules and listed with who made it for whom,
// and the escalation policies with whom each step pages now.
func TestWebOnCallCalendar(t *testing.T) {
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	r := startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch, time_zone: Europe/Berlin, feed_token: alice-feed-token-0123456789}
  - {id: carol, name: Carol}
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: daily, start: 2026-01-05, participants: [alice, carol]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{schedule: primary}]}
      - {delay: 5m, targets: [{person: carol}]}
`, issuer, "klaxon-web", "klaxon-client-secret", env{})
	b := newBrowser()
	if status, _ := signIn(t, b, r.public, "test-user2"); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	_, body := b.get(t, r.public+"/app/oncall")
	if !strings.Contains(body, "My shifts, the next four weeks (Europe/Berlin)") || !strings.Contains(body, "/oncall/person/alice.ics?token=alice-feed-token") ||
		!strings.Contains(body, "Europe/Berlin (") {
		t.Fatalf("on-call page: %s", body)
	}
	_, body = b.get(t, r.public+"/app/oncall/primary?view=week&date=2026-10-25")
	if !strings.Contains(body, "Sun 25 Oct</strong> <span class=\"tag\">25-hour day</span>") {
		t.Fatalf("the DST day is not drawn as 25 hours: %s", body)
	}
	csrf := csrfField.FindStringSubmatch(body)
	status, body := b.post(t, r.public+"/app/oncall/primary/override", url.Values{"csrf": {csrf[1]}, "person": {"carol"}, "from": {"now"}, "until": {"4h"}})
	if status != http.StatusOK || !strings.Contains(body, "Carol") {
		t.Fatalf("override: %d %s", status, body)
	}
	_, body = b.get(t, r.public+"/app/oncall/primary")
	if !regexp.MustCompile(`<td>Carol</td><td>(Alice|Carol)</td><td>[^<]+</td><td>Alice \(override\)</td>`).MatchString(body) {
		t.Fatalf("the override is not listed with who made it: %s", body)
	}
	// Undo, from the page, takes the override back as chat's undo does.
	status, body = b.post(t, r.public+"/app/oncall/primary/undo", url.Values{"csrf": {csrf[1]}})
	if status != http.StatusOK || !strings.Contains(body, "@Alice undid their override: @Carol") {
		t.Fatalf("undo: %d %s", status, body)
	}
	if _, body = b.get(t, r.public+"/app/oncall/primary"); !strings.Contains(body, "None in this period.") {
		t.Fatalf("the override is still listed after undo: %s", body)
	}
	// A cover: carol takes alice's shift from now for 2 hours.
	status, body = b.post(t, r.public+"/app/oncall/primary/cover", url.Values{"csrf": {csrf[1]}, "person": {"carol"}, "for": {"2h"}})
	if status != http.StatusOK || !regexp.MustCompile(`<td>Carol</td><td>(Alice|Carol)</td><td>[^<]+</td><td>Alice \(cover\)</td>`).MatchString(body) {
		t.Fatalf("cover: %d %s", status, body)
	}
	_, body = b.get(t, r.public+"/app/policies")
	if !strings.Contains(body, "Right now that is: Carol") || !strings.Contains(body, "then waits 5m") {
		t.Fatalf("policies: %s", body)
	}
}

// TestWebSwapOffersAndTakes: alice offers her next shifts from the
// schedules' pages; bob, on one rotation only, cannot take the other's
// offer (chat's rule) and takes the one he may, which then shows as his
// override; the offer is gone from both pages.
func TestWebSwapOffersAndTakes(t *testing.T) {
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	host := strings.Split(strings.TrimPrefix(issuer, "http://"), ":")[0]
	r := startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch}
  - {id: bob, name: Bob, email: test-user@zitadel.ch}
  - {id: carol, name: Carol}
services:
  - {id: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: daily, start: 2026-01-05, participants: [alice, bob]}]}
  - {id: secondary, service: payments, role: secondary, time_zone: UTC, layers: [{rotation: daily, start: 2026-01-05, participants: [alice, carol]}]}
`, issuer, "klaxon-web", "klaxon-client-secret", env{})
	alice, bob := newBrowser(), newBrowser()
	if status, _ := signIn(t, alice, r.public, "test-user2"); status != http.StatusOK {
		t.Fatalf("alice's sign-in: %d", status)
	}
	if status, _ := signIn(t, bob, r.public, "test-user@"+host); status != http.StatusOK {
		t.Fatalf("bob's sign-in: %d", status)
	}
	offerable := regexp.MustCompile(`name="start" value="([^"]+)"`)
	offerID := regexp.MustCompile(`name="offer" value="([^"]+)"`)
	offer := func(schedule string) (day string) {
		t.Helper()
		_, body := alice.get(t, r.public+"/app/oncall/"+schedule)
		start, csrf := offerable.FindStringSubmatch(body), csrfField.FindStringSubmatch(body)
		if start == nil || !strings.Contains(body, "No open offers.") {
			t.Fatalf("alice has no shift to offer on %s: %s", schedule, body)
		}
		status, body := alice.post(t, r.public+"/app/oncall/"+schedule+"/offer", url.Values{"csrf": {csrf[1]}, "start": {start[1]}})
		if status != http.StatusOK || !strings.Contains(body, "Offered: your") || !strings.Contains(body, "yours: withdraw it with Undo") {
			t.Fatalf("offer on %s: %d %s", schedule, status, body)
		}
		return start[1][:len("2006-01-02")]
	}
	day := offer("primary")
	offer("secondary")

	take := func(schedule string) string {
		t.Helper()
		_, body := bob.get(t, r.public+"/app/oncall/"+schedule)
		id, csrf := offerID.FindStringSubmatch(body), csrfField.FindStringSubmatch(body)
		if id == nil || !strings.Contains(body, "<td>Alice</td>") {
			t.Fatalf("bob sees no offer on %s: %s", schedule, body)
		}
		_, body = bob.post(t, r.public+"/app/oncall/"+schedule+"/take", url.Values{"csrf": {csrf[1]}, "offer": {id[1]}})
		return body
	}
	if body := take("secondary"); !strings.Contains(body, "Only people on the") || !strings.Contains(body, "<td>Alice</td>") {
		t.Fatalf("bob took a shift of a rotation he is not on: %s", body)
	}
	body := take("primary")
	if !strings.Contains(body, "@Bob took @Alice&#39;s primary shift") || !strings.Contains(body, "No open offers.") {
		t.Fatalf("after bob took the shift: %s", body)
	}
	// The shift's week lists bob's override, made by him by taking.
	_, body = alice.get(t, r.public+"/app/oncall/primary?view=week&date="+day)
	if !regexp.MustCompile(`<td>Bob</td><td>Alice</td><td>[^<]+</td><td>Bob \(take\)</td>`).MatchString(body) || strings.Contains(body, `name="offer"`) {
		t.Fatalf("the shift's week after the take: %s", body)
	}
}

// TestWebInsightsAgreeWithTheAPI: the charts' CSV numbers are the API's.
func TestWebInsightsAgreeWithTheAPI(t *testing.T) {
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	r := startWebRigWith(t, addr, `
api:
  token: "insights-api-token-0123456789"
people:
  - {id: alice, name: Alice, email: test-user2@zitadel.ch, time_zone: Europe/Berlin}
  - {id: carol, name: Carol}
services:
  - {id: payments, escalation_policy: payments}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{person: alice}]}
`, issuer, "klaxon-web", "klaxon-client-secret", env{})
	r.say(`/incident declare "Checkout is down" sev:1 service:payments`)
	r.say(`/incident declare "Search is slow" sev:3 service:payments`)
	r.say(`/incident ack INC-1`)
	r.say(`/incident resolve INC-1 fixed`)
	r.say(`/incident declare "Payroll leak" sev:2 private`)
	r.waitFor("the incidents", func() bool {
		return strings.Contains(r.logs.String(), "INC-3") && strings.Contains(r.logs.String(), "resolved")
	})
	r.waitFor("the page", func() bool { return strings.Contains(r.logs.String(), "step 1 of INC-1") })
	b := newBrowser()
	if status, _ := signIn(t, b, r.public, "test-user2"); status != http.StatusOK {
		t.Fatal("sign-in")
	}
	status, body := b.get(t, r.public+"/app/insights")
	if status != http.StatusOK || !strings.Contains(body, "<svg role=\"img\" aria-labelledby=\"weekly-t\"") || !strings.Contains(body, "Alice") {
		t.Fatalf("insights: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, r.public+"/api/v1/insights", nil)
	req.Header.Set("Authorization", "Bearer insights-api-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API: %v %v", resp, err)
	}
	var api struct {
		Incidents int `json:"incidents"`
		Weeks     []struct {
			Start      string         `json:"start"`
			BySeverity map[string]int `json:"by_severity"`
		} `json:"weeks"`
		Pages []struct {
			Person   string `json:"person"`
			Pages    int    `json:"pages"`
			OffHours int    `json:"off_hours"`
		} `json:"pages"`
	}
	json.NewDecoder(resp.Body).Decode(&api)
	resp.Body.Close()
	if api.Incidents != 2 {
		t.Fatalf("the API counts %d incidents; want the 2 public ones", api.Incidents)
	}
	_, weekly := b.get(t, r.public+"/app/insights.csv?chart=weekly")
	rows := strings.Split(strings.TrimSpace(weekly), "\n")
	header := strings.Split(rows[0], ",")
	for i, line := range rows[1:] {
		cells := strings.Split(line, ",")
		for j, sev := range header[1:] {
			if got := fmt.Sprint(api.Weeks[i].BySeverity[sev]); cells[j+1] != got || cells[0] != api.Weeks[i].Start {
				t.Fatalf("week %s %s: CSV %s, API %s", cells[0], sev, cells[j+1], got)
			}
		}
	}
	_, pages := b.get(t, r.public+"/app/insights.csv?chart=pages")
	if len(api.Pages) == 0 || !strings.Contains(pages, fmt.Sprintf("%s,Alice,%d,%d", api.Pages[0].Person, api.Pages[0].Pages, api.Pages[0].OffHours)) {
		t.Fatalf("pages CSV %q; API %+v", pages, api.Pages)
	}
	if status, _ := b.get(t, r.public+"/app/insights?from=yesterday"); status != http.StatusBadRequest {
		t.Fatalf("a bad date got %d", status)
	}
}
