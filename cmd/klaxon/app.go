package main

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/heartbeats"
	"github.com/klaxon-bot/klaxon/commands/hooks"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/outbox"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/commands/reach"
	"github.com/klaxon-bot/klaxon/commands/subscribe"
	"github.com/klaxon-bot/klaxon/commands/tickets"
	"github.com/klaxon-bot/klaxon/store"
)

// app is klaxon wired: the parts Run builds from the configuration, one
// init step each, and what it then runs.
type app struct {
	m     *Main
	cfg   *Config
	log   zerolog.Logger
	clock bot.Clock
	store store.Backend
	mux   *bot.Mux
	// wake tells the outbox and the scheduler that work is due now: every
	// use case that commits jobs or timers, and on replicas another
	// replica's commit, calls it.
	wake   *bot.Wake
	role   *atomic.Value // roleLeader or roleStandby
	policy commands.Config
	// warnings are what the configuration should change (configWarnings).
	warnings []string

	chats      []bot.Chat
	incidents  *commands.Incidents
	outbox     *outbox.Outbox
	oncall     *oncall.OnCall
	paging     *paging.Paging
	reach      *reach.Reach
	subs       *subscribe.Subscriptions // nil unless status.subscriptions
	pagingCfg  paging.Config
	alerts     *alerts.Alerts
	sources    map[string]web.Source
	heartbeats *heartbeats.Heartbeats
	beatTokens map[string]string
	hookCfg    []hooks.Config
	trackers   map[string]bot.Tracker
	tickets    *tickets.Tickets // nil without trackers

	// What a configuration reload keeps: the mux the chats route to (its
	// tables are replaced), the HTTP server (its handler is replaced), and
	// the app that runs now, which the long-running loops read.
	routes     *bot.Mux
	httpd      *web.Server
	live       *atomic.Pointer[app]
	reloading  *sync.Mutex    // one swap at a time; never held while building
	reloads    *atomic.Uint64 // counts configuration reads, so the newest one wins
	read       uint64         // which read this app was built from (0: start-up)
	reloadWarn *atomic.Value  // string: why the last reload changed nothing
	// load re-reads the configuration as start-up read it.
	load func() (*Config, string, error)

	// serve is what every replica runs; leaderWork what only the leader
	// runs (one replica of several on PostgreSQL; always, on bbolt): the
	// scheduler, the outbox, housekeeping, and Discord's gateway, which
	// would deliver each event to every session. Every replica serves
	// HTTP and holds a Slack Socket Mode connection (Slack spreads
	// envelopes over them).
	serve, leaderWork []func(ctx context.Context) error
}

func newApp(m *Main, cfg *Config, log zerolog.Logger, s store.Backend) *app {
	a := &app{m: m, cfg: cfg, log: log, clock: bot.SystemClock{}, store: s, mux: bot.NewMux(log), wake: bot.NewWake(), role: &atomic.Value{},
		live: &atomic.Pointer[app]{}, reloading: &sync.Mutex{}, reloads: &atomic.Uint64{}, reloadWarn: &atomic.Value{}}
	a.routes = a.mux
	a.live.Store(a)
	a.reloadWarn.Store("")
	if m.Clock != nil {
		a.clock = m.Clock
	}
	a.role.Store(roleLeader) // on bbolt, the only replica; on PostgreSQL, lead decides
	a.policy = cfg.commandsConfig()
	a.policy.Wake = a.wake
	return a
}

