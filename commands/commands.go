// Package commands is what klaxon does: declaring and running incidents,
// recording the timeline, answering questions. It sees only the interfaces
// and types of package bot, never a platform SDK, bbolt or viper.
package commands

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
	"github.com/klaxon-bot/klaxon/commands/tickets"
	"github.com/klaxon-bot/klaxon/templates"
)

// Config is the incident policy, validated by the caller at start-up.
type Config struct {
	Severities     bot.Severities
	Roles          []bot.Role   // every role that may be assigned, commander first
	Services       bot.Services // empty: any service name is accepted
	People         bot.People
	ChannelPattern string                  // e.g. "inc-{number}-{slug}"
	Announce       map[bot.Platform]string // announcement channel per platform
	HighlightEmoji []string                // reactions that mark a key event
	// UpdateEvery reminds the commander to post an update this often, by
	// severity name; CommanderNag nags this long after a declaration that
	// has no commander. Zero turns either off.
	UpdateEvery  map[string]time.Duration
	CommanderNag time.Duration
	// Templates holds postmortem.md.tmpl; nil means klaxon's own.
	Templates fs.FS
	// RestrictLifecycle limits severity, role, resolve, reopen and close
	// to the incident's role holders and Admins (person ids or chat user
	// ids).
	RestrictLifecycle bool
	Admins            []string
	// CallURL is a meeting-link template ({channel}, {key}, {number}) for
	// the summary and the announcement; empty: none.
	CallURL string
	// Trackers says where follow-ups become tickets; empty: nowhere.
	Trackers tickets.Routes
	// ArchiveAfter archives an incident's channel this long after it is
	// closed; zero: never.
	ArchiveAfter time.Duration
	// Types are the incident types, each with its defaults and custom
	// fields; empty: incidents have no type.
	Types bot.IncidentTypes
	// Wake is told when a change committed jobs or timers; nil: a Wake of
	// the incidents' own, which their outbox listens to.
	Wake *bot.Wake
}

// DefaultChannelPattern names incident channels unless configured otherwise.
const DefaultChannelPattern = "inc-{number}-{slug}"

// Store is what the incident lifecycle reads and writes: incidents and
// their timelines, the outbox that carries out their changes, reminder
// timers, follow-ups and postmortem drafts.
type Store interface {
	bot.Store
	bot.JobStore
	bot.ReminderStore
	bot.FollowUpStore
	bot.TimelineReader
	bot.PostmortemStore
	// PagesForIncident lists an incident's pages: the postmortem counts
	// everyone paged among those who took part.
	PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*bot.Page, error)
}

// Incidents runs the incident commands.
type Incidents struct {
	store Store
	chats map[bot.Platform]bot.Chat
	clock bot.Clock
	log   zerolog.Logger
	cfg   Config

	followers    []bot.Follower // add what follows from each change (pages, hook events)
	slash        *slash         // the /incident commands
	interactions *Interactions  // forms, buttons, shortcuts, App Home and plain-language questions
	followUps    *FollowUps     // follow-ups and their reminders
	reports      *Reports       // postmortems, stats and timelines
	outbox       *outbox.Outbox // carries out the jobs changes commit
	templates    fs.FS
}

// New returns the incident use cases over store and the connected chats.
func New(store Store, chats []bot.Chat, clock bot.Clock, log zerolog.Logger, cfg Config) *Incidents {
	m := make(map[bot.Platform]bot.Chat, len(chats))
	for _, c := range chats {
		m[c.Platform()] = c
	}
	if cfg.ChannelPattern == "" {
		cfg.ChannelPattern = DefaultChannelPattern
	}
	if len(cfg.Severities) == 0 {
		cfg.Severities = bot.DefaultSeverities()
	}
	if len(cfg.Roles) == 0 {
		cfg.Roles = bot.DefaultRoles()
	}
	if cfg.Wake == nil {
		cfg.Wake = bot.NewWake()
	}
	tmpl := cfg.Templates
	if tmpl == nil {
		tmpl = templates.FS
	}
	c := &Incidents{store: store, chats: m, clock: clock, log: log, cfg: cfg, templates: tmpl}
	c.outbox = outbox.New(store, &chatJobs{c: c, store: store}, clock, log, cfg.Wake)
	c.slash = &slash{lc: c, store: store, clock: clock}
	c.interactions = &Interactions{lc: c, store: store, clock: clock, log: log}
	c.followUps = &FollowUps{lc: c, store: store, clock: clock, log: log}
	c.reports = &Reports{lc: c, store: store, clock: clock, log: log}
	if cfg.ArchiveAfter > 0 {
		c.Follow(archiving{after: cfg.ArchiveAfter})
	}
	return c
}

