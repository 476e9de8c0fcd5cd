package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Records is what the JSON API reads; both stores implement it.
type Records interface {
	ListIncidents(ctx context.Context, f bot.IncidentFilter) ([]*bot.Incident, error)
	IncidentByNumber(ctx context.Context, n int64) (*bot.Incident, error)
	Events(ctx context.Context, incidentID uuid.UUID, from uint64, limit int) ([]bot.Event, error)
	Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error)
	Backup(w io.Writer) (int64, error)
}

// API configures the JSON API under /api/v1/. Without Tokens it is off.
type API struct {
	Records Records
	OnCall  func(t time.Time) any // who is on call now, as JSON
	// Insights is the insights report for a query (from, to, service,
	// severity, type) over public incidents, as the console's charts show.
	Insights func(ctx context.Context, q url.Values) (*bot.InsightsReport, error)
	Tokens   []Token
	// Writes carries out the writes; nil: the API is read-only.
	Writes Writes
	// Idempotency keeps the answers to writes sent with an
	// Idempotency-Key; nil: such writes are refused.
	Idempotency Idempotency
	// Reload re-reads the configuration (POST /-/reload, admin scope):
	// what it says changed, or why it changed nothing.
	Reload func(ctx context.Context) (ReloadResult, error)
}

// ReloadResult is what a configuration reload did.
type ReloadResult struct {
	// Restart names the settings that changed but apply only after a
	// restart (http.listen, store, chat tokens); the rest applied.
	Restart []string `json:"restart,omitempty"`
	// Notes are what the new configuration leaves behind (overrides on a
	// schedule that is gone).
	Notes []string `json:"notes,omitempty"`
}

// Scope is what a token may do.
type Scope int

// Scopes, each including the ones before it.
const (
	ScopeRead  Scope = iota + 1 // read public incidents, on-call, insights
	ScopeWrite                  // and declare and change incidents, add follow-ups
	ScopeAdmin                  // and private incidents, overrides as an admin, the backup
)

func (s Scope) String() string {
	return [...]string{"", "read", "write", "admin"}[s]
}

// Token is one API token: its name appears in the timeline ("token
// deploy-bot").
type Token struct {
	Name   string
	Secret string
	Scope  Scope
}

// Page sizes of the list endpoints.
const (
	defaultPage = 50
	maxPage     = 500
)

func apiRoutes(mux *http.ServeMux, api API, clock bot.Clock, log zerolog.Logger) {
	h := apiHandler{api: api, clock: clock, log: log}
	mux.Handle("GET /api/v1/openapi.json", http.HandlerFunc(serveOpenAPI))
	mux.Handle("GET /api/v1/incidents", h.auth(ScopeRead, h.incidents))
	mux.Handle("GET /api/v1/incidents/{n}", h.auth(ScopeRead, h.incident))
	mux.Handle("GET /api/v1/incidents/{n}/timeline", h.auth(ScopeRead, h.timeline))
	mux.Handle("GET /api/v1/incidents/{n}/postmortem.md", h.auth(ScopeRead, h.postmortem))
	mux.Handle("GET /api/v1/oncall", h.auth(ScopeRead, h.oncall))
	mux.Handle("GET /api/v1/insights", h.auth(ScopeRead, h.insights))
	mux.Handle("GET /api/v1/backup", h.auth(ScopeAdmin, h.backup))
	if api.Reload != nil {
		mux.Handle("POST /-/reload", h.auth(ScopeAdmin, h.reload))
	}
	writeRoutes(mux, h)
}

type apiHandler struct {
	api   API
	clock bot.Clock
	log   zerolog.Logger
}

