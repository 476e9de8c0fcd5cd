// Package commandstest is the one harness the use-case tests share:
// klaxon's use cases wired as cmd/klaxon wires them, over a real bbolt
// store in a temporary directory, the console as chat and a fake clock.
// Options say which parts a test needs and how they are configured.
package commandstest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/outbox"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// Start is the harness's default time: Tuesday 2026-11-17 10:00 UTC.
var Start = time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)

// Night is when the incident tests start: Saturday 2026-11-21 03:00 UTC.
var Night = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

// Env is one wired klaxon. OnCall and Paging are nil unless asked for.
type Env struct {
	T         testing.TB
	Store     *bolt.Store
	Clock     *bot.FakeClock
	Console   *console.Console
	Chat      bot.Chat      // what the use cases talk to: the console, or a wrapper of it
	Out       *bytes.Buffer // everything the console printed
	Mux       *bot.Mux
	Wake      *bot.Wake
	Incidents *commands.Incidents
	Outbox    *outbox.Outbox
	OnCall    *oncall.OnCall
	Paging    *paging.Paging
}

// options are what Option changes.
type options struct {
	path      string
	start     time.Time
	channels  []string
	check     bool
	chat      func(bot.Chat) bot.Chat
	incidents []func(*commands.Config)
	oncall    *oncall.Config
	paging    []func(*paging.Config)
	withPage  bool
	poll      time.Duration
	alone     bool
}

// Option configures New.
type Option func(*options)

// At opens the store at path (to reopen it, as after a restart); default:
// a fresh file in the test's temporary directory.
func At(path string) Option { return func(o *options) { o.path = path } }

// StartAt sets the fake clock's start; default Start.
func StartAt(t time.Time) Option { return func(o *options) { o.start = t } }

// Channels are the console's channels besides the incidents' own;
// default "general" and "incidents".
func Channels(names ...string) Option { return func(o *options) { o.channels = names } }

// Checked runs the store's consistency check when the test ends.
func Checked() Option { return func(o *options) { o.check = true } }

// WrapChat puts wrap between the use cases and the console.
func WrapChat(wrap func(bot.Chat) bot.Chat) Option { return func(o *options) { o.chat = wrap } }

// Incidents changes the incident policy.
func Incidents(fn func(*commands.Config)) Option {
	return func(o *options) { o.incidents = append(o.incidents, fn) }
}

// Announced announces incidents in the console's #incidents and makes 📌
// mark a key event, as the example configuration does.
func Announced() Option {
	return Incidents(func(c *commands.Config) {
		c.Announce = map[bot.Platform]string{bot.PlatformConsole: "incidents"}
		c.HighlightEmoji = []string{"📌"}
	})
}

// Services adds services of these ids to the catalogue.
func Services(ids ...string) Option {
	return Incidents(func(c *commands.Config) {
		for _, id := range ids {
			c.Services = append(c.Services, bot.Service{ID: id, Name: id})
		}
	})
}

// OnCall adds the on-call use cases with cfg; its people become the
// incidents' people too, unless Incidents sets them.
func OnCall(cfg oncall.Config) Option { return func(o *options) { o.oncall = &cfg } }

// Paging adds paging (over OnCall, if given), following the incidents and
// sending through the outbox; fns change its configuration.
func Paging(fns ...func(*paging.Config)) Option {
	return func(o *options) { o.withPage, o.paging = true, append(o.paging, fns...) }
}

// OnCallAlone puts only the on-call commands and questions on the mux,
// to test them without the incidents' (which answer other questions).
func OnCallAlone() Option { return func(o *options) { o.alone = true } }

// PollEvery runs the outbox in the background, looking for due jobs this
// often besides being woken; default a millisecond. Zero: the test drains
// it itself.
func PollEvery(d time.Duration) Option { return func(o *options) { o.poll = d } }

