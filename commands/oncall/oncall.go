// Package oncall answers who is on call: schedules with their layers,
// overrides, covers, swaps and undo, on-call questions in chat, handoff
// notices, chat groups that follow the rotation, and calendar feeds.
package oncall

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Config is the on-call setup from the configuration.
type Config struct {
	Schedules []*bot.Schedule
	People    bot.People
	// FeedTokens opens calendar feeds: "schedule:<id>" or "person:<id>" →
	// the feed's secret token. Feeds without a token are not served.
	FeedTokens map[string]string
	// Handoffs says where each schedule announces handoffs, by schedule id.
	Handoffs map[string]HandoffNotice
	// Chats are the connected platforms, for swap offers and notices.
	Chats []bot.Chat
	// Groups are the chat groups kept to who is on call.
	Groups []Group
	// Wake is told when a change queued chat jobs.
	Wake *bot.Wake
	// Admins may change any schedule, put anyone on it and undo any
	// change (person ids or chat user ids: incidents.admins).
	Admins []string
	// Owners are each service's owners (person ids), who may change its
	// schedules and put anyone klaxon knows on them.
	Owners map[string][]string
	// MaxOverride is the longest override or cover anyone but an admin
	// may make; zero: DefaultMaxOverride.
	MaxOverride time.Duration
}

// HandoffNotice is where a schedule announces its handoffs.
type HandoffNotice struct {
	Platform bot.Platform
	Channel  string        // "" means no announcement in a channel
	Remind   time.Duration // DM the incoming person this long before; 0: no DM
	// ReportTo is where a notice the platform refuses for good (a channel
	// that does not exist, a person it cannot DM) is reported, with its
	// text: the platform's announcement channel. Empty: only logged.
	ReportTo string
}

// OnCall answers who is on call and records overrides, covers and undos.
type OnCall struct {
	store bot.OnCallStore
	clock bot.Clock
	log   zerolog.Logger
	cfg   Config

	mu        sync.RWMutex
	history   bot.History
	overrides map[string]*bot.Overrides // by schedule id

	groups    *groups    // chat groups that follow the on-call
	swaps     *swaps     // shift offers and takes
	handoffs  *handoffs  // handoff notices and reminders
	questions *questions // on-call questions and reports
	rules     rules      // who may change what
}

// New loads the on-call history.
func New(ctx context.Context, store bot.OnCallStore, clock bot.Clock, log zerolog.Logger, cfg Config) (*OnCall, error) {
	o := &OnCall{store: store, clock: clock, log: log, cfg: cfg}
	o.groups = &groups{oc: o, last: map[string]groupState{}}
	o.swaps, o.handoffs, o.questions = &swaps{oc: o}, &handoffs{oc: o}, &questions{oc: o}
	o.rules = rules{cfg: &o.cfg}
	changes, err := store.OnCallChanges(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the on-call history: %w", err)
	}
	o.setHistory(changes)
	return o, nil
}

func (o *OnCall) setHistory(h bot.History) {
	byID := h.Overrides()
	idx := make(map[string]*bot.Overrides, len(byID))
	for id, ovs := range byID {
		idx[id] = bot.NewOverrides(ovs)
	}
	o.mu.Lock()
	o.history, o.overrides = h, idx
	o.mu.Unlock()
}

// Register adds the /oncall commands and the on-call question handler.
var (
	oncallService  = bot.Param{Name: "service", Desc: "A service or schedule (default: all)", Kind: bot.ParamSchedule}
	oncallSchedule = bot.Param{Name: "schedule", Desc: "Schedule or service (default: yours)", Kind: bot.ParamSchedule}
)

