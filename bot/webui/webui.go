// Package webui is klaxon's web console: people sign in with OpenID
// Connect, see the incidents they may see, and run them with the same
// commands, rules and records as chat. Pages are rendered on the server
// from templates and work without JavaScript; every state-changing
// request is a POST carrying the session's CSRF token.
package webui

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

//go:embed templates/*.html static/*
var files embed.FS

// Store is what the console reads and writes.
type Store interface {
	bot.Updater
	bot.SessionStore
	bot.PostmortemStore
	ListIncidents(ctx context.Context, f bot.IncidentFilter) ([]*bot.Incident, error)
	FollowUps(ctx context.Context) ([]*bot.FollowUp, error)
	IncidentByNumber(ctx context.Context, n int64) (*bot.Incident, error)
	Events(ctx context.Context, incidentID uuid.UUID, from uint64, limit int) ([]bot.Event, error)
}

// Incidents is what the console asks of the incident lifecycle.
type Incidents interface {
	// MayAccess reports whether who may see and act on inc.
	MayAccess(ctx context.Context, inc *bot.Incident, who bot.Actor) bool
	// SummaryFields are what the live summary shows besides the incident
	// itself: who was paged and how it went.
	SummaryFields(ctx context.Context, inc *bot.Incident) []bot.Field
}

// Config is the console's set-up.
type Config struct {
	OIDC OIDC
	// Discord, when set, offers "Sign in with Discord" too (or alone,
	// when OIDC has no issuer).
	Discord *DiscordOAuth
	// PublicURL is where people reach klaxon (http.public_url); the
	// console lives under PublicURL + "/app".
	PublicURL string
	BasePath  string // the path of PublicURL + "/app", set by New
	// Key signs the sign-in cookie (web.session_secret).
	Key         []byte
	IdleTimeout time.Duration // a session unused this long ends (default 12h)
	MaxAge      time.Duration // a session ends this long after sign-in (default 7 days)
	People      bot.People
	Severities  bot.Severities
	Services    []string
	Roles       []string // roles the role form offers
	Types       bot.IncidentTypes
	// StatusForUnknown sends someone who signs in but is not one of
	// klaxon's people to the public status page instead of refusing them.
	StatusForUnknown bool
	Store            Store
	Incidents        Incidents
	Postmortems      Postmortems
	OnCall           OnCall
	Insights         Insights
	Policies         Policies
	// Feeds gives a person's calendar feed address (with its token), or
	// "" when they have none.
	Feeds func(person string) string
	// Dispatch runs a command as chat would: the console's actions are
	// the chat commands, so they follow the same rules and records.
	Dispatch func(ctx context.Context, req *bot.Request) *bot.Response
	// Act runs a button's action as chat would (taking a swap offer).
	Act func(ctx context.Context, a bot.Action) *bot.Response
	// Platforms are the chats klaxon is connected to; a declaration from
	// the web goes to the first the person has an account on.
	Platforms []bot.Platform
	Client    *http.Client // to the identity provider
	Clock     bot.Clock
	Log       zerolog.Logger
}

// UI serves the console.
type UI struct {
	cfg  Config
	log  zerolog.Logger
	tmpl map[string]*template.Template
	css  string // the style sheet's path, with its hash
	js   string // the live-update script's path, with its hash
	mu   sync.Mutex
	prov *provider
	live live
}

// New returns the console for cfg.
func New(cfg Config) (*UI, error) {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 12 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 7 * 24 * time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	base := "/app"
	if p, err := url.Parse(cfg.PublicURL); err == nil {
		base = strings.TrimSuffix(p.Path, "/") + "/app"
	}
	cfg.BasePath = base
	u := &UI{cfg: cfg, log: cfg.Log.With().Str("component", "web").Logger(), tmpl: map[string]*template.Template{}}
	css, err := fs.ReadFile(files, "static/style.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	u.css = base + "/static/style.css?v=" + base64.RawURLEncoding.EncodeToString(sum[:6])
	js, err := fs.ReadFile(files, "static/live.js")
	if err != nil {
		return nil, err
	}
	jsSum := sha256.Sum256(js)
	u.js = base + "/static/live.js?v=" + base64.RawURLEncoding.EncodeToString(jsSum[:6])
	funcs := template.FuncMap{
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"base":  func() string { return base },
		"dec":   func(n int) int { return n - 1 },
		"plain": plainTitle,
		"css":   func() string { return u.css },
		"js":    func() string { return u.js },
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", name, err)
		}
		u.tmpl[name] = t
	}
	return u, nil
}

