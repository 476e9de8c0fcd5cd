package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/templates"
)

// Status configures the public status page. It shows only public
// incidents and updates posted with --public.
type Status struct {
	Title string
	// PublicURL is where people reach the status page (status.public_url),
	// for the Atom feed's links. Unset, the links are relative: never built
	// from the request's Host header, which a client chooses.
	PublicURL string
	Page      func(ctx context.Context) (bot.StatusPage, error)
	// Reuse serves a built page for this long, however many people load
	// it: a status page is busiest during an incident, and building it
	// reads the public incidents' timelines. Zero builds every time.
	Reuse time.Duration
	// FrameAncestors are the origins that may show the page in a frame
	// (status.frame_ancestors); none: nobody may.
	FrameAncestors []string
	// Subscriptions, when set, adds email subscriptions: the form and
	// /status/subscribe, /status/confirm, /status/unsubscribe.
	Subscriptions Subscriptions
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client, for the subscriptions' rate limits.
	TrustedProxies []netip.Prefix
}

// statusStyleHash is the CSP hash of the status page's one inline style
// sheet: the page runs no script and loads nothing else.
var statusStyleHash = func() string {
	raw, err := fs.ReadFile(templates.FS, "status.html.tmpl")
	if err != nil {
		panic(err)
	}
	_, rest, ok := bytes.Cut(raw, []byte("<style>"))
	css, _, ok2 := bytes.Cut(rest, []byte("</style>"))
	if !ok || !ok2 {
		panic("status.html.tmpl has no <style> block")
	}
	sum := sha256.Sum256(css)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// csp is the status page's Content-Security-Policy.
func (st Status) csp() string {
	frame := "'none'"
	if len(st.FrameAncestors) > 0 {
		frame = strings.Join(st.FrameAncestors, " ")
	}
	forms := "'none'"
	if st.Subscriptions != nil {
		forms = "'self'"
	}
	return "default-src 'none'; style-src " + statusStyleHash + "; base-uri 'none'; form-action " + forms + "; frame-ancestors " + frame
}

// pageCache builds the status page at most once per reuse period; callers
// that arrive while it builds wait for that build.
type pageCache struct {
	build func(ctx context.Context) (bot.StatusPage, error)
	reuse time.Duration
	clock bot.Clock

	mu    sync.Mutex
	page  bot.StatusPage
	built time.Time
}

func (c *pageCache) get(ctx context.Context) (bot.StatusPage, error) {
	if c.reuse <= 0 {
		return c.build(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if !c.built.IsZero() && now.Sub(c.built) < c.reuse {
		return c.page, nil
	}
	p, err := c.build(ctx)
	if err != nil {
		return p, err // not kept: the next request tries again
	}
	c.page, c.built = p, now
	return p, nil
}

var stateWords = map[string]string{
	bot.StateOperational: "Operational",
	bot.StateDegraded:    "Degraded",
	bot.StateMajor:       "Major outage",
}

var statusTemplate = template.Must(template.New("status.html.tmpl").Funcs(template.FuncMap{
	"stateText": func(s string) string { return stateWords[s] },
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"stamp":     func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
	"latest": func(us []bot.PublicUpdate) string {
		if len(us) == 0 {
			return ""
		}
		return us[0].Text
	},
}).ParseFS(templates.FS, "status.html.tmpl"))

func statusRoutes(mux *http.ServeMux, st Status, clock bot.Clock, log zerolog.Logger) {
	cache := &pageCache{build: st.Page, reuse: st.Reuse, clock: clock}
	page := func(w http.ResponseWriter, r *http.Request) (bot.StatusPage, bool) {
		p, err := cache.get(r.Context())
		if err != nil {
			log.Error().Err(err).Msg("status page")
			http.Error(w, "The status page is unavailable right now.", http.StatusServiceUnavailable)
			return p, false
		}
		w.Header().Set("Cache-Control", "public, max-age=30")
		return p, true
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		p, ok := page(w, r)
		if !ok {
			return
		}
		var buf bytes.Buffer
		if err := statusTemplate.Execute(&buf, map[string]any{"Title": st.Title, "Page": p, "Subscribe": st.Subscriptions != nil}); err != nil {
			log.Error().Err(err).Msg("status page template")
			http.Error(w, "The status page is unavailable right now.", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", st.csp())
		w.Write(buf.Bytes())
	})
	if st.Subscriptions != nil {
		subscribeRoutes(mux, st, log)
	}
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := page(w, r); ok {
			writeJSON(w, http.StatusOK, p)
		}
	})
	mux.HandleFunc("GET /status/feed.atom", func(w http.ResponseWriter, r *http.Request) {
		p, ok := page(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		w.Write([]byte(xml.Header))
		xml.NewEncoder(w).Encode(atomFeed(st.Title, strings.TrimSuffix(st.PublicURL, "/"), p))
	})
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

type atomName struct {
	Name string `xml:"name"`
}

type atom struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomName    `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

// atomFeed has one entry per public incident of the page, updated when
// the incident last changed.
func atomFeed(title, base string, p bot.StatusPage) atom {
	id := base + "/status"
	if base == "" {
		id = "urn:klaxon:status" // an id must be absolute; links may be relative
	}
	f := atom{ID: id, Title: title + " incidents", Updated: p.Generated.Format(time.RFC3339),
		Links:  []atomLink{{Href: base + "/status"}, {Href: base + "/status/feed.atom", Rel: "self"}},
		Author: atomName{Name: title}}
	for _, list := range [][]bot.PublicIncident{p.Active, p.History} {
		for _, inc := range list {
			summary := inc.Severity + " · " + inc.Status
			if len(inc.Updates) > 0 {
				summary += " · " + inc.Updates[0].Text
			}
			f.Entries = append(f.Entries, atomEntry{ID: id + "#" + inc.Key, Title: inc.Key + ": " + inc.Title,
				Updated: inc.Updated.Format(time.RFC3339), Link: atomLink{Href: base + "/status#" + inc.Key}, Summary: summary})
		}
	}
	return f
}