// init builds every part, in the order they need each other.
func (a *app) init(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		a.initChats, a.initIncidents, a.initOnCall, a.initPaging, a.initSubscriptions, a.initAlerts, a.initHooks,
		a.initTickets, a.initScheduler, a.initHTTP, a.initCommands, a.initPeriodic, a.initLeader,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// reloadable are the steps a configuration reload runs again, over the
// chats, store and outbox that keep running.
func (a *app) reloadable(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		a.initIncidents, a.initOnCall, a.initPaging, a.initSubscriptions, a.initAlerts, a.initHooks, a.initTickets, a.initCommands,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// initChats connects the console (when no platform is configured) or the
// configured platforms.
func (a *app) initChats(context.Context) error {
	cfg := a.cfg
	if cfg.Mode() == "console" {
		channels := []string{cfg.Console.Channel, cfg.Console.AnnounceChannel}
		for _, t := range cfg.Incidents.Types {
			if t.Announce.Console != "" {
				channels = append(channels, t.Announce.Console) // incident types' announcement channels
			}
		}
		con := console.New(a.m.Stdout, channels...)
		con.SaveFilesIn(filepath.Join(filepath.Dir(cfg.Store.Path), "files")) // postmortem drafts, next to the store
		a.chats = append(a.chats, con)
		session := &console.Session{Console: con, Mux: a.mux, Clock: a.clock, User: a.m.consoleUser(cfg),
			Channel: cfg.Console.Channel, Interactive: a.m.Interactive}
		// Each line's effects in chat show before the next prompt.
		session.Settle = func(ctx context.Context) { a.outbox.Drain(ctx) }
		a.serve = append(a.serve, func(ctx context.Context) error { return session.Run(ctx, a.m.Stdin) })
	}
	platforms, err := cfg.platforms(a.log, a.clock, a.policy)
	if err != nil {
		return err
	}
	for _, p := range platforms {
		a.chats = append(a.chats, p)
		run := func(ctx context.Context) error { return p.Run(ctx, a.mux) }
		if leaderOnly(p.Platform()) {
			a.leaderWork = append(a.leaderWork, run)
		} else {
			a.serve = append(a.serve, run)
		}
	}
	return nil
}

// initIncidents builds the incident lifecycle and the outbox that carries
// out what its changes commit.
func (a *app) initIncidents(context.Context) error {
	a.incidents = commands.New(a.store, a.chats, a.clock, a.log, a.policy)
	a.outbox = a.incidents.Outbox()
	return nil
}

// initOnCall builds the schedules; the outbox keeps on-call chat groups.
func (a *app) initOnCall(ctx context.Context) error {
	cfg := a.cfg
	oc, err := oncall.New(ctx, a.store, a.clock, a.log, oncall.Config{Schedules: cfg.schedules(), People: a.policy.People,
		FeedTokens: cfg.feedTokens(), Handoffs: cfg.handoffs(), Chats: a.chats, Groups: cfg.groups(), Wake: a.wake,
		Admins: a.policy.Admins, Owners: cfg.owners(), MaxOverride: cfg.OnCall.MaxOverride})
	if err != nil {
		return err
	}
	a.oncall = oc
	a.outbox.Handle(bot.OpSetGroup, oncall.GroupSender(oc))
	return nil
}

// initPaging makes paging follow every change; the outbox sends its pages.
func (a *app) initPaging(context.Context) error {
	a.pagingCfg = a.cfg.pagingConfig(a.chats, a.policy.People)
	a.pagingCfg.Wake = a.wake // a page triggered or acknowledged goes out at once, not at the next tick
	a.paging = paging.New(a.store, a.incidents, a.oncall, a.clock, a.log, a.pagingCfg)
	a.incidents.Follow(a.paging)
	a.outbox.Handle(bot.OpPage, a.paging)
	a.reach = reach.New(a.store, a.clock, a.log, reach.Config{People: a.policy.People, Senders: a.pagingCfg.Notifiers,
		DefaultRules: a.pagingCfg.DefaultRules, Wake: a.wake})
	a.outbox.Handle(bot.OpNotify, a.reach)
	return nil
}

// initAlerts builds the alert intake and the heartbeats that feed it.
func (a *app) initAlerts(ctx context.Context) error {
	alertsCfg, sources, err := a.cfg.alertsConfig()
	if err != nil {
		return err
	}
	a.alerts, a.sources = alerts.New(a.store, a.incidents, a.clock, a.log, alertsCfg), sources
	for name, src := range sources {
		if src.Open() {
			a.log.Warn().Str("source", name).Msg("alert source takes alerts without credentials (loopback listener only)")
		}
	}
	beats, tokens, err := a.cfg.heartbeats()
	if err != nil {
		return err
	}
	a.heartbeats, a.beatTokens = heartbeats.New(a.store, a.alerts, a.clock, a.log, beats), tokens
	return a.heartbeats.Start(ctx)
}

// initHooks makes outgoing hooks follow every change, when configured.
func (a *app) initHooks(context.Context) error {
	var err error
	if a.hookCfg, err = a.cfg.hooks(bot.OutboundClient(10 * time.Second)); err != nil {
		return err
	}
	if h := hooks.New(a.clock, a.log, a.hookCfg); h != nil {
		a.incidents.Follow(h)
		a.outbox.Handle(bot.OpHook, h)
	}
	return nil
}

// initTickets sends follow-ups to their trackers and syncs them back,
// when trackers are configured.
func (a *app) initTickets(context.Context) error {
	var err error
	if a.trackers, err = a.cfg.trackers(bot.OutboundClient(20 * time.Second)); err != nil {
		return err
	}
	tk := tickets.New(a.store, a.clock, a.log, a.trackers, a.policy.Trackers, a.wake)
	if tk == nil {
		return nil
	}
	a.tickets = tk
	a.outbox.Handle(bot.OpTicket, tk)
	a.outbox.Handle(bot.OpTicketState, tk)
	return nil
}

// initScheduler runs the outbox and the scheduler tick (escalations,
// reminders, handoffs, heartbeats) on the leader.
func (a *app) initScheduler(context.Context) error {
	every := a.m.TickEvery
	if every <= 0 {
		every = time.Second
	}
	// The outbox runs on its own, pages first, so a slow or absent chat
	// platform never delays paging, reminders or hooks.
	// The loops read the app that runs now (a reload replaces it).
	a.leaderWork = append(a.leaderWork,
		func(ctx context.Context) error { return a.outbox.Run(ctx, outboxEvery) },
		func(ctx context.Context) error {
			bot.Every(ctx, a.clock, every, a.wake.TimersDue(), func(ctx context.Context, now time.Time) {
				cur := a.live.Load()
				cur.oncall.Tick(ctx, now)
				cur.paging.Tick(ctx, now)
				cur.incidents.Tick(ctx, now)
				cur.heartbeats.Tick(ctx, now)
			})
			return nil
		},
		// Tickets closed or reopened in their tracker close or reopen their
		// follow-ups.
		func(ctx context.Context) error {
			return syncTickets(ctx, a.clock, a.cfg.FollowUps.SyncEvery, func() *tickets.Tickets { return a.live.Load().tickets })
		})
	return nil
}

// initHTTP listens for alerts, heartbeats, feeds, the status page, the
// JSON API and the operations endpoints.
func (a *app) initHTTP(context.Context) error {
	wc, err := a.webConfig()
	if err != nil {
		return err
	}
	if a.httpd, err = web.Listen(wc); err != nil {
		return err
	}
	a.serve = append(a.serve, a.httpd.Serve)
	return nil
}

// webConfig is what the HTTP server serves from this app's parts.
func (a *app) webConfig() (web.Config, error) {
	cfg, s := a.cfg, a.store
	ui, err := a.webUI()
	if err != nil {
		return web.Config{}, err
	}
	var console interface{ Routes(*http.ServeMux) }
	if ui != nil {
		console = ui
		a.incidents.Follow(ui.Follower()) // open pages update as incidents change
	}
	status := &web.Status{Title: cfg.Status.Title, PublicURL: cfg.Status.PublicURL, Page: statusPage(s, a.policy, a.clock), Reuse: 5 * time.Second,
		FrameAncestors: cfg.Status.FrameAncestors, TrustedProxies: cfg.trustedProxies()}
	if a.subs != nil {
		status.Subscriptions = a.subs
	}
	return web.Config{Addr: cfg.HTTP.Listen, Limits: web.Limits{MaxConnsPerClient: cfg.HTTP.MaxConnsPerClient}, Feeds: oncall.CalendarFeeds(a.oncall), Alerts: a.alerts, Sources: a.sources,
		Clock: a.clock, Log: a.log, Ready: ready(s, a.chats, a.role), Warnings: warnings(a.warnings, a.chats, a.reloadWarn),
		Role: func() string { return a.role.Load().(string) }, Store: cfg.Store.Driver,
		Metrics:      snapshotter(s, a.chats, destinations(a.chats, a.pagingCfg, a.hookCfg, a.trackers, a.subs != nil), a.clock, a.alerts.Storms),
		MetricsToken: cfg.HTTP.MetricsToken.Reveal(),
		Heartbeats:   &web.Heartbeats{Pinger: a.heartbeats, Tokens: a.beatTokens},
		Status:       status,
		API: &web.API{Records: s, OnCall: func(t time.Time) any { return a.oncall.Now(t) }, Insights: insightsSource{a}.public,
			Tokens: cfg.apiTokens(), Writes: apiWrites{a}, Idempotency: s, Reload: a.reloadFromAPI},
		Phone: a.phone(), Console: console}, nil
}

// phone is the set-up of acknowledgements from phones, or nil when
// klaxon has no public URL to be reached at or sends nothing itself.
func (a *app) phone() *web.Phone {
	links := a.cfg.links()
	if links == nil || len(a.pagingCfg.Notifiers) == 0 {
		return nil
	}
	return &web.Phone{Acks: paging.NewPhone(a.paging), PublicURL: a.cfg.publicURL(), TwilioAuthToken: a.cfg.Notifications.Twilio.AuthToken.Reveal(),
		Links: links, Clock: a.clock, Log: a.log}
}

// initCommands registers the chat commands, on-call first: its question
// handler answers on-call questions only.
func (a *app) initCommands(context.Context) error {
	a.oncall.Register(a.mux)
	a.incidents.Register(a.mux)
	a.paging.Register(a.mux)
	a.reach.Register(a.mux)
	return nil
}

// initPeriodic schedules the daily and hourly housekeeping on the leader.
func (a *app) initPeriodic(context.Context) error {
	periodic, err := periodicJobs(a.store, a.cfg, a.log, a.clock, func() *commands.Incidents { return a.live.Load().incidents })
	if err != nil {
		return err
	}
	a.leaderWork = append(a.leaderWork, periodic...)
	return nil
}

// initLeader runs the leader's work: under a lease on PostgreSQL (woken
// by other replicas' commits), always on bbolt.
func (a *app) initLeader(context.Context) error {
	if l, ok := a.store.(interface {
		Listen(ctx context.Context, fn func()) error
	}); ok {
		// A page or job another replica commits wakes the leader at once.
		a.leaderWork = append(a.leaderWork, func(ctx context.Context) error { return l.Listen(ctx, a.wake.Committed) })
	}
	if l := leaseOf(a.store, a.cfg); l != nil {
		a.serve = append(a.serve, func(ctx context.Context) error {
			return lead(ctx, l, a.log, a.role, func(ctx context.Context) error { return runAll(ctx, a.leaderWork) })
		})
		return nil
	}
	a.serve = append(a.serve, a.leaderWork...)
	return nil
}