func (o *OnCall) Register(m *bot.Mux) {
	m.Register(
		bot.Command{Name: "oncall", Params: []bot.Param{oncallService}, AliasOf: "oncall who", Summary: "Who is on call now, for every service or one; `/oncall me` or `/oncall @person` for one person.",
			Help: "Add a time word: now, yesterday, tomorrow, tonight, this weekend, next week (e.g. `/oncall payments tomorrow`, `/oncall me yesterday`); next week lists the week's shifts.", Handler: o.handleWho},
		bot.Command{Name: "oncall who", Params: []bot.Param{oncallService}, Summary: "The same as /oncall [service].", Handler: o.handleWho},
		bot.Command{Name: "oncall override", Params: []bot.Param{
			{Name: "person", Desc: "Who", Kind: bot.ParamUser, Required: true},
			{Name: "from", Desc: "now, 14:00, 2026-12-01T14:00", Required: true},
			{Name: "until", Desc: "A time, or a length like 4h or 2d", Required: true, Usage: "<until|duration>"}, oncallSchedule}, Summary: "Put someone on call for a stretch.",
			Help: "Times: now, 14:00 (today, your time zone), 2026-12-01, 2026-12-01T14:00. Durations: 90m, 4h, 2d.", Handler: o.handleOverride},
		bot.Command{Name: "oncall cover", Params: []bot.Param{
			{Name: "person", Desc: "Who covers", Kind: bot.ParamUser, Required: true},
			{Name: "duration", Desc: "For how long, e.g. 2h", Required: true}, oncallSchedule}, Summary: "Someone takes your shift from now on (\"take my shift\").", Handler: o.handleCover},
		bot.Command{Name: "oncall undo", Params: []bot.Param{{Name: "schedule", Desc: "Undo the last change to this schedule (yours or someone else's)", Usage: "[schedule]"}},
			Summary: "Revert the last on-call change you made, or the last one to a schedule.", Handler: o.handleUndo},
		bot.Command{Name: "oncall swap", Params: []bot.Param{oncallSchedule, {Name: "date", Desc: "A later shift: yours on call that day, e.g. 2026-12-01", Usage: "[yyyy-mm-dd]"}},
			Summary: "Offer a shift (pick one of your next, or that day's); a teammate takes it with a button.", Handler: o.swaps.handleSwap},
		bot.Command{Name: "oncall history", Params: []bot.Param{oncallSchedule}, Summary: "List recent on-call changes.", Handler: o.handleHistory},
		bot.Command{Name: "oncall help", Params: []bot.Param{{Name: "command", Desc: "A command to explain"}}, Summary: "Show the on-call commands.", Handler: m.Help("oncall")},
	)
	m.Describe("oncall", "Who is on call; overrides, swaps and history")
	m.HandleQuestion(o.questions.Answer)
	m.HandleAction(bot.ActionTakeShift, o.swaps.actTake)
	m.HandleAction(bot.ActionOfferShift, o.swaps.actOffer)
	m.HandleHome(o.questions.homeOnCall)
}

// connected reports whether klaxon is connected to platform p.
func (o *OnCall) connected(p bot.Platform) bool {
	for _, c := range o.cfg.Chats {
		if c.Platform() == p {
			return true
		}
	}
	return false
}

// poke tells the outbox about jobs just committed.
func (o *OnCall) poke(jobs []bot.Job) {
	if len(jobs) > 0 {
		o.cfg.Wake.Jobs()
	}
}

// asker is the person behind a platform user, and their time zone.
func (o *OnCall) asker(p bot.Platform, u bot.User) (bot.Person, *time.Location) {
	person, ok := o.cfg.People.ByUser(p, u.ID)
	if !ok {
		return bot.Person{}, time.UTC
	}
	return person, person.Location()
}

// schedulesFor finds the schedules for a service or schedule id.
func (o *OnCall) schedulesFor(name string) []*bot.Schedule {
	name = strings.ToLower(name)
	var out []*bot.Schedule
	for _, s := range o.cfg.Schedules {
		if s.ID == name || s.Service == name || strings.ToLower(s.Name) == name {
			out = append(out, s)
		}
	}
	return out
}

