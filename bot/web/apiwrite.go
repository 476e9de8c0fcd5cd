package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Writes carries out the API's writes through klaxon's use cases, as who
// (the token's actor), with chat's rules. An error is a *bot.Error whose
// code decides the status.
type Writes interface {
	Declare(ctx context.Context, who bot.Actor, d Declaration) (*bot.Incident, error)
	// Change makes a lifecycle change to incident n and returns it as it
	// is afterwards.
	Change(ctx context.Context, who bot.Actor, n int64, c Change) (*bot.Incident, error)
	AddFollowUp(ctx context.Context, who bot.Actor, n int64, text string) (*bot.FollowUp, error)
	// AddOverride puts o.Person on call on o.Schedule from o.Start to
	// o.End and returns what klaxon says of it.
	AddOverride(ctx context.Context, who bot.Actor, o Override) (string, error)
}

// Idempotency is the store that keeps the answers to writes sent with an
// Idempotency-Key.
type Idempotency = bot.Updater

// Declaration is POST /api/v1/incidents.
type Declaration struct {
	Title     string            `json:"title"`
	Severity  string            `json:"severity,omitempty"`
	Service   string            `json:"service,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	Private   bool              `json:"private,omitempty"`
	Type      string            `json:"type,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	Commander string            `json:"commander,omitempty"` // a person's id; empty: the role stays open
}

// Change is a lifecycle change: Kind is update, acknowledge, severity,
// role, mitigate, resolve or reopen.
type Change struct {
	Kind     string `json:"-"`
	Text     string `json:"text,omitempty"`     // an update's text
	Public   bool   `json:"public,omitempty"`   // an update for the status page
	Severity string `json:"severity,omitempty"` // the new severity
	Role     string `json:"role,omitempty"`     // a role to assign
	Person   string `json:"person,omitempty"`   // who gets the role (a person's id)
	Summary  string `json:"summary,omitempty"`  // a resolution's words
	Reason   string `json:"reason,omitempty"`   // why it is reopened
}

// Override is POST /api/v1/oncall/overrides.
type Override struct {
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// maxWriteBody bounds a write's JSON body.
const maxWriteBody = 64 << 10

func writeRoutes(mux *http.ServeMux, h apiHandler) {
	w := func(next http.HandlerFunc) http.Handler { return h.auth(ScopeWrite, h.idempotent(next)) }
	mux.Handle("POST /api/v1/incidents", w(h.declare))
	for _, kind := range []string{"updates", "acknowledge", "severity", "roles", "mitigate", "resolve", "reopen"} {
		mux.Handle("POST /api/v1/incidents/{n}/"+kind, w(h.change(kind)))
	}
	mux.Handle("POST /api/v1/incidents/{n}/followups", w(h.followUp))
	mux.Handle("POST /api/v1/oncall/overrides", w(h.override))
}

// actor is who a request acts as: its token.
func actor(r *http.Request) bot.Actor {
	return bot.Actor{User: bot.TokenUser(requestToken(r).Name)} // the use cases act on the incident's platform
}

// decode reads r's JSON body into v: unknown fields, trailing data and a
// body over maxWriteBody are refused, naming what is wrong. An empty body
// is an empty object.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWriteBody))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, bot.EINVALID, fmt.Sprintf("The body is over %d KB.", maxWriteBody>>10), "")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
			err = fmt.Errorf("there is no field %s here", f)
		}
		problem(w, http.StatusBadRequest, bot.EINVALID, "The body is not the JSON this endpoint takes: "+strings.TrimPrefix(err.Error(), "json: ")+".", field)
		return false
	}
	if dec.More() {
		problem(w, http.StatusBadRequest, bot.EINVALID, "The body has more than one JSON value.", "")
		return false
	}
	return true
}

// required refuses an empty field, naming it.
func required(w http.ResponseWriter, field, value string) bool {
	if strings.TrimSpace(value) == "" {
		problem(w, http.StatusBadRequest, bot.EINVALID, field+" is required.", field)
		return false
	}
	return true
}

func (h apiHandler) declare(w http.ResponseWriter, r *http.Request) {
	var d Declaration
	if !decode(w, r, &d) || !required(w, "title", d.Title) {
		return
	}
	inc, err := h.api.Writes.Declare(r.Context(), actor(r), d)
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/incidents/%d", inc.Number))
	writeJSON(w, http.StatusCreated, shown(r, inc))
}

// change handles POST /api/v1/incidents/{n}/<kind>.
func (h apiHandler) change(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
		if err != nil || n < 1 {
			problem(w, http.StatusBadRequest, bot.EINVALID, "Incidents are numbered: /api/v1/incidents/42/"+kind+".", "n")
			return
		}
		c := Change{Kind: strings.TrimSuffix(kind, "s")} // updates → update, roles → role
		if !decode(w, r, &c) {
			return
		}
		switch c.Kind {
		case "update":
			if !required(w, "text", c.Text) {
				return
			}
		case "severity":
			if !required(w, "severity", c.Severity) {
				return
			}
		case "role":
			if !required(w, "role", c.Role) || !required(w, "person", c.Person) {
				return
			}
		}
		inc, err := h.api.Writes.Change(r.Context(), actor(r), n, c)
		if err != nil {
			h.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, shown(r, inc))
	}
}

