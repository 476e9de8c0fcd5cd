package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"syscall"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

// reload re-reads the configuration and, if it is valid and its parts
// build, swaps them in while the chats, the store, the HTTP listener and
// the outbox keep running: the chats' mux and the HTTP server get the new
// routes, the outbox the new senders, the loops the new app. Pages in
// flight keep the policy they started with (each page holds a copy).
// On any error nothing changes, and the admins are told why.
func (a *app) reload(ctx context.Context) (web.ReloadResult, error) {
	// Building may reach the network (the identity provider's discovery):
	// it holds no lock; only the swap does.
	n, wc, err := a.live.Load().build(ctx)
	if err != nil {
		a.live.Load().reloadFailed(ctx, err)
		return web.ReloadResult{}, err
	}
	a.reloading.Lock()
	defer a.reloading.Unlock()
	if cur := a.live.Load(); cur.read > n.read {
		// Two reloads built at once, and the one that read the file later
		// swapped in first: this older read must not undo it.
		a.log.Info().Msg("configuration reload superseded by a later one")
		return web.ReloadResult{Notes: []string{"a reload that read the configuration later ran meanwhile; this one changed nothing"}}, nil
	}
	res := a.live.Load().swapIn(n, wc)
	a.log.Info().Strs("restart", res.Restart).Strs("notes", res.Notes).Msg("configuration reloaded")
	return res, nil
}

// build reads the configuration again and builds its parts over cur's
// chats, store, listener and outbox, changing nothing that runs.
func (cur *app) build(ctx context.Context) (*app, web.Config, error) {
	if cur.load == nil {
		return nil, web.Config{}, errors.New("this klaxon was not started from a configuration it can read again")
	}
	read := cur.reloads.Add(1)
	cfg, source, err := cur.load()
	if err != nil {
		return nil, web.Config{}, err
	}
	n := &app{m: cur.m, cfg: cfg, log: cur.log, clock: cur.clock, store: cur.store, mux: bot.NewMux(cur.log), wake: cur.wake, role: cur.role,
		chats: cur.chats, routes: cur.routes, httpd: cur.httpd, live: cur.live, reloading: cur.reloading, reloads: cur.reloads, read: read, reloadWarn: cur.reloadWarn, load: cur.load}
	n.policy = cfg.commandsConfig()
	n.policy.Wake = cur.wake
	n.warnings = configWarnings(cfg, source)
	if err := n.reloadable(ctx); err != nil {
		return nil, web.Config{}, err
	}
	wc, err := n.webConfig()
	if err != nil {
		return nil, web.Config{}, err
	}
	return n, wc, nil
}

// swapIn makes n, built by build, the app that runs instead of cur, and
// says what the change leaves for a restart. Nothing in it fails.
func (cur *app) swapIn(n *app, wc web.Config) web.ReloadResult {
	n.incidents.UseOutbox(cur.outbox)
	n.outbox = cur.outbox
	cur.routes.Replace(n.mux)
	cur.httpd.SetHandler(web.Handler(wc))
	cur.live.Store(n)
	cur.reloadWarn.Store("")
	res := web.ReloadResult{Restart: restartOnly(cur.cfg, n.cfg), Notes: n.oncall.Stranded(cur.clock.Now())}
	if n.cfg.Discord.Token != "" && (!reflect.DeepEqual(cur.cfg.Services, n.cfg.Services) || !reflect.DeepEqual(cur.cfg.Schedules, n.cfg.Schedules) ||
		!reflect.DeepEqual(cur.policy.Severities, n.policy.Severities)) {
		res.Notes = append(res.Notes, "Discord's slash command choices and autocomplete (severities, services, schedules) are registered at start-up: they change at the next restart")
	}
	return res
}

// restartOnly names the settings that changed between old and new but
// take effect only at the next start: what the running connections,
// listener and store were opened with.
func restartOnly(old, new *Config) []string {
	// Announcement channels of Slack and Discord apply at once; the
	// console's channels are made at start-up.
	wasSlack, nowSlack, wasDiscord, nowDiscord := old.Slack, new.Slack, old.Discord, new.Discord
	wasSlack.AnnounceChannel, nowSlack.AnnounceChannel, wasDiscord.AnnounceChannel, nowDiscord.AnnounceChannel = "", "", "", ""
	var out []string
	for _, c := range []struct {
		key      string
		was, now any
	}{
		{"http.listen", old.HTTP.Listen, new.HTTP.Listen},
		{"http.max_conns_per_client", old.HTTP.MaxConnsPerClient, new.HTTP.MaxConnsPerClient},
		{"store", old.Store, new.Store},
		{"slack", wasSlack, nowSlack},
		{"discord", wasDiscord, nowDiscord},
		{"console", old.Console, new.Console},
		{"log", old.Log, new.Log},
	} {
		if !reflect.DeepEqual(c.was, c.now) {
			out = append(out, c.key)
		}
	}
	return out
}

// reloadFailed says why a reload changed nothing: in the log, as a
// /readyz warning until a reload succeeds, and to each admin by DM.
func (cur *app) reloadFailed(ctx context.Context, err error) {
	now := cur.clock.Now()
	msg := fmt.Sprintf("the configuration reload at %s failed and changed nothing; klaxon runs on the configuration it had: %v. Fix the file, then reload again (SIGHUP or klaxon reload).", now.UTC().Format("2006-01-02 15:04 UTC"), err)
	cur.log.Error().Err(err).Msg("configuration reload failed; nothing changed")
	cur.reloadWarn.Store(msg)
	var jobs []bot.Job
	for _, id := range cur.cfg.Incidents.Admins {
		p, ok := cur.policy.People.Get(id)
		if !ok {
			continue
		}
		for _, c := range cur.chats {
			user := p.UserID(c.Platform())
			if user == "" {
				continue
			}
			j := bot.ChatJob(c.Platform(), "dm:"+user, bot.OpDM, now)
			j.Users = []string{user}
			j.Message = bot.Message{Text: "⚠️ " + msg}
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return
	}
	if err := cur.store.Update(context.WithoutCancel(ctx), func(tx bot.Tx) error { return tx.Enqueue(jobs...) }); err != nil {
		cur.log.Error().Err(err).Msg("telling the admins of the failed reload")
		return
	}
	cur.wake.Jobs()
}

// reloadFromAPI is POST /-/reload: a configuration error is the caller's
// (400, naming the key).
func (a *app) reloadFromAPI(ctx context.Context) (web.ReloadResult, error) {
	res, err := a.reload(ctx)
	var ce *ConfigError
	if errors.As(err, &ce) {
		e := bot.Errorf(bot.EINVALID, "The new configuration is wrong, so nothing changed: %s: %s", ce.Key, ce.Reason)
		e.Field = ce.Key
		return res, e
	}
	if err != nil {
		return res, bot.Internal(err, "The reload failed, so nothing changed: "+err.Error())
	}
	return res, nil
}

// reloadOnHangup reloads on SIGHUP until ctx ends, as Prometheus does.
func (a *app) reloadOnHangup(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			start := time.Now()
			if res, err := a.reload(ctx); err == nil {
				a.log.Info().Dur("took", time.Since(start)).Strs("restart", slices.Clip(res.Restart)).Msg("reloaded on SIGHUP")
			}
		}
	}
}