// known lists the names people can ask about: services, then schedules.
func (o *OnCall) known() []string {
	var out []string
	for _, s := range o.cfg.Schedules {
		for _, n := range []string{s.Service, s.ID} {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// UnknownService explains that name is not known, listing the closest first.
func (o *OnCall) UnknownService(name string) error {
	names := o.known()
	slices.SortStableFunc(names, func(a, b string) int { return bot.EditDistance(name, a) - bot.EditDistance(name, b) })
	return bot.Errorf(bot.ENOTFOUND, "I don't know a service or schedule called %q. Known: %s.", name, strings.Join(names, ", "))
}

// Report says who is on call at t for the given schedules, in loc.
func (o *OnCall) Report(platform bot.Platform, scheds []*bot.Schedule, t time.Time, loc *time.Location, when string) bot.Message {
	return o.ReportAt(platform, scheds, func(*bot.Schedule) time.Time { return t }, loc, when)
}

// ReportAt is Report with each schedule asked at its own instant (next
// week's shift starts at each schedule's own handoff).
func (o *OnCall) ReportAt(platform bot.Platform, scheds []*bot.Schedule, at func(*bot.Schedule) time.Time, loc *time.Location, when string) bot.Message {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var lines []string
	for _, s := range scheds {
		t := at(s)
		ovs := o.overrides[s.ID]
		label := cmp.Or(s.Service, s.ID)
		who, ok := s.OnCall(t, ovs)
		if !ok {
			lines = append(lines, fmt.Sprintf("*%s* %s: nobody (outside the schedule's hours)", label, s.Role))
			continue
		}
		line := fmt.Sprintf("*%s* %s: %s", label, s.Role, o.cfg.People.Mention(platform, who.Person))
		if sh, ok := shiftAt(s, ovs, t); ok {
			line += fmt.Sprintf(" (since %s, until %s)", when2(sh.Start, t.Add(-shiftWindow), loc, "before"), when2(sh.End, t.Add(shiftWindow), loc, "after"))
		}
		if who.Override != nil {
			line += " · override"
		}
		if g, ok := o.groups.groupFor(platform, s.ID); ok && when == "now" {
			line += " · mention " + o.groups.mention(g)
		}
		lines = append(lines, line)
	}
	title := "📟 On call " + when
	return bot.Message{Title: title, Text: strings.Join(lines, "\n"), Context: "Times in " + loc.String() + " · /oncall help"}
}

// shiftWindow is how far shiftAt looks for a shift's edges.
const shiftWindow = 21 * 24 * time.Hour

// shiftAt returns the whole shift containing t, looking up to shiftWindow
// either way for its edges.
func shiftAt(s *bot.Schedule, ovs *bot.Overrides, t time.Time) (bot.Shift, bool) {
	for _, sh := range s.Shifts(t.Add(-shiftWindow), t.Add(shiftWindow), ovs) {
		if !t.Before(sh.Start) && t.Before(sh.End) {
			return sh, true
		}
	}
	return bot.Shift{}, false
}

// when2 formats a shift edge; an edge at the window's end is open-ended.
func when2(t, edge time.Time, loc *time.Location, open string) string {
	s := t.In(loc).Format("Mon 2 Jan 15:04")
	if t.Equal(edge) {
		return open + " " + s
	}
	return s
}

func (o *OnCall) handleWho(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(o.cfg.Schedules) == 0 {
		return bot.Reply("No on-call schedules are configured. Add them under `schedules:` in the configuration."), nil
	}
	scheds := o.cfg.Schedules
	args, when := calendarWords(req.Args)
	asker, loc := o.asker(req.Platform, req.User)
	if len(args) == 1 {
		// About a person: "/oncall me", "/oncall @carol".
		if strings.EqualFold(args[0], "me") {
			if asker.ID == "" {
				return nil, bot.Errorf(bot.EINVALID, "You are not in klaxon's list of people, so you are on no schedule.")
			}
			return &bot.Response{Message: o.questions.personReport(req.Platform, asker, when, loc, true)}, nil
		}
		if _, ok := bot.ParseMention(args[0]); ok {
			person, err := o.cfg.People.Resolve(req.Platform, args[0])
			if err != nil {
				return nil, err
			}
			return &bot.Response{Message: o.questions.personReport(req.Platform, person, when, loc, person.ID == asker.ID)}, nil
		}
	}
	if len(args) > 0 {
		name := strings.Join(args, " ")
		if scheds = o.schedulesFor(name); len(scheds) == 0 {
			// A time word with a typo: say which.
			last := strings.ToLower(args[len(args)-1])
			for _, w := range timeWords {
				if d := bot.EditDistance(last, w); d > 0 && d <= 2 && len(last) > 3 {
					return nil, bot.Errorf(bot.EINVALID, "I don't know %q. Did you mean `/oncall %s`? Time words: now, yesterday, tomorrow, tonight, this weekend, next week.",
						args[len(args)-1], strings.TrimSpace(strings.Join(args[:len(args)-1], " ")+" "+w))
				}
			}
			return nil, o.UnknownService(name)
		}
	}
	return &bot.Response{Message: o.questions.reportWhen(req.Platform, scheds, when, loc)}, nil
}

// parseWhen reads an instant: now, tomorrow, 14:00, 2026-12-01,
// 2026-12-01T14:00 (in loc), or RFC 3339.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	ls := strings.ToLower(s)
	switch ls {
	case "now":
		return now, nil
	case "tomorrow":
		return bot.DateOf(now.In(loc)).AddDays(1).At(9*60, loc), nil
	}
	if tod, err := bot.ParseTimeOfDay(s); err == nil {
		return bot.DateOf(now.In(loc)).At(tod, loc), nil
	}
	if d, err := bot.ParseDate(s); err == nil {
		return d.At(0, loc), nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, bot.Errorf(bot.EINVALID, "%q is not a time. Use now, 14:00, 2026-12-01 or 2026-12-01T14:00.", s)
}

// sameTimeNextDay is t's wall-clock time on the next day in loc (across a
// DST change, still that time of day).
func sameTimeNextDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, l.Hour(), l.Minute(), l.Second(), 0, loc)
}

// MaxOverride bounds an override; longer changes belong in the schedule.
const MaxOverride = 90 * 24 * time.Hour

// pickSchedule chooses the schedule a change is about: the one named, the
// only one, or the only one the people involved take part in.
// scheduleTitle is the Title of the schedule with id, or the bold id of
// one no longer configured.
func (o *OnCall) scheduleTitle(id string) string {
	for _, s := range o.cfg.Schedules {
		if s.ID == id {
			return s.Title()
		}
	}
	return "*" + id + "*"
}

func (o *OnCall) pickSchedule(name string, people ...string) (*bot.Schedule, error) {
	if name != "" {
		for _, s := range o.cfg.Schedules {
			if s.ID == strings.ToLower(name) {
				return s, nil
			}
		}
		ss := o.schedulesFor(name)
		switch {
		case len(ss) == 1:
			return ss[0], nil
		case len(ss) > 1:
			var ids []string
			for _, s := range ss {
				ids = append(ids, s.ID)
			}
			return nil, bot.Errorf(bot.EINVALID, "*%s* has %d schedules: %s. Name the one you mean.", strings.ToLower(name), len(ss), strings.Join(ids, ", "))
		}
		return nil, o.UnknownService(name)
	}
	if len(o.cfg.Schedules) == 1 {
		return o.cfg.Schedules[0], nil
	}
	var found []*bot.Schedule
	for _, s := range o.cfg.Schedules {
		for _, l := range s.Layers {
			if slices.ContainsFunc(l.Rotation.Participants, func(p string) bool { return slices.Contains(people, p) }) && !slices.Contains(found, s) {
				found = append(found, s)
			}
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	var ids []string
	for _, s := range o.cfg.Schedules {
		ids = append(ids, s.ID)
	}
	return nil, bot.Errorf(bot.EINVALID, "Which schedule? Add one of: %s.", strings.Join(ids, ", "))
}

func (o *OnCall) handleOverride(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) < 3 || len(req.Args) > 4 {
		return nil, bot.Errorf(bot.EINVALID, "Say who, from when, and until when (or for how long).")
	}
	person, err := o.cfg.People.Resolve(req.Platform, req.Args[0])
	if err != nil {
		return nil, err
	}
	asker, loc := o.asker(req.Platform, req.User)
	now := o.clock.Now()
	from, err := parseWhen(req.Args[1], now, loc)
	if err != nil {
		return nil, err
	}
	until, err := parseWhen(req.Args[2], now, loc)
	length := time.Duration(0)
	if err != nil {
		d, derr := bot.ParseLength(req.Args[2])
		if derr != nil {
			return nil, bot.Errorf(bot.EINVALID, "%q is neither a time nor a duration.", req.Args[2])
		}
		length, until = d, from.Add(d)
	}
	// Times of day are the next ones: "22:00 06:00" ends the next morning,
	// and "14:00 2h" asked at 23:36 is tomorrow's 14:00.
	_, fromTOD := bot.ParseTimeOfDay(req.Args[1])
	_, untilTOD := bot.ParseTimeOfDay(req.Args[2])
	if untilTOD == nil && !until.After(from) {
		until = sameTimeNextDay(until, loc)
	}
	if fromTOD == nil && !until.After(now) {
		from = sameTimeNextDay(from, loc)
		if length > 0 {
			until = from.Add(length)
		} else {
			until = sameTimeNextDay(until, loc)
		}
	}
	name := ""
	if len(req.Args) == 4 {
		name = req.Args[3]
	}
	s, err := o.pickSchedule(name, person.ID, asker.ID)
	if err != nil {
		return nil, err
	}
	return o.add(ctx, req, bot.ChangeOverride, s, person, from, until, loc)
}

func (o *OnCall) handleCover(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) < 2 || len(req.Args) > 3 {
		return nil, bot.Errorf(bot.EINVALID, "Say who covers and for how long, e.g. `/oncall cover @bob 2h`.")
	}
	person, err := o.cfg.People.Resolve(req.Platform, req.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := bot.ParseLength(req.Args[1])
	if err != nil {
		return nil, err
	}
	asker, loc := o.asker(req.Platform, req.User)
	now := o.clock.Now()
	var s *bot.Schedule
	if len(req.Args) == 3 {
		if s, err = o.pickSchedule(req.Args[2]); err != nil {
			return nil, err
		}
	} else {
		// "Take my shift": the schedule where the asker is on call now.
		var mine []string
		o.mu.RLock()
		for _, sc := range o.cfg.Schedules {
			if who, ok := sc.OnCall(now, o.overrides[sc.ID]); ok && who.Person == asker.ID && asker.ID != "" {
				if s == nil {
					s = sc
				}
				mine = append(mine, sc.ID)
			}
		}
		o.mu.RUnlock()
		switch {
		case s == nil:
			return nil, bot.Errorf(bot.EINVALID, "You are not on call right now, so name the schedule: `/oncall cover @person %s <schedule>`.", req.Args[1])
		case len(mine) > 1:
			return nil, bot.Errorf(bot.EINVALID, "You are on call for %s right now: name the one to cover, e.g. `/oncall cover %s %s %s`.",
				strings.Join(mine, " and "), req.Args[0], req.Args[1], mine[0])
		}
	}
	return o.add(ctx, req, bot.ChangeCover, s, person, now, now.Add(d), loc)
}

// add validates and stores an override and reports it.
func (o *OnCall) add(ctx context.Context, req *bot.Request, kind bot.ChangeKind, s *bot.Schedule, person bot.Person, from, until time.Time, loc *time.Location) (*bot.Response, error) {
	now := o.clock.Now()
	switch {
	case !until.After(from):
		return nil, bot.Errorf(bot.EINVALID, "The end (%s) must come after the start (%s).", until.In(loc).Format("Mon 2 Jan 15:04"), from.In(loc).Format("Mon 2 Jan 15:04"))
	case until.Sub(from) > MaxOverride:
		return nil, bot.Errorf(bot.EINVALID, "Overrides last at most 90 days; change the schedule for longer.")
	case !until.After(now):
		return nil, bot.Errorf(bot.EINVALID, "That stretch is already over.")
	}
	asker, _ := o.asker(req.Platform, req.User)
	if err := o.rules.mayOverride(req.Platform, req.User, asker, s, person, from, until); err != nil {
		return nil, err
	}
	ov := &bot.Override{ID: bot.NewID(), Schedule: s.ID, Person: person.ID, Start: from, End: until}
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: kind, Author: req.User, At: now, Override: ov}
	if err := o.commit(ctx, c); err != nil {
		return nil, err
	}
	return &bot.Response{InChannel: true, Message: bot.Message{Text: fmt.Sprintf("📟 %s is on call for %s from %s until %s (%s), set by %s. Undo with `/oncall undo`.",
		o.cfg.People.Mention(req.Platform, person.ID), s.Title(),
		from.In(loc).Format("Mon 2 Jan 15:04"), until.In(loc).Format("Mon 2 Jan 15:04"), loc, req.User.Mention())}}, nil
}

// commit stores a change and then applies it.
func (o *OnCall) commit(ctx context.Context, c *bot.OnCallChange, jobs ...bot.Job) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := o.store.Update(ctx, func(tx bot.Tx) error {
		if err := tx.AddOnCallChange(c); err != nil {
			return err
		}
		return tx.Enqueue(jobs...)
	})
	if err != nil {
		return bot.Internal(err, "klaxon could not save the on-call change; nothing changed. Try again.")
	}
	o.poke(jobs)
	h := append(slices.Clone(o.history), *c)
	byID := h.Overrides()
	o.history = h
	o.overrides = map[string]*bot.Overrides{}
	for id, ovs := range byID {
		o.overrides[id] = bot.NewOverrides(ovs)
	}
	return nil
}

