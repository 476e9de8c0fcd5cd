package web

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Pinger records heartbeat pings; commands.Heartbeats implements it.
type Pinger interface {
	Known(name string) bool
	Ping(ctx context.Context, name string) error
}

// Heartbeats configures POST /heartbeat/<name>. A heartbeat with a token
// needs it as a bearer token.
type Heartbeats struct {
	Pinger Pinger
	Tokens map[string]string // heartbeat name → token
}

func heartbeatHandler(hb Heartbeats, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !hb.Pinger.Known(name) {
			jsonError(w, http.StatusNotFound, "there is no heartbeat "+name+" (heartbeats)")
			return
		}
		if want := hb.Tokens[name]; want != "" {
			if got, ok := bearer(r); !ok || !equal(got, want) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
				jsonError(w, http.StatusUnauthorized, "missing or wrong bearer token for heartbeat "+name)
				return
			}
		}
		if err := hb.Pinger.Ping(r.Context(), name); err != nil {
			log.Error().Err(err).Str("heartbeat", name).Msg("heartbeat ping failed")
			jsonError(w, http.StatusServiceUnavailable, bot.ErrorMessage(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"heartbeat": name, "status": "ok"})
	})
}
