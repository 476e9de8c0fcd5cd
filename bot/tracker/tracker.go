// Package tracker makes follow-ups into tickets in an issue tracker
// (GitHub Issues, Jira Cloud), closes and reopens them, and reads back
// which tickets changed there. Each call is one attempt; the outbox in
// package commands decides about retries from the error's code: refusals
// (bad credentials, no access, a validation failure) are final, a 429 or
// a 5xx is tried again after the tracker's Retry-After or reset time.
package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Label marks every ticket klaxon makes.
const Label = "klaxon"

// DefaultRetryAfter is the wait after a rate limit that says no time.
const DefaultRetryAfter = 60 * time.Second

// Bounds on one read, in pages of 100: a lookup for one follow-up's
// ticket, and one sync's read of what changed (50,000 tickets; past that
// the next sync goes on from where this one stopped).
const (
	findPages    = 20
	changedPages = 500
)

// title is a ticket's one-line title, cut to max runes.
func title(is bot.TicketIssue, max int) string { return bot.Cut(bot.OneLine(is.Text), max) }

// facts are the lines a ticket's description carries besides its text;
// quote wraps what came from chat or alerts so the tracker shows it as
// written (GitHub: a code span; Jira's document nodes are literal).
func facts(is bot.TicketIssue, quote func(string) string) []string {
	out := []string{fmt.Sprintf("Follow-up %s from incident %s: %s", is.Key, is.Incident, quote(bot.OneLine(is.IncidentTitle)))}
	if is.Owner != "" {
		out = append(out, "Owner: "+quote(is.Owner))
	}
	if is.Due != (bot.Date{}) {
		out = append(out, "Due: "+is.Due.String())
	}
	return out
}

// client is the HTTP side both trackers share.
type client struct {
	name string // "GitHub", "Jira": errors name the tracker, never its URL or token
	http *http.Client
	base *url.URL
	auth func(*http.Request)
}

func newClient(name, base string, hc *http.Client, auth func(*http.Request)) (client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || u.Host == "" {
		return client{}, fmt.Errorf("%s: the URL is not a URL", name)
	}
	if hc == nil {
		hc = bot.OutboundClient(20 * time.Second)
	}
	return client{name: name, http: hc, base: u, auth: auth}, nil
}

// do sends one request with a JSON body (when in is not nil) and decodes
// a 2xx answer into out (when not nil). Any other answer is an error in
// the outbox's terms.
func (c client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(data))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // the URL may carry what should not be logged
		}
		return &bot.Error{Code: bot.EUNAVAILABLE, Message: c.name + " did not answer", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &bot.Error{Code: bot.EUNAVAILABLE, Message: c.name + " did not answer in full", Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return &bot.Error{Code: bot.EUNAVAILABLE, Message: c.name + " answered something klaxon cannot read", Err: err}
		}
		return nil
	}
	return c.statusError(resp, data)
}

// statusError turns a refusal into the outbox's terms, with the tracker's
// own reason.
func (c client) statusError(resp *http.Response, body []byte) error {
	s := resp.StatusCode
	// The tracker may echo the request's credentials: none leaves here.
	reason := bot.Scrub(refusalReason(body), resp.Request)
	if wait, limited := rateLimited(resp, time.Now()); limited {
		e := bot.Errorf(bot.EUNAVAILABLE, "%s is rate limiting klaxon (%d)", c.name, s)
		e.RetryAfter = wait
		return e
	}
	switch {
	case s >= 500:
		return bot.Errorf(bot.EUNAVAILABLE, "%s answered %d", c.name, s)
	case s >= 300 && s < 400:
		return bot.Errorf(bot.EREFUSED, "%s redirected klaxon (%d) to %q; klaxon does not follow redirects: configure the final URL", c.name, s, bot.RedirectTarget(resp))
	case s == http.StatusUnauthorized:
		return bot.Errorf(bot.EREFUSED, "%s refused klaxon's credentials (401): check the tracker's token", c.name)
	case s == http.StatusNotFound:
		return bot.Errorf(bot.ENOTFOUND, "%s: not found, or klaxon's token cannot see it (404)%s", c.name, reason)
	}
	return bot.Errorf(bot.EREFUSED, "%s refused (%d)%s", c.name, s, reason)
}

// rateLimited reads a rate limit answer: a 429, or GitHub's 403 with no
// requests left or a Retry-After. The wait is Retry-After (seconds), else
// X-RateLimit-Reset (GitHub: Unix seconds; Jira: a timestamp).
func rateLimited(resp *http.Response, now time.Time) (time.Duration, bool) {
	h := resp.Header
	limited := resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusForbidden && (h.Get("X-RateLimit-Remaining") == "0" || h.Get("Retry-After") != "")
	if !limited {
		return 0, false
	}
	if d, ok := bot.RetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	reset := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if sec, err := strconv.ParseInt(reset, 10, 64); err == nil {
		if d := time.Unix(sec, 0).Sub(now); d > 0 {
			return d + time.Second, true
		}
		return time.Second, true
	}
	if t, err := time.Parse(time.RFC3339, reset); err == nil {
		if d := t.Sub(now); d > 0 {
			return d + time.Second, true
		}
		return time.Second, true
	}
	return DefaultRetryAfter, true
}

// refusalReason is the tracker's reason for a refusal, short, for the log
// and the channel: GitHub's message and validation errors, Jira's
// errorMessages and per-field errors.
func refusalReason(body []byte) string {
	var r struct {
		Message       string          `json:"message"`
		Errors        json.RawMessage `json:"errors"`
		ErrorMessages []string        `json:"errorMessages"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	var parts []string
	if r.Message != "" {
		parts = append(parts, r.Message)
	}
	parts = append(parts, r.ErrorMessages...)
	var gh []struct {
		Field, Code, Message string
	}
	var jira map[string]string
	if json.Unmarshal(r.Errors, &gh) == nil {
		for _, e := range gh {
			parts = append(parts, strings.TrimSpace(e.Field+" "+e.Code+" "+e.Message))
		}
	} else if json.Unmarshal(r.Errors, &jira) == nil {
		for _, f := range slices.Sorted(maps.Keys(jira)) {
			parts = append(parts, f+": "+jira[f])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := bot.OneLine(strings.Join(parts, "; "))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return ": " + s
}

var (
	_ bot.Tracker = (*GitHub)(nil)
	_ bot.Tracker = (*Jira)(nil)
)