func (o *OnCall) handleUndo(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) > 1 {
		return nil, bot.Errorf(bot.EINVALID, "`undo` reverts your last change, or with a schedule the last change to it: `/oncall undo payments-primary`.")
	}
	var (
		last bot.OnCallChange
		ok   bool
	)
	if len(req.Args) == 1 {
		s, err := o.pickSchedule(req.Args[0])
		if err != nil {
			return nil, err
		}
		o.mu.RLock()
		last, ok = o.history.LastOnSchedule(s.ID)
		o.mu.RUnlock()
		if !ok {
			return bot.Reply("%s has no on-call change left to undo.", s.Title()), nil
		}
		if asker, _ := o.asker(req.Platform, req.User); !o.rules.mayUndo(req.Platform, req.User, asker, last) {
			return nil, undoRefusal(last, o.scheduleTitle)
		}
	} else {
		o.mu.RLock()
		last, ok = o.history.LastUndoable(req.User.ID)
		o.mu.RUnlock()
		if !ok {
			return bot.Reply("You have no on-call change left to undo."), nil
		}
	}
	now := o.clock.Now()
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeUndo, Author: req.User, At: now, Reverts: last.ID}
	_, loc := o.asker(req.Platform, req.User)
	var jobs []bot.Job
	if last.Kind == bot.ChangeOffer {
		// The offer's "Take this shift" button goes with it.
		jobs = append(jobs, o.swaps.settle(last, fmt.Sprintf("↩️ %s withdrew this offer: %s.", req.User.Mention(), o.describe(last.Offer.Platform, last, loc)), now)...)
	}
	if err := o.commit(ctx, c, jobs...); err != nil {
		return nil, err
	}
	whose := "their"
	if last.Author.ID != req.User.ID {
		whose = last.Author.Mention() + "'s"
	}
	text := fmt.Sprintf("↩️ %s undid %s %s: %s.", req.User.Mention(), whose, last.Kind, o.describe(req.Platform, last, loc))
	if last.Override != nil {
		for _, s := range o.cfg.Schedules {
			if s.ID != last.Override.Schedule {
				continue
			}
			who := "nobody"
			if person, ok := o.Who(s, o.clock.Now()); ok {
				who = o.cfg.People.Mention(req.Platform, person)
			}
			text += fmt.Sprintf(" On call for %s now: %s.", s.Title(), who)
		}
	}
	return &bot.Response{InChannel: true, Message: bot.Message{Text: text}}, nil
}