// Routes adds the console to mux: /app/…, /auth/callback.
func (u *UI) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/static/style.css", u.handleStatic("static/style.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /app/static/live.js", u.handleStatic("static/live.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /app/events", u.signedIn(u.handleEvents))
	mux.HandleFunc("GET /app/login", u.handleLogin)
	mux.HandleFunc("GET /auth/callback", u.handleCallback)
	mux.HandleFunc("GET /app/login/discord", u.handleDiscordLogin)
	mux.HandleFunc("GET /auth/discord/callback", u.handleDiscordCallback)
	mux.HandleFunc("GET /app/{$}", u.signedIn(func(w http.ResponseWriter, r *http.Request, s *bot.Session) {
		http.Redirect(w, r, u.cfg.BasePath+"/incidents", http.StatusFound)
	}))
	mux.HandleFunc("GET /app/incidents", u.signedIn(u.handleList))
	mux.HandleFunc("GET /app/incidents/{n}", u.signedIn(u.handleIncident))
	mux.HandleFunc("POST /app/incidents/{n}/{action}", u.signedIn(u.checked(u.handleAction)))
	mux.HandleFunc("GET /app/incidents/{n}/postmortem", u.signedIn(u.handlePostmortem))
	mux.HandleFunc("POST /app/incidents/{n}/postmortem", u.signedIn(u.checked(u.handlePostmortemPost)))
	mux.HandleFunc("GET /app/declare", u.signedIn(u.handleDeclareForm))
	if u.cfg.OnCall != nil {
		mux.HandleFunc("GET /app/oncall", u.signedIn(u.handleOnCall))
		mux.HandleFunc("GET /app/oncall/{id}", u.signedIn(u.handleCalendar))
		mux.HandleFunc("POST /app/oncall/{id}/override", u.signedIn(u.checked(u.handleOverride)))
		mux.HandleFunc("POST /app/oncall/{id}/cover", u.signedIn(u.checked(u.handleCover)))
		mux.HandleFunc("POST /app/oncall/{id}/undo", u.signedIn(u.checked(u.handleUndo)))
		mux.HandleFunc("POST /app/oncall/{id}/offer", u.signedIn(u.checked(u.handleOffer)))
		mux.HandleFunc("POST /app/oncall/{id}/take", u.signedIn(u.checked(u.handleTake)))
	}
	if u.cfg.Insights != nil {
		mux.HandleFunc("GET /app/insights", u.signedIn(u.handleInsights))
		mux.HandleFunc("GET /app/insights.csv", u.signedIn(u.handleInsightsCSV))
	}
	if u.cfg.Policies != nil {
		mux.HandleFunc("GET /app/policies", u.signedIn(u.handlePolicies))
	}
	mux.HandleFunc("POST /app/declare", u.signedIn(u.checked(u.handleDeclare)))
	mux.HandleFunc("POST /app/logout", u.signedIn(u.checked(u.handleLogout)))
}

// handleStatic serves an embedded file; its links carry its hash, so it
// may be cached for good.
func (u *UI) handleStatic(name, contentType string) http.HandlerFunc {
	data, _ := fs.ReadFile(files, name)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(data)
	}
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, s *bot.Session)

