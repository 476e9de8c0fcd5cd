package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// NtfyServer is the public ntfy server.
const NtfyServer = "https://ntfy.sh"

// Ntfy pushes to the ntfy app through an ntfy server's publish API, at
// priority 5 ("max"), which the app lets ring through Do Not Disturb.
type Ntfy struct {
	Server string // default server; a contact may name its own
	// Token is the access token for Server (empty: anonymous); Tokens
	// are per person (people[].contact.push_token).
	Token  string
	Tokens map[string]string
	// PublicURL and Links make the Acknowledge action and the click link.
	PublicURL string
	Links     *Links
	// IncidentURL is where a tap on the notification goes (the web
	// console or the status page); empty: nowhere.
	IncidentURL func(d bot.Delivery) string
	Client      *http.Client
	Now         func() time.Time
}

var _ bot.Sender = (*Ntfy)(nil)

// NtfyMessage is ntfy's JSON publish body.
type NtfyMessage struct {
	Topic    string       `json:"topic"`
	Title    string       `json:"title,omitempty"`
	Message  string       `json:"message"`
	Priority int          `json:"priority,omitempty"`
	Tags     []string     `json:"tags,omitempty"`
	Click    string       `json:"click,omitempty"`
	Actions  []NtfyAction `json:"actions,omitempty"`
}

// NtfyAction is a button on the notification.
type NtfyAction struct {
	Action string `json:"action"` // view, http
	Label  string `json:"label"`
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Clear  bool   `json:"clear,omitempty"`
}

// Send implements bot.Sender: one push.
func (n *Ntfy) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	if d.Kind != bot.DeliverTrigger && d.Kind != bot.DeliverMessage {
		return bot.SendResult{Sent: true}
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	m := NtfyMessage{Topic: d.To, Title: "📟 klaxon: you are paged", Message: d.Summary, Priority: 5, Tags: []string{"rotating_light"}}
	if n.IncidentURL != nil {
		m.Click = n.IncidentURL(d)
	}
	if d.Kind == bot.DeliverMessage {
		m = NtfyMessage{Topic: d.To, Title: "klaxon", Message: d.Summary, Priority: 3, Tags: []string{"bell"}}
	} else if ack := AckURL(n.PublicURL, n.Links, d, now()); ack != "" {
		m.Actions = []NtfyAction{{Action: "http", Label: "Acknowledge", URL: ack, Method: http.MethodPost, Clear: true}}
	} else {
		m.Message += "\nAcknowledge in chat."
	}
	server := n.Server
	if d.Server != "" {
		server = d.Server
	}
	token := n.Token
	if t := n.Tokens[d.Person]; t != "" {
		token = t
	}
	body, err := json.Marshal(m)
	if err != nil {
		return bot.SendResult{Permanent: true, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(server, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("ntfy: %w", bot.UnwrapURL(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "klaxon")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return bot.SendResult{Err: fmt.Errorf("the ntfy server did not answer: %w", bot.UnwrapURL(err))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var answer struct {
		ID    string `json:"id"`
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &answer)
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return bot.SendResult{Sent: true, Ref: answer.ID, Progress: "sent"}
	case s == http.StatusTooManyRequests:
		return bot.SendResult{RetryAfter: bot.RetryAfterOrDefault(resp.Header.Get("Retry-After")), Err: fmt.Errorf("the ntfy server is rate limiting (429)")}
	case s >= 500:
		return bot.SendResult{Err: fmt.Errorf("the ntfy server answered %d", s)}
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("the ntfy server refused klaxon (%d %s) for topic %q: set an access token that may publish to it (notifications.ntfy.token or people[].contact.push_token)", s, answer.Error, d.To)}
	}
	why := answer.Error
	if why == "" {
		why = bot.Cut(strings.TrimSpace(bot.Scrub(string(raw), req, token)), 200)
	}
	return bot.SendResult{Permanent: true, Err: fmt.Errorf("the ntfy server refused the push (%d): %s", resp.StatusCode, why)}
}

// Check asks the ntfy server whether it is healthy and, with a token,
// whether the token is good (its account answers), publishing nothing.
func (n *Ntfy) Check(ctx context.Context) error {
	get := func(path, token string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(n.Server, "/")+path, nil)
		if err != nil {
			return 0, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := n.Client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("the ntfy server did not answer: %w", bot.UnwrapURL(err))
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	s, err := get("/v1/health", "")
	if err != nil {
		return err
	}
	if s != http.StatusOK {
		return fmt.Errorf("the ntfy server's /v1/health answered %d: is notifications.ntfy.server an ntfy server?", s)
	}
	if n.Token == "" {
		return nil
	}
	if s, err = get("/v1/account", n.Token); err != nil {
		return err
	}
	if s == http.StatusUnauthorized || s == http.StatusForbidden {
		return fmt.Errorf("the ntfy server refused notifications.ntfy.token (%d): make a new access token with `ntfy token add`", s)
	}
	return nil
}