func (o *OnCall) describe(p bot.Platform, c bot.OnCallChange, loc *time.Location) string {
	const when = "Mon 2 Jan 15:04"
	switch {
	case c.Override != nil:
		ov := c.Override
		return fmt.Sprintf("%s on %s %s – %s", o.cfg.People.Mention(p, ov.Person), o.scheduleTitle(ov.Schedule), ov.Start.In(loc).Format(when), ov.End.In(loc).Format(when))
	case c.Offer != nil:
		of := c.Offer
		return fmt.Sprintf("%s's %s shift %s – %s", o.cfg.People.Mention(p, of.Person), o.scheduleTitle(of.Schedule), of.Start.In(loc).Format(when), of.End.In(loc).Format(when))
	case c.Kind == bot.ChangeExpire:
		if offer, ok := o.change(c.OfferID); ok {
			return "nobody took " + o.describe(p, offer, loc)
		}
	}
	return string(c.Kind)
}

// change finds a change of the history by id.
func (o *OnCall) change(id uuid.UUID) (bot.OnCallChange, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, c := range o.history {
		if c.ID == id {
			return c, true
		}
	}
	return bot.OnCallChange{}, false
}

// scheduleOf is the schedule a change is about: its override's or offer's,
// or that of the change it undoes or the offer it expires (byID indexes
// the history).
func scheduleOf(byID map[uuid.UUID]bot.OnCallChange, c bot.OnCallChange) string {
	switch {
	case c.Override != nil:
		return c.Override.Schedule
	case c.Offer != nil:
		return c.Offer.Schedule
	}
	ref := c.Reverts
	if c.Kind == bot.ChangeExpire {
		ref = c.OfferID
	}
	if r, ok := byID[ref]; ok && (c.Kind == bot.ChangeUndo || c.Kind == bot.ChangeExpire) {
		return scheduleOf(byID, r)
	}
	return ""
}

