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

// API configures the read-only JSON API under /api/v1/. Without a Token
// it is off; the AdminToken also opens /api/v1/backup.
type API struct {
	Records Records
	OnCall  func(t time.Time) any // who is on call now, as JSON
	// Insights is the insights report for a query (from, to, service,
	// severity, type) over public incidents, as the console's charts show.
	Insights   func(ctx context.Context, q url.Values) (*bot.InsightsReport, error)
	Token      string
	AdminToken string
}

// Page sizes of the list endpoints.
const (
	defaultPage = 50
	maxPage     = 500
)

func apiRoutes(mux *http.ServeMux, api API, clock bot.Clock, log zerolog.Logger) {
	h := apiHandler{api: api, clock: clock, log: log}
	mux.Handle("GET /api/v1/incidents", h.auth(false, h.incidents))
	mux.Handle("GET /api/v1/incidents/{n}", h.auth(false, h.incident))
	mux.Handle("GET /api/v1/incidents/{n}/timeline", h.auth(false, h.timeline))
	mux.Handle("GET /api/v1/incidents/{n}/postmortem.md", h.auth(false, h.postmortem))
	mux.Handle("GET /api/v1/oncall", h.auth(false, h.oncall))
	mux.Handle("GET /api/v1/insights", h.auth(false, h.insights))
	mux.Handle("GET /api/v1/backup", h.auth(true, h.backup))
}

type apiHandler struct {
	api   API
	clock bot.Clock
	log   zerolog.Logger
}

// auth checks the bearer token: the admin token opens everything, the
// read token everything but admin endpoints.
func (h apiHandler) auth(admin bool, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.api.Token == "" && h.api.AdminToken == "" {
			jsonError(w, http.StatusNotFound, "the API is off: set api.token")
			return
		}
		got, _ := bearer(r)
		ok := got != "" && h.api.AdminToken != "" && equal(got, h.api.AdminToken)
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), adminKey{}, true))
		}
		if !ok && !admin {
			ok = got != "" && h.api.Token != "" && equal(got, h.api.Token)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
			what := "api.token"
			if admin {
				what = "api.admin_token"
			}
			jsonError(w, http.StatusUnauthorized, "missing or wrong bearer token ("+what+")")
			return
		}
		next(w, r)
	})
}

// adminKey marks a request made with the admin token, which alone reads
// private incidents.
type adminKey struct{}

// seesPrivate reports whether r may read private incidents: only with the
// admin token. The read token (dashboards, scripts) sees what the status
// page and /incident list show everyone.
func seesPrivate(r *http.Request) bool {
	admin, _ := r.Context().Value(adminKey{}).(bool)
	return admin
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
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	f := bot.IncidentFilter{}
	switch q.Get("status") {
	case "", "all":
	case "active":
		f.ActiveOnly = true
	default:
		jsonError(w, http.StatusBadRequest, "status must be active or all")
		return
	}
	var before int64
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			jsonError(w, http.StatusBadRequest, "before must be an incident number")
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
	body := map[string]any{"incidents": out}
	if next != "" {
		body["next"] = next // a page may be short of private incidents; the next one goes on
	}
	writeJSON(w, http.StatusOK, body)
}

func (h apiHandler) lookup(w http.ResponseWriter, r *http.Request) (*bot.Incident, bool) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		jsonError(w, http.StatusBadRequest, "incidents are numbered: /api/v1/incidents/42")
		return nil, false
	}
	inc, err := h.api.Records.IncidentByNumber(r.Context(), n)
	if err == nil && inc.Private && !seesPrivate(r) {
		err = bot.Errorf(bot.ENOTFOUND, "private") // answered as if there were none
	}
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		jsonError(w, http.StatusNotFound, fmt.Sprintf("there is no INC-%d", n))
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
		writeJSON(w, http.StatusOK, inc)
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
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	var after uint64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil || after >= 1<<62 {
			jsonError(w, http.StatusBadRequest, "after must be an event sequence number")
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
		jsonError(w, http.StatusNotFound, inc.Key()+" has no postmortem draft yet: it is generated on resolve, or with /incident postmortem")
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
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "insights are not available"})
		return
	}
	rep, err := h.api.Insights(r.Context(), r.URL.Query())
	if err != nil {
		status := http.StatusInternalServerError
		if bot.ErrorCode(err) == bot.EINVALID {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, map[string]string{"error": bot.ErrorMessage(err)})
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
		jsonError(w, http.StatusNotImplemented, bot.ErrorMessage(err)) // a store backed up by other means
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

func (h apiHandler) internal(w http.ResponseWriter, err error) {
	h.log.Error().Err(err).Msg("api")
	jsonError(w, http.StatusInternalServerError, "klaxon could not read its store")
}