// New wires klaxon for t.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{start: Start, channels: []string{"general", "incidents"}, poll: time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	if o.path == "" {
		o.path = filepath.Join(t.TempDir(), "klaxon.db")
	}
	s, err := bolt.Open(o.path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Store: s, Clock: bot.NewFakeClock(o.start), Out: &bytes.Buffer{}, Mux: bot.NewMux(zerolog.Nop()), Wake: bot.NewWake()}
	e.Console = console.New(e.Out, o.channels...)
	e.Chat = e.Console
	if o.chat != nil {
		e.Chat = o.chat(e.Chat)
	}
	cfg := commands.Config{Wake: e.Wake}
	if o.oncall != nil {
		cfg.People = o.oncall.People
	}
	for _, fn := range o.incidents {
		fn(&cfg)
	}
	e.Incidents = commands.New(s, []bot.Chat{e.Chat}, e.Clock, zerolog.Nop(), cfg)
	e.Outbox = e.Incidents.Outbox()
	if o.oncall != nil {
		oc := *o.oncall
		oc.Chats, oc.Wake = []bot.Chat{e.Chat}, e.Wake
		if e.OnCall, err = oncall.New(context.Background(), s, e.Clock, zerolog.Nop(), oc); err != nil {
			t.Fatal(err)
		}
		e.OnCall.Register(e.Mux) // first, as in klaxon: its question handler answers on-call questions only
		e.Outbox.Handle(bot.OpSetGroup, oncall.GroupSender(e.OnCall))
	}
	if !o.alone {
		e.Incidents.Register(e.Mux)
	}
	if o.withPage {
		pc := paging.Config{People: cfg.People, Wake: e.Wake}
		for _, fn := range o.paging {
			fn(&pc)
		}
		var oc paging.OnCall
		if e.OnCall != nil {
			oc = e.OnCall
		}
		e.Paging = paging.New(s, e.Incidents, oc, e.Clock, zerolog.Nop(), pc)
		e.Incidents.Follow(e.Paging)
		e.Outbox.Handle(bot.OpPage, e.Paging)
		e.Paging.Register(e.Mux)
	}
	t.Cleanup(func() {
		if o.check {
			if err := s.Check(); err != nil {
				t.Errorf("store consistency: %v", err)
			}
		}
		s.Close()
	})
	if o.poll > 0 {
		t.Cleanup(e.Outbox.Go(o.poll)) // runs before the store closes
	}
	return e
}

// Request is what user typing text in channel sends, now.
func (e *Env) Request(user, channel, text string) *bot.Request {
	return &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: user, Name: user},
		Channel: bot.ChannelRef{ID: channel, Name: channel}, Text: text, Time: e.Clock.Now()}
}

// Do runs a command as user in channel, then what it queued in chat, and
// returns the reply as the console renders it.
func (e *Env) Do(user, channel, text string) string {
	e.T.Helper()
	resp := e.Mux.Dispatch(context.Background(), e.Request(user, channel, text))
	e.Drain()
	return console.RenderMessage(resp.Message)
}

// Drain runs what is due in the outbox, and what that makes due.
func (e *Env) Drain() { e.Outbox.Drain(context.Background()) }

// Wait moves the clock on by d and runs what falls due in the outbox.
func (e *Env) Wait(d time.Duration) {
	e.Clock.Advance(d)
	e.Drain()
}

// Tick moves the clock on by d, runs what the scheduler runs then (on-call
// jobs, escalations, reminders) and what they queued in chat.
func (e *Env) Tick(d time.Duration) {
	e.Clock.Advance(d)
	ctx, now := context.Background(), e.Clock.Now()
	if e.OnCall != nil {
		e.OnCall.Tick(ctx, now)
	}
	if e.Paging != nil {
		e.Paging.Tick(ctx, now)
	}
	e.Incidents.Tick(ctx, now)
	e.Drain()
}

// Incident reads INC-n.
func (e *Env) Incident(n int64) *bot.Incident {
	e.T.Helper()
	inc, err := e.Store.IncidentByNumber(context.Background(), n)
	if err != nil {
		e.T.Fatalf("INC-%d: %v", n, err)
	}
	return inc
}

