// Package web is klaxon's HTTP listener: calendar feeds, alert intake, the
// JSON API, metrics and health checks. Handlers decode and validate, then hand over to package
// commands.
package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	srv     *http.Server
	ln      net.Listener
	log     zerolog.Logger
	handler atomic.Pointer[http.Handler]
}

// SetHandler makes the server answer with h from the next request on (a
// configuration reload's new routes); requests in flight finish with the
// handler they started with.
func (s *Server) SetHandler(h http.Handler) { s.handler.Store(&h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.handler.Load()).ServeHTTP(w, r)
}

// Config is what the listener serves. Nil parts are not served.
type Config struct {
	Addr    string // e.g. 127.0.0.1:8080
	Feeds   Feeds
	Alerts  AlertIntake
	Sources map[string]Source // enabled alert sources: alertmanager, grafana, generic
	// Ready reports why klaxon cannot serve yet (store closed, chat
	// disconnected), or nil.
	Ready func() error
	// Warnings lists what works only in part (a missing Slack scope or
	// Discord permission); /readyz shows them without failing.
	Warnings func() []string
	// Role says what this replica does (leader or standby), and Store
	// which store it runs on, for /readyz.
	Role    func() string
	Store   string
	Metrics Snapshotter // /metrics
	// MetricsToken, when set, is the bearer token /metrics wants, for
	// a listener that cannot be kept private.
	MetricsToken string
	API          *API   // /api/v1/
	Phone        *Phone // /twilio/ and /ack/: acknowledgements from phones
	// Console, when set, adds the web console's routes (/app/…).
	Console interface{ Routes(*http.ServeMux) }
	Status  *Status // /status, /status.json, /status/feed.atom
	// Heartbeats serves POST /heartbeat/<name>.
	Heartbeats *Heartbeats
	Clock      bot.Clock
	Log        zerolog.Logger
	// Limits bound slow and idle clients; zero fields take the defaults.
	Limits Limits
}

// Limits bound what one client may hold: a request's headers and body
// must arrive, and its answer leave, within their timeouts; an idle
// keep-alive is closed; and at most MaxConns connections are open at once
// (more wait in the kernel's queue, holding no file), so a flood of idle
// or slow clients cannot starve /healthz or alert intake.
type Limits struct {
	ReadHeader time.Duration // default 10 s
	Read       time.Duration // the whole request, body included; default 30 s
	Write      time.Duration // the answer; default 30 s (the backup stream takes longer)
	Idle       time.Duration // a keep-alive between requests; default 60 s
	MaxConns   int           // default 1,000
	// MaxConnsPerClient bounds the connections one client address holds at
	// once (more are closed as they are accepted), so one client cannot
	// take every slot; default 100. Behind a reverse proxy every
	// connection comes from the proxy: raise it there.
	MaxConnsPerClient int
}

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeader, 10*time.Second)
	def(&l.Read, 30*time.Second)
	def(&l.Write, 30*time.Second)
	def(&l.Idle, 60*time.Second)
	if l.MaxConns <= 0 {
		l.MaxConns = 1000
	}
	if l.MaxConnsPerClient <= 0 {
		l.MaxConnsPerClient = 100
	}
	return l
}

// maxHeaderBytes bounds a request's headers.
const maxHeaderBytes = 64 << 10

// Listen binds cfg.Addr and returns a server ready to Serve.
func Listen(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	l := cfg.Limits.withDefaults()
	s := &Server{ln: limitListener(ln, l.MaxConns, l.MaxConnsPerClient), log: cfg.Log}
	s.SetHandler(Handler(cfg))
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read, WriteTimeout: l.Write, IdleTimeout: l.Idle, MaxHeaderBytes: maxHeaderBytes}
	return s, nil
}

// limitListener accepts at most n connections at once (Accept waits for
// one to close) and at most perClient from one address (more are closed as
// they come).
func limitListener(ln net.Listener, n, perClient int) net.Listener {
	return &limited{Listener: ln, slots: make(chan struct{}, n), perClient: perClient, held: map[string]int{}}
}

type limited struct {
	net.Listener
	slots     chan struct{}
	perClient int
	mu        sync.Mutex
	held      map[string]int // open connections by client address
}

func (l *limited) Accept() (net.Conn, error) {
	for {
		l.slots <- struct{}{}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		client := c.RemoteAddr().String()
		if host, _, err := net.SplitHostPort(client); err == nil {
			client = host
		}
		l.mu.Lock()
		if l.held[client] >= l.perClient {
			l.mu.Unlock()
			c.Close() // this client holds its share: the slot goes to someone else
			<-l.slots
			continue
		}
		l.held[client]++
		l.mu.Unlock()
		return &slot{Conn: c, free: func() {
			l.mu.Lock()
			if l.held[client]--; l.held[client] == 0 {
				delete(l.held, client)
			}
			l.mu.Unlock()
			<-l.slots
		}}, nil
	}
}

// slot is a connection that gives its place back once, when closed.
type slot struct {
	net.Conn
	once sync.Once
	free func()
}

func (s *slot) Close() error {
	err := s.Conn.Close()
	s.once.Do(s.free)
	return err
}

// Handler routes klaxon's endpoints; Listen serves it.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	if cfg.Feeds != nil {
		mux.Handle("GET /oncall/", feedHandler(cfg.Feeds, cfg.Clock))
	}
	if cfg.Alerts != nil {
		mux.Handle("POST /alerts/{source}", alertHandler(cfg.Alerts, cfg.Sources, cfg.Clock, cfg.Log))
	}
	if cfg.Heartbeats != nil {
		mux.Handle("POST /heartbeat/{name}", heartbeatHandler(*cfg.Heartbeats, cfg.Log))
	}
	if cfg.Status != nil {
		statusRoutes(mux, *cfg.Status, cfg.Clock, cfg.Log)
	}
	if cfg.API != nil {
		apiRoutes(mux, *cfg.API, cfg.Clock, cfg.Log)
	}
	if cfg.Phone != nil {
		phoneRoutes(mux, *cfg.Phone)
	}
	if cfg.Console != nil {
		cfg.Console.Routes(mux)
	}
	if cfg.Metrics != nil {
		metrics := metricsHandler(cfg.Metrics, cfg.Log)
		if cfg.MetricsToken != "" {
			metrics = withBearer(cfg.MetricsToken, metrics)
		}
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ready\n"))
		if cfg.Role != nil {
			fmt.Fprintf(w, "role: %s\nstore: %s\n", cfg.Role(), cfg.Store)
		}
		if cfg.Warnings != nil {
			for _, warn := range cfg.Warnings() {
				fmt.Fprintf(w, "warning: %s\n", warn)
			}
		}
	})
	return secureHeaders(mux)
}

// secureHeaders sends on every answer what keeps a browser from reading
// it as something else or showing it where it was not meant to be:
// nosniff, no referrer to other sites, and, unless the handler sets its
// own (the status page's), a Content-Security-Policy that allows nothing
// and no framing.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", lockedDown)
		next.ServeHTTP(w, r)
	})
}

// lockedDown is the policy of answers that are not pages (JSON, text,
// feeds): nothing loads, nothing frames them.
const lockedDown = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

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

// withBearer serves h only to requests with the bearer token.
func withBearer(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := bearer(r); !ok || !equal(got, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
			http.Error(w, "missing or wrong credentials", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
