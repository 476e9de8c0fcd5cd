package main

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
)

// apiWrites carries out the write API through the use cases chat uses:
// a declaration through Incidents.Declare, every other write as the chat
// command it is, run as the token's actor on the incident's platform, so
// the rules, records and consequences are chat's.
type apiWrites struct {
	a *app
}

var _ web.Writes = apiWrites{}

// platform is where an API declaration goes: the first chat klaxon is
// connected to.
func (w apiWrites) platform() bot.Platform {
	if len(w.a.chats) > 0 {
		return w.a.chats[0].Platform()
	}
	return bot.PlatformConsole
}

// person finds a person by id for field, or says which field is wrong.
func (w apiWrites) person(field, id string) (bot.Person, error) {
	p, ok := w.a.policy.People.Get(strings.TrimSpace(id))
	if !ok {
		e := bot.Errorf(bot.EINVALID, "%s: klaxon knows no person %q (people[].id).", field, bot.Cut(id, 40))
		e.Field = field
		return bot.Person{}, e
	}
	return p, nil
}

func (w apiWrites) Declare(ctx context.Context, who bot.Actor, d web.Declaration) (*bot.Incident, error) {
	p := w.platform()
	in := commands.DeclareInput{Title: d.Title, Summary: d.Summary, Severity: d.Severity, Service: d.Service, Private: d.Private,
		Type: d.Type, Fields: d.Fields, DeclaredBy: who.User, Platform: p, NoCommander: d.Commander == ""}
	if d.Commander != "" {
		cmdr, err := w.person("commander", d.Commander)
		if err != nil {
			return nil, err
		}
		in.Commander = bot.User{ID: cmp.Or(cmdr.UserID(p), cmdr.ID), Name: cmdr.Name}
	}
	inc, _, err := w.a.incidents.Declare(ctx, in)
	return inc, err
}

// run runs a chat command line as who on platform.
func (w apiWrites) run(ctx context.Context, who bot.Actor, p bot.Platform, line string) (*bot.Response, error) {
	who.Platform = p
	return w.a.mux.Run(ctx, &bot.Request{Platform: p, User: who.User, Text: line, Time: w.a.clock.Now()})
}

func (w apiWrites) Change(ctx context.Context, who bot.Actor, n int64, c web.Change) (*bot.Incident, error) {
	inc, err := w.a.store.IncidentByNumber(ctx, n)
	if err != nil {
		return nil, err
	}
	key := inc.Key()
	var line string
	switch c.Kind {
	case "update":
		public := ""
		if c.Public {
			public = commands.PublicFlag + " "
		}
		line = "/incident update " + key + " " + public + bot.QuoteArg(c.Text)
	case "acknowledge":
		line = "/incident ack " + key
	case "severity":
		line = "/incident sev " + key + " " + bot.QuoteArg(c.Severity)
	case "role":
		p, err := w.person("person", c.Person)
		if err != nil {
			return nil, err
		}
		line = "/incident role " + key + " " + bot.QuoteArg(c.Role) + " " + p.MentionOn(inc.Platform)
	case "mitigate":
		line = "/incident mitigate " + key
	case "resolve":
		line = "/incident resolve " + key
		if c.Summary != "" {
			line += " " + bot.QuoteArg(c.Summary)
		}
	case "reopen":
		line = "/incident reopen " + key
		if c.Reason != "" {
			line += " " + bot.QuoteArg(c.Reason)
		}
	default:
		return nil, bot.Errorf(bot.EINVALID, "There is no change %q.", c.Kind)
	}
	if _, err := w.run(ctx, who, inc.Platform, line); err != nil {
		return nil, err
	}
	return w.a.store.IncidentByNumber(ctx, n)
}

func (w apiWrites) AddFollowUp(ctx context.Context, who bot.Actor, n int64, text string) (*bot.FollowUp, error) {
	inc, err := w.a.store.IncidentByNumber(ctx, n)
	if err != nil {
		return nil, err
	}
	if _, err := w.run(ctx, who, inc.Platform, "/incident followup "+inc.Key()+" "+bot.QuoteArg(text)); err != nil {
		return nil, err
	}
	all, err := w.a.store.FollowUps(ctx)
	if err != nil {
		return nil, err
	}
	var made *bot.FollowUp
	for _, f := range all {
		if f.IncidentID == inc.ID && f.CreatedBy.ID == who.User.ID && (made == nil || f.Number > made.Number) {
			made = f
		}
	}
	if made == nil {
		return nil, bot.Internal(nil, "klaxon added the follow-up but could not read it back.")
	}
	return made, nil
}

func (w apiWrites) AddOverride(ctx context.Context, who bot.Actor, o web.Override) (string, error) {
	p, err := w.person("person", o.Person)
	if err != nil {
		return "", err
	}
	platform := w.platform()
	line := "/oncall override " + p.MentionOn(platform) + " " + o.Start.UTC().Format(time.RFC3339) + " " + o.End.UTC().Format(time.RFC3339) + " " + bot.QuoteArg(o.Schedule)
	resp, err := w.run(ctx, who, platform, line)
	if err != nil {
		return "", err
	}
	return bot.PlainTimes(resp.Text), nil
}