// Events reads an incident's timeline.
func (e *Env) Events(inc *bot.Incident) []bot.Event {
	e.T.Helper()
	evs, err := e.Store.Events(context.Background(), inc.ID, 0, 0)
	if err != nil {
		e.T.Fatal(err)
	}
	return evs
}

// Team is the on-call fixture: alice (Berlin), bob (New York) and carol
// (UTC); payments-primary (alice, bob) and payments-secondary (carol,
// alice) hand off weekly on Mondays 09:00 Berlin from 2026-11-16; db
// (carol, bob) hands off daily at 00:00 UTC.
func Team(t testing.TB) oncall.Config {
	berlin := Location(t, "Europe/Berlin")
	start, _ := bot.ParseDate("2026-11-16") // a Monday
	return oncall.Config{
		People: bot.People{
			{ID: "alice", Name: "Alice", TimeZone: "Europe/Berlin"},
			{ID: "bob", Name: "Bob", TimeZone: "America/New_York"},
			{ID: "carol", Name: "Carol"},
		},
		Schedules: []*bot.Schedule{
			{ID: "payments-primary", Service: "payments", Role: "primary", Location: berlin, Layers: []bot.Layer{{Rotation: bot.Rotation{
				Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 9 * 60, Participants: []string{"alice", "bob"}}}}},
			{ID: "payments-secondary", Service: "payments", Role: "secondary", Location: berlin, Layers: []bot.Layer{{Rotation: bot.Rotation{
				Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 9 * 60, Participants: []string{"carol", "alice"}}}}},
			{ID: "db", Service: "db", Role: "primary", Location: time.UTC, Layers: []bot.Layer{{Rotation: bot.Rotation{
				Kind: bot.RotationDaily, Days: 1, Start: start, Handoff: 0, Participants: []string{"carol", "bob"}}}}},
		},
	}
}

// Location loads an IANA time zone or fails the test.
func Location(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// NewNight is the incident tests' set-up: New at Night, with the store
// checked at the end and incidents announced (Announced).
func NewNight(t testing.TB, opts ...Option) *Env {
	t.Helper()
	return New(t, append([]Option{StartAt(Night), Checked(), Announced()}, opts...)...)
}

// Types are three incident types: security (private, its own channel
// pattern and announcement channel, two required fields), customer
// (on the status page, one required field) and internal.
var Types = bot.IncidentTypes{
	{ID: "security", Name: "Security", Private: true, ChannelPattern: "sec-{number}", Announce: map[bot.Platform]string{bot.PlatformConsole: "security-leads"},
		Fields: []bot.CustomField{
			{ID: "reporter", Label: "Reporter", Kind: bot.CustomUser, Required: true},
			{ID: "vector", Label: "Attack vector", Kind: bot.CustomSelect, Options: []string{"phishing", "malware"}, Required: true},
		}},
	{ID: "customer", Name: "Customer-facing", StatusPage: true, Fields: []bot.CustomField{
		{ID: "customer", Label: "Customer", Kind: bot.CustomText, Required: true},
		{ID: "ticket", Label: "Support ticket", Kind: bot.CustomText},
	}},
	{ID: "internal", Name: "Internal", StatusPage: false},
}

// WithTypes configures Types.
func WithTypes() Option { return Incidents(func(c *commands.Config) { c.Types = Types }) }

// IncidentCount counts every incident.
func (e *Env) IncidentCount() int {
	e.T.Helper()
	incs, err := e.Store.ListIncidents(context.Background(), bot.IncidentFilter{})
	if err != nil {
		e.T.Fatal(err)
	}
	return len(incs)
}

// Kinds lists the events' kinds, comma-separated.
func Kinds(evs []bot.Event) string {
	ks := make([]string, len(evs))
	for i, ev := range evs {
		ks[i] = string(ev.Kind)
	}
	return strings.Join(ks, ",")
}