func (o *OnCall) handleHistory(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	filter := ""
	if len(req.Args) > 0 {
		s, err := o.pickSchedule(req.Args[0])
		if err != nil {
			return nil, err
		}
		filter = s.ID
	}
	_, loc := o.asker(req.Platform, req.User)
	o.mu.RLock()
	h := o.history
	o.mu.RUnlock()
	byID := make(map[uuid.UUID]bot.OnCallChange, len(h))
	for _, c := range h {
		byID[c.ID] = c
	}
	var lines []string
	for i := len(h) - 1; i >= 0 && len(lines) < 15; i-- {
		c := h[i]
		if filter != "" && scheduleOf(byID, c) != filter {
			continue
		}
		line := fmt.Sprintf("%s · %s · %s · ", c.At.In(loc).Format("Mon 2 Jan 15:04"), c.Author.Mention(), c.Kind)
		if c.Kind == bot.ChangeUndo {
			if r, ok := byID[c.Reverts]; ok {
				line += "reverted " + o.describe(req.Platform, r, loc)
			}
		} else {
			line += o.describe(req.Platform, c, loc)
			if h.Reverted(c.ID) {
				line += " (undone)"
			}
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return bot.Reply("No on-call changes yet."), nil
	}
	return &bot.Response{Message: bot.Message{Title: "On-call changes, newest first", Text: strings.Join(lines, "\n"), Context: "Times in " + loc.String()}}, nil
}

// Entry is who is on call on one schedule, for the JSON API.
type Entry struct {
	Schedule string    `json:"schedule"`
	Service  string    `json:"service,omitempty"`
	Role     string    `json:"role,omitempty"`
	Person   string    `json:"person,omitempty"` // empty: nobody (outside the schedule's hours)
	Name     string    `json:"name,omitempty"`
	Override bool      `json:"override"`
	Since    time.Time `json:"since,omitzero"`
	Until    time.Time `json:"until,omitzero"`
}

// Schedules are the configured schedules.
func (o *OnCall) Schedules() []*bot.Schedule { return o.cfg.Schedules }

// Who is who is on call on schedule s at t, with its overrides; ok is
// false when nobody is.
func (o *OnCall) Who(s *bot.Schedule, t time.Time) (person string, ok bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	who, ok := s.OnCall(t, o.overrides[s.ID])
	return who.Person, ok
}

// Now says who is on call on every schedule at t.
func (o *OnCall) Now(t time.Time) []Entry {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]Entry, 0, len(o.cfg.Schedules))
	for _, s := range o.cfg.Schedules {
		e := Entry{Schedule: s.ID, Service: s.Service, Role: s.Role}
		ovs := o.overrides[s.ID]
		if who, ok := s.OnCall(t, ovs); ok {
			e.Person, e.Override = who.Person, who.Override != nil
			if p, ok := o.cfg.People.Get(who.Person); ok {
				e.Name = p.Name
			}
			if sh, ok := shiftAt(s, ovs, t); ok {
				e.Since, e.Until = sh.Start.UTC(), sh.End.UTC()
			}
		}
		out = append(out, e)
	}
	return out
}