// auth checks the bearer token against every configured one (each in
// constant time) and that it has scope; the token goes into the
// request's context.
func (h apiHandler) auth(scope Scope, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(h.api.Tokens) == 0 {
			problem(w, http.StatusNotFound, "off", "The API is off: configure api.tokens (or api.token).", "")
			return
		}
		got, _ := bearer(r)
		var tok *Token
		for i := range h.api.Tokens {
			if got != "" && equal(got, h.api.Tokens[i].Secret) && tok == nil {
				tok = &h.api.Tokens[i]
			}
		}
		if tok == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
			problem(w, http.StatusUnauthorized, "unauthorized", "Missing or wrong bearer token.", "")
			return
		}
		if tok.Scope < scope {
			problem(w, http.StatusForbidden, bot.EFORBIDDEN, fmt.Sprintf("Token %s has the %s scope; this needs %s.", tok.Name, tok.Scope, scope), "")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// tokenKey keeps the request's token in its context.
type tokenKey struct{}

// requestToken is the token r was authorized with.
func requestToken(r *http.Request) *Token {
	t, _ := r.Context().Value(tokenKey{}).(*Token)
	return t
}

// seesPrivate reports whether r may read private incidents: only with an
// admin token. Other tokens (dashboards, scripts) see what the status
// page and /incident list show everyone.
func seesPrivate(r *http.Request) bool {
	t := requestToken(r)
	return t != nil && t.Scope >= ScopeAdmin
}

// shown is inc as r's token may see it: the meeting link's secret is for
// admin tokens only (a dashboard's token must not open the call).
func shown(r *http.Request, inc *bot.Incident) *bot.Incident {
	if seesPrivate(r) || inc.CallSecret == "" {
		return inc
	}
	c := *inc
	c.CallSecret = ""
	return &c
}

// limit reads ?limit=, defaulting and capping it.
func limit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPage {
		return 0, fmt.Errorf("limit must be a number from 1 to %d", maxPage)
	}
	return n, nil
}

// incidents lists incidents newest first: ?status=active, ?limit=,
// ?before=<number> for the next page, whose URL the answer carries.
func (h apiHandler) incidents(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		problem(w, http.StatusBadRequest, bot.EINVALID, err.Error(), "limit")
		return
	}
	q := r.URL.Query()
	f := bot.IncidentFilter{}
	switch q.Get("status") {
	case "", "all":
	case "active":
		f.ActiveOnly = true
	default:
		problem(w, http.StatusBadRequest, bot.EINVALID, "status must be active or all.", "status")
		return
	}
	var before int64
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			problem(w, http.StatusBadRequest, bot.EINVALID, "before must be an incident number.", "before")
			return
		}
	}
	f.Limit, f.Before = n, before
	out, err := h.api.Records.ListIncidents(r.Context(), f)
	if err != nil {
		h.internal(w, err)
		return
	}
	var next string
	if len(out) == n && out[n-1].Number > 1 {
		next = fmt.Sprintf("/api/v1/incidents?limit=%d&before=%d", n, out[n-1].Number)
		if f.ActiveOnly {
			next += "&status=active"
		}
	}
	if !seesPrivate(r) {
		out = slices.DeleteFunc(out, func(inc *bot.Incident) bool { return inc.Private })
	}
	if out == nil {
		out = []*bot.Incident{}
	}
	for i, inc := range out {
		out[i] = shown(r, inc)
	}
	body := map[string]any{"incidents": out}
	if next != "" {
		body["next"] = next // a page may be short of private incidents; the next one goes on
	}
	writeJSON(w, http.StatusOK, body)
}

func (h apiHandler) lookup(w http.ResponseWriter, r *http.Request) (*bot.Incident, bool) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		problem(w, http.StatusBadRequest, bot.EINVALID, "Incidents are numbered: /api/v1/incidents/42.", "n")
		return nil, false
	}
	inc, err := h.api.Records.IncidentByNumber(r.Context(), n)
	if err == nil && inc.Private && !seesPrivate(r) {
		err = bot.Errorf(bot.ENOTFOUND, "private") // answered as if there were none
	}
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		problem(w, http.StatusNotFound, bot.ENOTFOUND, fmt.Sprintf("There is no INC-%d.", n), "n")
		return nil, false
	}
	if err != nil {
		h.internal(w, err)
		return nil, false
	}
	return inc, true
}

