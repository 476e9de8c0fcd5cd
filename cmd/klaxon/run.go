package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// Logger builds the process logger: JSON lines, or human-readable text on a
// terminal.
func (m *Main) Logger(cfg *Config) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Log.Level)
	// Several goroutines log; the writer may not be safe for that.
	out := zerolog.SyncWriter(m.Stderr)
	if cfg.Log.Format == "pretty" || (cfg.Log.Format == "auto" && m.LogIsTTY) {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05"}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// Run runs klaxon until ctx is cancelled or, in console mode, input ends.
// It returns only after in-flight work is finished and the store is closed.
func (m *Main) Run(ctx context.Context, cfg *Config, source string) error {
	log := m.Logger(cfg)
	s, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := s.Close(); err != nil {
			log.Error().Err(err).Msg("closing the store")
		}
	}()
	a := newApp(m, cfg, log, s)
	a.load = m.reread
	a.warnings = configWarnings(cfg, source)
	for _, w := range a.warnings {
		log.Warn().Msg(w)
	}
	if err := a.init(ctx); err != nil {
		return err
	}
	log.Info().Str("version", version).Str("config", source).Str("mode", cfg.Mode()).Str("store", cfg.storeName()).Msg("klaxon started")
	defer log.Info().Msg("klaxon stopped")
	return runAll(ctx, append(a.serve, a.reloadOnHangup))
}

// warnings lists what the configuration's warnings, the last failed
// reload and the chats' start-up checks found, for /readyz.
func warnings(config []string, chats []bot.Chat, reload *atomic.Value) func() []string {
	return func() []string {
		out := slices.Clone(config)
		if w, _ := reload.Load().(string); w != "" {
			out = append(out, w)
		}
		for _, c := range chats {
			if sc, ok := c.(bot.SelfChecker); ok {
				out = append(out, sc.Problems()...)
			}
		}
		return out
	}
}

// outboxEvery is how often the chat outbox looks for due jobs besides
// being poked: a job told to wait a moment (post pacing, Retry-After) runs
// about this soon after its time.
const outboxEvery = 100 * time.Millisecond

// ready is /readyz: the store takes writes and every chat is connected
// (on a standby, Discord's gateway is the leader's).
func ready(s store.Backend, chats []bot.Chat, role *atomic.Value) func() error {
	return func() error {
		if err := s.Ready(); err != nil {
			return err
		}
		for _, c := range chats {
			if leaderOnly(c.Platform()) && role.Load() != roleLeader {
				continue
			}
			if cc, ok := c.(interface{ Connected() bool }); ok && !cc.Connected() {
				return fmt.Errorf("%s is not connected", c.Platform())
			}
		}
		return nil
	}
}

// runAll runs every platform until ctx ends or one of them stops, then
// stops the others and waits for them. The first error wins.
func runAll(ctx context.Context, serve []func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(serve))
	for _, fn := range serve {
		go func() { errs <- fn(ctx) }()
	}
	var first error
	for range serve {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
		cancel() // one platform stopping (console input ended, a fatal error) stops klaxon
	}
	return first
}

// consoleUser is who types in console mode: console.user, else $USER, else
// "operator".
func (m *Main) consoleUser(cfg *Config) string {
	if cfg.Console.User != "" {
		return cfg.Console.User
	}
	if u := strings.ToLower(m.Getenv("USER")); u != "" {
		if _, ok := bot.ParseMention("@" + u); ok {
			return u
		}
	}
	return "operator"
}