// signedIn serves h to a signed-in person; anyone else goes to sign-in,
// and comes back here after.
func (u *UI) signedIn(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u.headers(w)
		s, ok := u.session(r)
		if !ok {
			if r.Method != http.MethodGet {
				u.problem(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again, then repeat what you did.")
				return
			}
			http.Redirect(w, r, u.cfg.BasePath+"/login?return="+url.QueryEscape(u.cfg.BasePath+strings.TrimPrefix(r.URL.RequestURI(), "/app")), http.StatusFound)
			return
		}
		h(w, r, s)
	}
}

// checked refuses a state-changing request without the session's CSRF
// token, or sent from another origin.
func (u *UI) checked(h sessionHandler) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, s *bot.Session) {
		r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
		if err := r.ParseForm(); err != nil {
			u.problem(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.HasPrefix(u.cfg.PublicURL+"/", o+"/") {
			u.problem(w, r, http.StatusForbidden, "Refused", "This request came from another site.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
			u.problem(w, r, http.StatusForbidden, "Refused", "This form's security token is missing or stale. Reload the page and try again.")
			return
		}
		h(w, r, s)
	}
}

// headers are every console answer's: a strict Content-Security-Policy
// (klaxon's own script and style sheet only, nothing inline), no framing,
// no sniffing, no referrer beyond klaxon.
func (u *UI) headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// page is what every template gets.
type page struct {
	Title   string
	Person  bot.Person
	CSRF    string
	Flash   string
	Data    any
	Problem string
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := u.tmpl[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		u.log.Error().Err(err).Str("template", name).Msg("rendering a page")
		http.Error(w, "klaxon could not render this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

func (u *UI) problem(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	u.headers(w)
	u.render(w, r, status, "problem", page{Title: title, Problem: text})
}

func (u *UI) person(s *bot.Session) bot.Person {
	p, _ := u.cfg.People.Get(s.Person)
	return p
}

// actor is the person as the incident's platform knows them.
func actor(who bot.Person, platform bot.Platform) bot.Actor {
	id := who.UserID(platform)
	if id == "" {
		id = who.ID
	}
	return bot.Actor{User: bot.User{ID: id, Name: who.Name}, Platform: platform}
}

// listRow is one incident in the list.
type listRow struct {
	*bot.Incident
	Emoji string
}

type listData struct {
	Rows                            []listRow
	Status, Severity, Service, Type string
	Query                           string
	Severities                      []string
	Services                        []string
	Next                            string
	Statuses                        []string
}

const pageSize = 50

func (u *UI) handleList(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	who := u.person(s)
	q := r.URL.Query()
	d := listData{Status: q.Get("status"), Severity: q.Get("severity"), Service: q.Get("service"), Type: q.Get("type"),
		Query: strings.TrimSpace(q.Get("q")), Services: u.cfg.Services, Statuses: []string{"active", "open", "acknowledged", "mitigated", "resolved", "closed"}}
	for _, sev := range u.cfg.Severities {
		d.Severities = append(d.Severities, sev.Name)
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	// Read in batches until a page of rows the person may see matches.
	for len(d.Rows) < pageSize {
		batch, err := u.cfg.Store.ListIncidents(r.Context(), bot.IncidentFilter{Limit: 200, Before: before, ActiveOnly: d.Status == "active"})
		if err != nil {
			u.log.Error().Err(err).Msg("listing incidents")
			u.problem(w, r, http.StatusInternalServerError, "Incidents", "klaxon could not read the incidents.")
			return
		}
		for _, inc := range batch {
			before = inc.Number
			if !u.matches(d, inc) || !u.cfg.Incidents.MayAccess(r.Context(), inc, actor(who, inc.Platform)) {
				continue
			}
			d.Rows = append(d.Rows, listRow{Incident: inc, Emoji: inc.Status.Emoji()})
			if len(d.Rows) == pageSize {
				break
			}
		}
		if len(batch) < 200 {
			before = 0
			break
		}
	}
	if len(d.Rows) == pageSize && before > 1 {
		v := url.Values{}
		for _, k := range []string{"status", "severity", "service", "type", "q"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("before", strconv.FormatInt(before, 10))
		d.Next = u.cfg.BasePath + "/incidents?" + v.Encode()
	}
	u.render(w, r, http.StatusOK, "list", page{Title: "Incidents", Person: who, CSRF: s.CSRF, Data: d})
}

func (u *UI) matches(d listData, inc *bot.Incident) bool {
	switch {
	case d.Status != "" && d.Status != "active" && string(inc.Status) != d.Status,
		d.Severity != "" && inc.Severity.Name != d.Severity,
		d.Service != "" && inc.Service != d.Service,
		d.Type != "" && inc.Type != d.Type,
		d.Query != "" && !strings.Contains(strings.ToLower(inc.Title), strings.ToLower(d.Query)):
		return false
	}
	return true
}

type incidentData struct {
	*bot.Incident
	Emoji      string
	Open       bool // not acknowledged yet
	Commander  string
	Roles      []string
	Events     []bot.Event
	Filter     string
	Severities []string
	Active     bool
	Fields     []bot.Field
	Custom     []bot.Field // the type's fields
	FollowUps  []*bot.FollowUp
	People     []string // for the role form: person ids and names
	Roles2     []string // the roles one may assign
}

// incident is the incident the request names, if the person may see it;
// otherwise a page that gives away nothing about it.
func (u *UI) incident(w http.ResponseWriter, r *http.Request, s *bot.Session) (*bot.Incident, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(r.PathValue("n")), "INC-"), 10, 64)
	var inc *bot.Incident
	if err == nil {
		inc, err = u.cfg.Store.IncidentByNumber(r.Context(), n)
	}
	if err != nil || !u.cfg.Incidents.MayAccess(r.Context(), inc, actor(u.person(s), inc.Platform)) {
		// A private incident the person may not see looks like none.
		u.problem(w, r, http.StatusNotFound, "Not found", "There is no such incident, or it is not one you may see.")
		return nil, false
	}
	return inc, true
}

func (u *UI) handleIncident(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	inc, ok := u.incident(w, r, s)
	if !ok {
		return
	}
	d := incidentData{Incident: inc, Emoji: inc.Status.Emoji(), Filter: r.URL.Query().Get("show"), Active: inc.Status.Active(), Open: inc.Status == bot.StatusOpen}
	if c, ok := inc.Commander(); ok {
		d.Commander = u.userName(inc.Platform, c)
	}
	for role, who := range inc.Roles {
		d.Roles = append(d.Roles, string(role)+": "+u.userName(inc.Platform, who))
	}
	slices.Sort(d.Roles)
	for _, sev := range u.cfg.Severities {
		d.Severities = append(d.Severities, sev.Name)
	}
	for _, t := range u.cfg.Types {
		if t.ID != inc.Type {
			continue
		}
		for _, f := range t.Fields {
			if v := inc.Fields[f.ID]; v != "" {
				if f.Kind == bot.CustomUser {
					v = u.userName(inc.Platform, bot.User{ID: v})
				}
				d.Custom = append(d.Custom, bot.Field{Label: f.Label, Value: v})
			}
		}
	}
	for _, f := range u.cfg.Incidents.SummaryFields(r.Context(), inc) {
		f.Value = u.names(inc.Platform, bot.PlainTimes(f.Value))
		d.Fields = append(d.Fields, f)
	}
	if fus, err := u.cfg.Store.FollowUps(r.Context()); err == nil {
		for _, f := range fus {
			if f.IncidentID == inc.ID {
				d.FollowUps = append(d.FollowUps, f)
			}
		}
	}
	for _, p := range u.cfg.People {
		d.People = append(d.People, p.ID)
	}
	d.Roles2 = u.cfg.Roles
	evs, err := u.cfg.Store.Events(r.Context(), inc.ID, 0, 500)
	if err != nil {
		u.log.Error().Err(err).Msg("reading a timeline")
	}
	for _, ev := range evs {
		if keep(d.Filter, ev) {
			ev.Text = u.names(inc.Platform, ev.Text)
			d.Events = append(d.Events, ev)
		}
	}
	u.render(w, r, http.StatusOK, "incident", page{Title: inc.Key() + " " + inc.Title, Person: u.person(s), CSRF: s.CSRF, Data: d, Flash: r.URL.Query().Get("said")})
}

// keep says whether the timeline filter shows ev: highlights (📌 and
// notes), messages, changes, pages, or everything.
func keep(filter string, ev bot.Event) bool {
	switch filter {
	case "highlights":
		return ev.Highlight
	case "messages":
		return ev.Kind == bot.EventMessage
	case "pages":
		return ev.Kind == bot.EventPage || ev.Kind == bot.EventDelivery
	case "changes":
		return ev.Kind != bot.EventMessage && ev.Kind != bot.EventPage && ev.Kind != bot.EventDelivery && ev.Kind != bot.EventReaction
	}
	return true
}

// handleAction runs one of the incident's actions as the chat command it
// is, as the signed-in person on the incident's platform.
func (u *UI) handleAction(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	inc, ok := u.incident(w, r, s)
	if !ok {
		return
	}
	f := r.PostForm
	text := strings.TrimSpace(f.Get("text"))
	var cmd string
	switch r.PathValue("action") {
	case "ack":
		cmd = "/incident ack " + inc.Key()
	case "mitigate":
		cmd = "/incident mitigate " + inc.Key()
	case "resolve":
		cmd = "/incident resolve " + inc.Key() + " " + bot.QuoteArg(text)
	case "update":
		pub := ""
		if f.Get("public") == "on" {
			pub = "--public "
		}
		cmd = "/incident update " + inc.Key() + " " + pub + bot.QuoteArg(text)
	case "sev":
		cmd = "/incident sev " + inc.Key() + " " + bot.QuoteArg(f.Get("severity"))
	case "followup":
		cmd = "/incident followup " + inc.Key() + " " + bot.QuoteArg(text)
	case "role":
		who, ok := u.cfg.People.Get(f.Get("person"))
		if !ok {
			u.problem(w, r, http.StatusBadRequest, "Roles", "Pick one of klaxon's people.")
			return
		}
		cmd = "/incident role " + inc.Key() + " " + bot.QuoteArg(f.Get("role")) + " " + who.MentionOn(inc.Platform)
	default:
		u.problem(w, r, http.StatusNotFound, "Not found", "klaxon has no such action.")
		return
	}
	said := u.run(r.Context(), s, inc.Platform, cmd)
	http.Redirect(w, r, u.cfg.BasePath+"/incidents/"+strconv.FormatInt(inc.Number, 10)+"?said="+url.QueryEscape(said), http.StatusSeeOther)
}

// run dispatches cmd as the session's person on platform and returns
// what chat would have answered, in plain text.
func (u *UI) run(ctx context.Context, s *bot.Session, platform bot.Platform, cmd string) string {
	a := actor(u.person(s), platform)
	resp := u.cfg.Dispatch(ctx, &bot.Request{Platform: platform, User: a.User, Text: cmd, Time: u.cfg.Clock.Now()})
	u.log.Info().Str("person", s.Person).Str("command", strings.SplitN(cmd, " ", 3)[1]).Msg("web action")
	return u.said(platform, resp.Text)
}

// said is a chat answer as a page shows it: names for mentions, times
// as written, no chat emphasis, at most 500 characters.
func (u *UI) said(platform bot.Platform, text string) string {
	return bot.Cut(emphasis.ReplaceAllString(u.names(platform, bot.PlainTimes(text)), "$1"), 500)
}

// emphasis is chat's *bold*, which a page shows as plain text.
var emphasis = regexp.MustCompile(`\*([^*\n]+)\*`)

// mention is a chat mention of a user or channel: <@U1>, <@!1>, <@U1|alice>,
// <#C1|name>, <#1>.
var mention = regexp.MustCompile(`<([@#])!?([A-Za-z0-9._-]+)(?:\|([^<>]*))?>`)

// userName is how a page names a chat user: the person's name when
// klaxon knows them, else the platform's name, else the id.
func (u *UI) userName(platform bot.Platform, who bot.User) string {
	if p, ok := u.cfg.People.Find(platform, who.ID); ok {
		return p.Name
	}
	return cmp.Or(who.Name, who.ID)
}

// names shows chat mentions in text as people read them on a page:
// @Alice for a person klaxon knows, #name for a channel.
func (u *UI) names(platform bot.Platform, text string) string {
	return mention.ReplaceAllStringFunc(text, func(m string) string {
		p := mention.FindStringSubmatch(m)
		if p[1] == "#" {
			return "#" + cmp.Or(p[3], p[2])
		}
		if who, ok := u.cfg.People.Find(platform, p[2]); ok {
			return "@" + who.Name
		}
		return "@" + cmp.Or(p[3], p[2])
	})
}

type declareData struct {
	Severities []string
	Services   []string
	Types      bot.IncidentTypes
	Type       *bot.IncidentType
	People     bot.People
}

func (u *UI) handleDeclareForm(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	d := declareData{Services: u.cfg.Services, Types: u.cfg.Types, People: u.cfg.People}
	// The type's own fields show once it is chosen (a GET of this form:
	// no script needed).
	for i := range u.cfg.Types {
		if u.cfg.Types[i].ID == r.URL.Query().Get("type") {
			d.Type = &u.cfg.Types[i]
		}
	}
	for _, sev := range u.cfg.Severities {
		d.Severities = append(d.Severities, sev.Name)
	}
	u.render(w, r, http.StatusOK, "declare", page{Title: "Declare an incident", Person: u.person(s), CSRF: s.CSRF, Data: d, Flash: r.URL.Query().Get("said")})
}

// handleDeclare declares on the platform the person has an account on
// (the first of Slack, Discord; else the console), as /incident declare.
func (u *UI) handleDeclare(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	f := r.PostForm
	who := u.person(s)
	platform := u.chatOf(who)
	cmd := "/incident declare " + bot.QuoteArg(strings.TrimSpace(f.Get("title")))
	if sev := f.Get("severity"); sev != "" {
		cmd += " sev:" + bot.QuoteArg(sev)
	}
	if svc := f.Get("service"); svc != "" {
		cmd += " service:" + bot.QuoteArg(svc)
	}
	if sum := strings.TrimSpace(f.Get("summary")); sum != "" {
		cmd += " summary:" + bot.QuoteArg(sum)
	}
	if f.Get("private") == "on" {
		cmd += " private"
	}
	for _, t := range u.cfg.Types {
		if t.ID != f.Get("type") {
			continue
		}
		cmd += " type:" + t.ID
		for _, field := range t.Fields {
			v := strings.TrimSpace(f.Get("field." + field.ID))
			if v == "" {
				continue
			}
			if field.Kind == bot.CustomUser {
				who, ok := u.cfg.People.Get(v)
				if !ok {
					continue
				}
				v = who.MentionOn(platform)
			}
			cmd += " " + field.ID + ":" + bot.QuoteArg(v)
		}
	}
	said := u.run(r.Context(), s, platform, cmd)
	if n := declaredNumber(said); n != "" {
		http.Redirect(w, r, u.cfg.BasePath+"/incidents/"+n+"?said="+url.QueryEscape(said), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, u.cfg.BasePath+"/declare?said="+url.QueryEscape(said), http.StatusSeeOther)
}

// connected reports whether the console was built with platform's chat
// (People with accounts there exist either way).
func (u *UI) connected(p bot.Platform) bool { return slices.Contains(u.cfg.Platforms, p) }

// declaredNumber finds "INC-<n>" in a declaration's answer.
func declaredNumber(said string) string {
	i := strings.Index(said, "INC-")
	if i < 0 {
		return ""
	}
	j := i + 4
	for j < len(said) && said[j] >= '0' && said[j] <= '9' {
		j++
	}
	return said[i+4 : j]
}