func (h apiHandler) followUp(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		problem(w, http.StatusBadRequest, bot.EINVALID, "Incidents are numbered: /api/v1/incidents/42/followups.", "n")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &body) || !required(w, "text", body.Text) {
		return
	}
	f, err := h.api.Writes.AddFollowUp(r.Context(), actor(r), n, body.Text)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (h apiHandler) override(w http.ResponseWriter, r *http.Request) {
	var o Override
	if !decode(w, r, &o) || !required(w, "schedule", o.Schedule) || !required(w, "person", o.Person) {
		return
	}
	switch {
	case o.Start.IsZero():
		problem(w, http.StatusBadRequest, bot.EINVALID, "start is required (RFC 3339, e.g. 2026-12-01T14:00:00Z).", "start")
		return
	case !o.End.After(o.Start):
		problem(w, http.StatusBadRequest, bot.EINVALID, "end must be after start (RFC 3339).", "end")
		return
	}
	said, err := h.api.Writes.AddOverride(r.Context(), actor(r), o)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"message": said})
}

// fail answers a use case's error as problem details: its code decides
// the status, its message is the detail, its field names the input.
func (h apiHandler) fail(w http.ResponseWriter, err error) {
	code := bot.ErrorCode(err)
	status := bot.HTTPStatus(err)
	switch code {
	case bot.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
	case bot.EUNSUPPORTED:
		status = http.StatusNotImplemented
	case bot.EREFUSED:
		status = http.StatusBadGateway
	case bot.EINTERNAL:
		h.log.Error().Err(err).Msg("api")
	}
	field := ""
	if e, ok := errors.AsType[*bot.Error](err); ok {
		field = e.Field
	}
	var fe bot.FieldErrors
	if errors.As(err, &fe) {
		status, code = http.StatusBadRequest, bot.EINVALID
		for k, v := range fe {
			if field == "" || k < field {
				field, err = k, bot.Errorf(bot.EINVALID, "%s", v)
			}
		}
	}
	problem(w, status, code, bot.ErrorMessage(err), field)
}

// Problem is an error answer of the API: RFC 9457 problem details, with
// klaxon's stable code and the field at fault.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
}

// problem writes a problem details answer.
func problem(w http.ResponseWriter, status int, code, detail, field string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{Type: "https://github.com/klaxon-bot/klaxon/blob/main/README.md#errors", Title: http.StatusText(status),
		Status: status, Detail: detail, Code: code, Field: field})
}

// Idempotency-Key handling.

const (
	// maxIdempotencyKey bounds a key's length.
	maxIdempotencyKey = 255
	// inProgressFor is how long a claimed key answers 409 "in progress".
	inProgressFor = time.Minute
)

// idempotent runs a write once per Idempotency-Key: the first request
// claims the key in the store, runs, and records its answer; a repeat
// with the same body within a day gets that answer again
// (Idempotent-Replayed: true) and changes nothing; a repeat with another
// body is refused, as is one while the first still runs. A failure of
// klaxon's own (5xx) frees the key, since nothing was changed.
func (h apiHandler) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		if len(key) > maxIdempotencyKey || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			problem(w, http.StatusBadRequest, bot.EINVALID, fmt.Sprintf("Idempotency-Key must be 1 to %d printable ASCII characters (a UUID is good).", maxIdempotencyKey), "Idempotency-Key")
			return
		}
		if h.api.Idempotency == nil {
			problem(w, http.StatusNotImplemented, bot.EUNSUPPORTED, "This klaxon keeps no idempotency keys.", "Idempotency-Key")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWriteBody))
		if err != nil {
			problem(w, http.StatusRequestEntityTooLarge, bot.EINVALID, fmt.Sprintf("The body is over %d KB.", maxWriteBody>>10), "")
			return
		}
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(body)))
		hash := hex.EncodeToString(sum[:])
		id := requestToken(r).Name + " " + key
		now := h.clock.Now()
		var prior *bot.IdempotencyRecord
		err = h.api.Idempotency.Update(r.Context(), func(tx bot.Tx) error {
			rec, err := tx.Idempotency(id)
			if err != nil {
				return err
			}
			if rec != nil && now.Sub(rec.Created) < bot.IdempotencyTTL {
				prior = rec
				return nil
			}
			prior = nil
			return tx.PutIdempotency(&bot.IdempotencyRecord{Key: id, Hash: hash, Created: now})
		})
		if err != nil {
			h.internal(w, err)
			return
		}
		switch {
		case prior != nil && prior.Hash != hash:
			problem(w, http.StatusUnprocessableEntity, bot.ECONFLICT, "This Idempotency-Key was used with another request; use a new key for a new request.", "Idempotency-Key")
			return
		case prior != nil && prior.Status == 0 && now.Sub(prior.Created) < inProgressFor:
			w.Header().Set("Retry-After", "1")
			problem(w, http.StatusConflict, bot.ECONFLICT, "A request with this Idempotency-Key is still running; ask again in a moment.", "Idempotency-Key")
			return
		case prior != nil && prior.Status == 0:
			problem(w, http.StatusConflict, bot.ECONFLICT, "A request with this Idempotency-Key did not finish (klaxon stopped while it ran), so klaxon cannot tell whether it was made: check, then use a new key.", "Idempotency-Key")
			return
		case prior != nil:
			w.Header().Set("Content-Type", prior.ContentType)
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prior.Status)
			w.Write(prior.Body)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(rec, r)
		done := &bot.IdempotencyRecord{Key: id, Hash: hash, Created: now, Status: rec.status, ContentType: rec.Header().Get("Content-Type"), Body: rec.body.Bytes()}
		err = h.api.Idempotency.Update(context.WithoutCancel(r.Context()), func(tx bot.Tx) error {
			if done.Status >= 500 {
				return tx.DeleteIdempotency(id)
			}
			return tx.PutIdempotency(done)
		})
		if err != nil {
			h.log.Error().Err(err).Msg("recording an idempotency key's answer")
		}
	}
}

// recorder passes an answer on and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
