package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// DiscordOAuth is "Sign in with Discord": Discord's OAuth2 (it is not an
// OpenID provider), scope identify, mapped to people[].discord_id.
type DiscordOAuth struct {
	ClientID     string // the application's id
	ClientSecret string
	AuthorizeURL string // https://discord.com/oauth2/authorize
	APIURL       string // https://discord.com/api/v10
}

func (u *UI) discordRedirect() string { return u.cfg.PublicURL + "/auth/discord/callback" }

// handleDiscordLogin starts a sign-in with Discord.
func (u *UI) handleDiscordLogin(w http.ResponseWriter, r *http.Request) {
	l := login{State: random(24), Return: u.safeReturn(r.URL.Query().Get("return")), Expires: u.cfg.Clock.Now().Add(10 * time.Minute)}
	u.setCookie(w, loginCookie, u.seal(l), 10*time.Minute)
	q := url.Values{"client_id": {u.cfg.Discord.ClientID}, "response_type": {"code"}, "scope": {"identify"}, "state": {l.State},
		"redirect_uri": {u.discordRedirect()}, "prompt": {"none"}}
	http.Redirect(w, r, u.cfg.Discord.AuthorizeURL+"?"+q.Encode(), http.StatusFound)
}

// handleDiscordCallback finishes it: the state is the login's (spent
// either way), the code is exchanged with the client's secret, and the
// Discord user klaxon is told of must be one of its people.
func (u *UI) handleDiscordCallback(w http.ResponseWriter, r *http.Request) {
	l, refuse, ok := u.callback(w, r, "Discord")
	if !ok {
		return
	}
	q := r.URL.Query()
	id, err := u.discordUser(r.Context(), q.Get("code"))
	if err != nil {
		refuse("Discord did not confirm who you are.", err)
		return
	}
	who, ok := u.cfg.People.ByUser(bot.PlatformDiscord, id)
	if !ok && u.cfg.StatusForUnknown {
		http.Redirect(w, r, u.cfg.PublicURL+"/status", http.StatusSeeOther)
		return
	}
	if !ok {
		refuse(fmt.Sprintf("The Discord user %s is not one of klaxon's people. Ask an admin to add you under people: with this discord_id.", id), errSignIn)
		return
	}
	u.startSession(w, r, who, "discord", l.Return)
}

// discordUser exchanges code for a token and asks Discord whose it is.
func (u *UI) discordUser(ctx context.Context, code string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {u.discordRedirect()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(u.cfg.Discord.APIURL, "/")+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(u.cfg.Discord.ClientID, u.cfg.Discord.ClientSecret)
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := u.getJSON(req, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token exchange: %v %s", err, tok.Error)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(u.cfg.Discord.APIURL, "/")+"/users/@me", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var me struct {
		ID string `json:"id"`
	}
	if err := u.getJSON(req, &me); err != nil || me.ID == "" {
		return "", fmt.Errorf("users/@me: %v", err)
	}
	return me.ID, nil
}

func (u *UI) getJSON(req *http.Request, v any) error {
	req.Header.Set("User-Agent", "klaxon")
	resp, err := u.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%d: not JSON", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}
