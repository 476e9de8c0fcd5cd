package bot

import (
	"net/http"
	"net/url"
	"time"
)

// OutboundClient is the HTTP client for what leaves klaxon for a
// configured destination (pagers, hooks, trackers): it never follows a
// redirect. A redirect would resend the body (a routing key, a private
// incident) somewhere nobody configured, and Go forwards credentials to
// the same host on another port. The caller gets the 3xx answer and
// refuses it, naming where it pointed (RedirectTarget).
func OutboundClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: RefuseRedirect}
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
