package bot

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OutboundClient is the HTTP client for what leaves klaxon for a
// configured destination (pagers, hooks, trackers): it never follows a
// redirect. A redirect would resend the body (a routing key, a private
// incident) somewhere nobody configured, and Go forwards credentials to
// the same host on another port. The caller gets the 3xx answer and
// refuses it, naming where it pointed (RedirectTarget).
func OutboundClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: RefuseRedirect, Transport: Transport()}
}

// The outbox's bounds on the jobs in flight at once to one destination:
// MaxInFlight to a pager's endpoint, MaxInFlightOther to anything else (a
// chat platform, a hook, a mail server).
const (
	MaxInFlight      = 64
	MaxInFlightOther = 16
)

// Transport is Go's default transport keeping up to MaxInFlight idle
// connections to each host instead of 2. With 2, a burst of parallel
// requests to one endpoint (a page storm to PagerDuty, a channel's posts
// to Slack) closed nearly every connection after its request and opened
// a new one, a TCP and TLS handshake, for the next: 1,000 pages dialled
// about 790 connections.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxInFlight
	t.MaxIdleConns = 4 * MaxInFlight
	return t
}

// RefuseRedirect is an http.Client's CheckRedirect that hands the
// redirect back to the caller instead of following it.
func RefuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// RedirectTarget is where a 3xx answer pointed, without the parts that may
// hold a secret (user info, query, fragment): "https://host/path", or "" if
// it names nowhere.
func RedirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String()
}

// Scrub removes from text (a refusal's body, an error) every credential
// the request that got it carried, in every form a receiver might echo:
// the Authorization header whole, its token after the scheme (Bearer,
// Basic, GenieKey, …), a Basic pair decoded, its password alone, and the
// secrets named (a routing key sent in the body). It is the one place
// where text that came back from a destination is made safe to log,
// store or show.
func Scrub(text string, req *http.Request, secrets ...string) string {
	var forms []string
	add := func(s string) {
		if len(s) >= 4 { // shorter would blank ordinary words; no credential is that short
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		add(s)
		add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	if req != nil {
		if auth := req.Header.Get("Authorization"); auth != "" {
			add(auth)
			if _, token, ok := strings.Cut(auth, " "); ok {
				add(token)
			}
		}
		if user, pass, ok := req.BasicAuth(); ok {
			add(user + ":" + pass)
			add(pass)
		}
	}
	// Longest first, so a whole header goes before the token inside it.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		text = strings.ReplaceAll(text, f, "[redacted]")
	}
	return text
}

// WebLink is u if it is an http(s) URL, else "": a link from outside (a
// tracker's html_url) never becomes a javascript: or data: link.
func WebLink(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return u
}

// UnwrapURL drops the *url.Error wrapper of a client error, which
// repeats the URL (and any key in it), so the error can be shown.
func UnwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// DefaultRetryAfter is the wait after a 429 without a usable Retry-After.
const DefaultRetryAfter = 30 * time.Second

// RetryAfterOrDefault reads a Retry-After value (seconds or an HTTP
// date), or gives DefaultRetryAfter.
func RetryAfterOrDefault(v string) time.Duration {
	if d, ok := RetryAfter(v, time.Now()); ok {
		return d
	}
	return DefaultRetryAfter
}
