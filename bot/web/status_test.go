package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

func samplePage() bot.StatusPage {
	t := now.Add(-time.Hour)
	return bot.StatusPage{Generated: now, State: bot.StateMajor,
		Services: []bot.ServiceStatus{{ID: "db", Name: "Database", State: bot.StateMajor}, {ID: "web", Name: "Website", State: bot.StateOperational}},
		Active: []bot.PublicIncident{{Key: "INC-7", Title: `Database <script>alert(1)</script> down`, Severity: "SEV1", Label: "critical",
			Status: "investigating", Service: "db", Started: t, Updated: t, Major: true,
			Updates: []bot.PublicUpdate{{Time: t, Text: "We are failing over"}}}},
		History: []bot.PublicIncident{{Key: "INC-3", Title: "Slow checkout", Severity: "SEV3", Status: "resolved", Started: t.Add(-48 * time.Hour),
			Updated: t.Add(-47 * time.Hour), Resolved: t.Add(-47 * time.Hour), Duration: "1h", Updates: []bot.PublicUpdate{}}},
	}
}

// The Atom feed's links come from status.public_url, never from the
// request's Host header: the feed is served Cache-Control public, and a
// client chooses its Host.
func TestAtomFeedLinksUseThePublicURL(t *testing.T) {
	page := func(ctx context.Context) (bot.StatusPage, error) { return samplePage(), nil }
	srv := httptest.NewServer(web.Handler(web.Config{Clock: bot.NewFakeClock(now), Log: zerolog.Nop(),
		Status: &web.Status{Title: "Acme status", PublicURL: "https://status.acme.example/", Page: page}}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/status/feed.atom", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "evil.example") || !strings.Contains(string(body), `href="https://status.acme.example/status#INC-7"`) {
		t.Errorf("feed:\n%s", body)
	}
}

func TestStatusPageRoutes(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(web.Handler(web.Config{Clock: bot.NewFakeClock(now), Log: zerolog.Nop(), Status: &web.Status{Title: "Acme status",
		Page: func(ctx context.Context) (bot.StatusPage, error) {
			if fail.Load() {
				return bot.StatusPage{}, errors.New("store closed")
			}
			return samplePage(), nil
		}}}))
	defer srv.Close()
	c := apiClient{t: t, base: srv.URL}

	status, body, h := c.get("/status", "")
	html := string(body)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("/status = %d %s", status, h.Get("Content-Type"))
	}
	for _, want := range []string{"<title>Acme status</title>", "Major outage", `id="INC-7"`, "We are failing over", "Database &lt;script&gt;",
		`<span class="state-operational">Operational</span>`, "Slow checkout", `href="/status/feed.atom"`} {
		if !strings.Contains(html, want) {
			t.Errorf("/status lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("/status does not escape an incident title")
	}

	status, body, _ = c.get("/status.json", "")
	var p bot.StatusPage
	if status != 200 || json.Unmarshal(body, &p) != nil || p.Active[0].Key != "INC-7" || p.State != "major_outage" {
		t.Errorf("/status.json = %d %s", status, body)
	}

	status, body, h = c.get("/status/feed.atom", "")
	var feed struct {
		Title   string `xml:"title"`
		Entries []struct {
			ID    string `xml:"id"`
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if status != 200 || h.Get("Content-Type") != "application/atom+xml; charset=utf-8" || xml.Unmarshal(body, &feed) != nil {
		t.Fatalf("/status/feed.atom = %d %s", status, body)
	}
	if feed.Title != "Acme status incidents" || len(feed.Entries) != 2 || feed.Entries[0].ID != "urn:klaxon:status#INC-7" {
		t.Errorf("feed = %+v", feed)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("the feed's links come from the request's Host header:\n%s", body)
	}

	fail.Store(true)
	if status, body, _ := c.get("/status", ""); status != 503 || strings.Contains(string(body), "store closed") {
		t.Errorf("/status on a store failure = %d %s", status, body)
	}
}

// A busy status page is built once per reuse period, not once per visitor;
// a failed build is not kept.
func TestStatusPageIsReusedBriefly(t *testing.T) {
	var builds atomic.Int32
	var fail atomic.Bool
	clock := bot.NewFakeClock(now)
	srv := httptest.NewServer(web.Handler(web.Config{Clock: clock, Log: zerolog.Nop(), Status: &web.Status{Title: "Acme status", Reuse: 5 * time.Second,
		Page: func(ctx context.Context) (bot.StatusPage, error) {
			builds.Add(1)
			if fail.Load() {
				return bot.StatusPage{}, errors.New("store closed")
			}
			return samplePage(), nil
		}}}))
	defer srv.Close()
	c := apiClient{t: t, base: srv.URL}
	for range 20 {
		if status, _, _ := c.get("/status", ""); status != 200 {
			t.Fatalf("/status = %d", status)
		}
	}
	c.get("/status.json", "")
	if n := builds.Load(); n != 1 {
		t.Fatalf("21 requests within 5 s built the page %d times; want once", n)
	}
	clock.Advance(5 * time.Second)
	fail.Store(true)
	if status, _, _ := c.get("/status", ""); status != 503 {
		t.Errorf("a failed rebuild answered %d; want 503, not the old page", status)
	}
	fail.Store(false)
	if status, _, _ := c.get("/status", ""); status != 200 || builds.Load() != 3 {
		t.Errorf("after a failed build: %d, %d builds; want 200 from a fresh build (3)", status, builds.Load())
	}
}

// Every answer says nosniff and refuses to be framed; the status page
// allows its own style sheet and nothing else, and frames only where
// configured.
func TestSecurityHeaders(t *testing.T) {
	page := func(ctx context.Context) (bot.StatusPage, error) { return samplePage(), nil }
	for _, tt := range []struct {
		name   string
		frames []string
		want   string
	}{
		{"default", nil, "frame-ancestors 'none'"},
		{"framed by the intranet", []string{"https://intranet.example.com"}, "frame-ancestors https://intranet.example.com"},
	} {
		srv := httptest.NewServer(web.Handler(web.Config{Clock: bot.NewFakeClock(now), Log: zerolog.Nop(),
			Status: &web.Status{Title: "Acme status", Page: page, FrameAncestors: tt.frames}}))
		c := apiClient{t: t, base: srv.URL}
		_, body, h := c.get("/status", "")
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(csp, tt.want) || !strings.Contains(csp, "default-src 'none'") ||
			!strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: /status headers: nosniff %q, CSP %q", tt.name, h.Get("X-Content-Type-Options"), csp)
		}
		// The hash is the page's own style sheet's.
		_, rest, _ := strings.Cut(string(body), "<style>")
		css, _, _ := strings.Cut(rest, "</style>")
		sum := sha256.Sum256([]byte(css))
		if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Errorf("%s: the CSP's style hash is not the served style sheet's", tt.name)
		}
		for _, path := range []string{"/status.json", "/healthz"} {
			_, _, h := c.get(path, "")
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("%s: %s headers %v", tt.name, path, h)
			}
		}
		srv.Close()
	}
}