// slash are the /incident commands typed in chat: each reads its
// arguments and acts through the lifecycle.
type slash struct {
	lc    *Incidents
	store Store
	clock bot.Clock
}

// Interactions are the incident forms (declare, update, severity,
// resolve), the buttons and shortcuts that open them, the App Home and
// plain-language questions about incidents. They act through the
// lifecycle of Incidents.
type Interactions struct {
	lc    *Incidents
	store Store
	clock bot.Clock
	log   zerolog.Logger
}

// FollowUps are the follow-ups incidents leave behind: recorded with the
// incident, listed, closed, and reminded of when overdue.
type FollowUps struct {
	lc    *Incidents
	store Store
	clock bot.Clock
	log   zerolog.Logger
}

// Reports read what incidents recorded: the postmortem draft, the
// timeline and the stats.
type Reports struct {
	lc    *Incidents
	store Store
	clock bot.Clock
	log   zerolog.Logger
}

// FollowUps returns the follow-up use cases.
func (c *Incidents) FollowUps() *FollowUps { return c.followUps }

// Reports returns the reporting use cases.
func (c *Incidents) Reports() *Reports { return c.reports }

// Follow makes fs follow every change, in the order given.
func (c *Incidents) Follow(fs ...bot.Follower) { c.followers = append(c.followers, fs...) }

// follow runs the followers for ch in tx.
func (c *Incidents) follow(tx bot.Tx, ch bot.Change) error {
	for _, f := range c.followers {
		if err := f.Follow(tx, ch); err != nil {
			return err
		}
	}
	return nil
}

// job is a chat job about inc, due now.
func (c *Incidents) job(inc *bot.Incident, op bot.JobOp) bot.Job {
	return bot.IncidentJob(inc, op, c.clock.Now())
}

// SummaryFields are the fields the incident's live summary shows
// besides its own (who was paged and how it went, the on-call groups), as
// its followers give them.
func (c *Incidents) SummaryFields(ctx context.Context, inc *bot.Incident) []bot.Field {
	var out []bot.Field
	for _, f := range c.followers {
		if s, ok := f.(bot.Summarizer); ok {
			out = append(out, s.SummaryFields(ctx, inc)...)
		}
	}
	return out
}

// Wake returns what the incidents tell when a change committed jobs or
// timers (Config.Wake, or their own).
func (c *Incidents) Wake() *bot.Wake { return c.cfg.Wake }

// Outbox returns the outbox that carries out this store's jobs.
func (c *Incidents) Outbox() *outbox.Outbox { return c.outbox }

// UseOutbox makes c work with o, the outbox that runs, instead of the one
// it was built with: o adopts what c's outbox handles (its chat jobs and
// every sender handed to it). A configuration reload calls it once the
// new use cases are built, before they take requests.
func (c *Incidents) UseOutbox(o *outbox.Outbox) {
	o.Adopt(c.outbox)
	c.outbox = o
}

// committed tells the outbox and the scheduler that a change was
// committed: a job or a timer (a page's first step) may be due now.
func (c *Incidents) committed() { c.cfg.Wake.Committed() }

// typeParams are declare's type: option and one option per custom field
// (Discord's slash command offers each), when types are configured.
func (cfg *Config) typeParams() []bot.Param {
	if len(cfg.Types) == 0 {
		return nil
	}
	ids := cfg.Types.IDs()
	out := []bot.Param{{Name: "type", Desc: "The incident type: " + strings.Join(ids, ", "), Key: "type", Usage: "[type:<" + strings.Join(ids, "|") + ">]"}}
	for _, f := range cfg.Types.Fields() {
		p := bot.Param{Name: f.ID, Desc: f.Label + " (" + f.Type.ID + ")", Key: f.ID, Usage: "[" + f.ID + ":…]"}
		if f.Kind == bot.CustomUser {
			p.Kind, p.Usage = bot.ParamUser, "["+f.ID+":@person]"
		}
		out = append(out, p)
	}
	return out
}

// chat returns the chat of platform p, or an error users can read.
func (c *Incidents) chat(p bot.Platform) (bot.Chat, error) {
	if ch, ok := c.chats[p]; ok {
		return ch, nil
	}
	return nil, bot.Errorf(bot.EUNSUPPORTED, "klaxon is not connected to %s right now.", p)
}