func (h apiHandler) incident(w http.ResponseWriter, r *http.Request) {
	if inc, ok := h.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, shown(r, inc))
	}
}

// timeline pages through an incident's events in order: ?after=<seq>
// continues after the last event of the previous page.
func (h apiHandler) timeline(w http.ResponseWriter, r *http.Request) {
	inc, ok := h.lookup(w, r)
	if !ok {
		return
	}
	n, err := limit(r)
	if err != nil {
		problem(w, http.StatusBadRequest, bot.EINVALID, err.Error(), "limit")
		return
	}
	var after uint64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil || after >= 1<<62 {
			problem(w, http.StatusBadRequest, bot.EINVALID, "after must be an event sequence number.", "after")
			return
		}
	}
	evs, err := h.api.Records.Events(r.Context(), inc.ID, after+1, n)
	if err != nil {
		h.internal(w, err)
		return
	}
	body := map[string]any{"incident": inc.Key(), "events": evs}
	if len(evs) == n {
		body["next"] = fmt.Sprintf("/api/v1/incidents/%d/timeline?limit=%d&after=%d", inc.Number, n, evs[n-1].Seq)
	}
	writeJSON(w, http.StatusOK, body)
}

func (h apiHandler) postmortem(w http.ResponseWriter, r *http.Request) {
	inc, ok := h.lookup(w, r)
	if !ok {
		return
	}
	md, err := h.api.Records.Postmortem(r.Context(), inc.ID)
	if bot.ErrorCode(err) == bot.ENOTFOUND || (err == nil && len(md) == 0) {
		problem(w, http.StatusNotFound, bot.ENOTFOUND, inc.Key()+" has no postmortem draft yet: it is generated on resolve, or with /incident postmortem.", "")
		return
	}
	if err != nil {
		h.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Write(md)
}

func (h apiHandler) insights(w http.ResponseWriter, r *http.Request) {
	if h.api.Insights == nil {
		problem(w, http.StatusNotFound, bot.ENOTFOUND, "Insights are not available.", "")
		return
	}
	rep, err := h.api.Insights(r.Context(), r.URL.Query())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (h apiHandler) oncall(w http.ResponseWriter, r *http.Request) {
	if h.api.OnCall == nil {
		writeJSON(w, http.StatusOK, map[string]any{"oncall": []any{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": h.clock.Now().UTC(), "oncall": h.api.OnCall(h.clock.Now())})
}

// backup streams a consistent copy of the database, read in one read
// transaction while klaxon keeps working.
func (h apiHandler) backup(w http.ResponseWriter, r *http.Request) {
	// A database takes longer to stream than an answer is allowed.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	name := "klaxon-" + h.clock.Now().UTC().Format("20060102T150405Z") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	n, err := h.api.Records.Backup(w)
	if err != nil && n == 0 && bot.ErrorCode(err) == bot.EUNSUPPORTED {
		w.Header().Del("Content-Disposition")
		problem(w, http.StatusNotImplemented, bot.EUNSUPPORTED, bot.ErrorMessage(err), "") // a store backed up by other means
		return
	}
	if err != nil {
		// The status line has gone out: abort the response, so the client
		// sees a broken transfer rather than a short file.
		h.log.Error().Err(err).Int64("bytes", n).Msg("backup over HTTP failed")
		panic(http.ErrAbortHandler)
	}
	h.log.Info().Int64("bytes", n).Msg("backup streamed")
}

// reload re-reads the configuration, as SIGHUP does: 200 with what it
// did, or a problem saying why nothing changed.
func (h apiHandler) reload(w http.ResponseWriter, r *http.Request) {
	res, err := h.api.Reload(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "restart": res.Restart, "notes": res.Notes})
}

func (h apiHandler) internal(w http.ResponseWriter, err error) {
	h.log.Error().Err(err).Msg("api")
	problem(w, http.StatusInternalServerError, bot.EINTERNAL, "klaxon could not read its store.", "")
}
