// Package web is klaxon's HTTP listener: calendar feeds now; alert intake,
// the status page and the API later. Handlers decode and validate, then
// hand over to package commands.
package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Feeds renders calendar feeds; commands.OnCall implements it.
type Feeds interface {
	Feed(kind, id, token string, now time.Time, weeks int) ([]byte, bool)
}

// Server serves klaxon's HTTP endpoints.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log zerolog.Logger
}

// Listen binds addr (e.g. 127.0.0.1:8080) and returns a server ready to Serve.
func Listen(addr string, feeds Feeds, clock bot.Clock, log zerolog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /oncall/", feedHandler(feeds, clock))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	return &Server{ln: ln, log: log, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// Addr is the bound address, useful when listening on port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errs := make(chan error, 1)
	go func() { errs <- s.srv.Serve(s.ln) }()
	s.log.Info().Str("addr", s.Addr()).Msg("http listening")
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errs; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// feedHandler serves /oncall/<schedule>.ics and /oncall/person/<id>.ics
// with ?token=…. A wrong token and an unknown feed both get 404.
func feedHandler(feeds Feeds, clock bot.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/oncall/")
		kind := "schedule"
		if rest, ok := strings.CutPrefix(path, "person/"); ok {
			kind, path = "person", rest
		}
		id, ok := strings.CutSuffix(path, ".ics")
		if !ok || id == "" || strings.Contains(id, "/") {
			http.NotFound(w, r)
			return
		}
		weeks, _ := strconv.Atoi(r.URL.Query().Get("weeks"))
		body, ok := feeds.Feed(kind, id, r.URL.Query().Get("token"), clock.Now(), weeks)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=300")
		w.Write(body)
	})
}