// Register adds the /incident commands to m, with those of its parts
// (interactions, follow-ups, reports), and routes channel activity to the
// timeline.
func (c *Incidents) Register(m *bot.Mux) {
	m.Register(
		bot.Command{Name: "incident declare", Params: append([]bot.Param{
			{Name: "title", Desc: "What is broken, in a few words (none: open a form)", Usage: "<title>"},
			{Name: "severity", Desc: "How bad", Kind: bot.ParamSeverity, Key: "sev", Usage: "[sev:<level>]"},
			{Name: "service", Desc: "What is affected", Kind: bot.ParamService, Key: "service", Usage: "[service:<name>]"},
			{Name: "commander", Desc: "Who leads (default: you)", Kind: bot.ParamUser, Key: "commander", Usage: "[commander:@person]"},
			{Name: "summary", Desc: "Who is affected and how", Key: "summary", Usage: `[summary:"…"]`},
			{Name: "private", Desc: "Private channel, no announcement", Kind: bot.ParamFlag, Flag: "private"},
		}, c.cfg.typeParams()...),
			Summary: "Declare an incident: new channel, pinned summary, announcement.",
			Help:    "Severity defaults to the lowest level (" + c.cfg.Severities.Default().Name + "); you are the commander unless you name one. Private incidents get a private channel and no announcement.",
			Handler: c.slash.handleDeclare},
		bot.Command{Name: "incident update", Params: []bot.Param{bot.IncidentParam,
			{Name: "public", Desc: "Also show it on the status page", Kind: bot.ParamFlag, Flag: "--public"},
			{Name: "text", Desc: "The update", Required: true}}, Summary: "Post a status update; it shows in the pinned summary, and with --public on the status page.", Handler: c.slash.handleUpdate},
		bot.Command{Name: "incident sev", Params: []bot.Param{bot.IncidentParam, {Name: "level", Desc: "The new severity", Kind: bot.ParamSeverity, Required: true}}, Summary: "Change the severity (levels: " + c.cfg.Severities.Names() + ").", Handler: c.slash.handleSeverity},
		bot.Command{Name: "incident role", Params: []bot.Param{bot.IncidentParam,
			{Name: "role", Desc: "commander, comms, scribe, …", Required: true},
			{Name: "person", Desc: "Who", Kind: bot.ParamUser, Required: true}}, Summary: "Give someone a role (" + roleNames(c.cfg.Roles) + ").", Handler: c.slash.handleRole},
		bot.Command{Name: "incident ack", Params: []bot.Param{bot.IncidentParam}, Summary: "Acknowledge: you are on it (stops paging).", Handler: c.slash.handleAck},
		bot.Command{Name: "incident mitigate", Params: []bot.Param{bot.IncidentParam}, Summary: "Mark the impact as stopped.", Handler: c.slash.simple(mitigateChange())},
		bot.Command{Name: "incident resolve", Params: []bot.Param{bot.IncidentParam, {Name: "summary", Desc: "What fixed it"}}, Summary: "Resolve the incident, with an optional closing summary.", Handler: c.slash.handleResolve},
		bot.Command{Name: "incident reopen", Params: []bot.Param{bot.IncidentParam, {Name: "reason", Desc: "Why it is back"}}, Summary: "Reopen a resolved incident: it is not acknowledged, and its on-call is paged again.", Handler: c.slash.handleReopen},
		bot.Command{Name: "incident close", Params: []bot.Param{bot.IncidentParam}, Summary: "Close a resolved incident for good.", Handler: c.slash.simple(closeChange())},
		bot.Command{Name: "incident note", Params: []bot.Param{bot.IncidentParam, {Name: "text", Desc: "The note", Required: true}}, Summary: "Add a key event to the timeline.", Handler: c.slash.handleNote},
		bot.Command{Name: "incident status", Params: []bot.Param{bot.IncidentParam}, Summary: "Show the incident's summary.", Handler: c.slash.handleStatus},
		bot.Command{Name: "incident list", Params: []bot.Param{{Name: "all", Desc: "The latest 25 of any status", Kind: bot.ParamFlag, Flag: "all"}}, Summary: "List open incidents (all: the latest 25 of any status).", Handler: c.slash.handleList},
	)
	m.Register(c.reports.commands()...)
	m.Register(bot.Command{Name: "incident help", Params: []bot.Param{{Name: "command", Desc: "A command to explain"}}, Summary: "Show the commands, or help for one.", Handler: m.Help("incident")})
	m.Describe("incident", "Declare and run incidents")
	m.HandleActivity(c.Record)
	c.interactions.register(m)
	c.followUps.register(m)
}

func roleNames(roles []bot.Role) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			s += ", "
		}
		s += string(r)
	}
	return s
}

// isNotFound reports whether err is a not-found error.
func isNotFound(err error) bool {
	var e *bot.Error
	return errors.As(err, &e) && e.Code == bot.ENOTFOUND
}
