package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// DeclareInput is everything a declaration needs, however it was entered
// (inline arguments, a form, an alert).
type DeclareInput struct {
	Title      string
	Summary    string
	Severity   string // level, name or label; empty means the default
	Service    string
	Private    bool
	Commander  bot.User // zero: the declarer
	DeclaredBy bot.User
	Platform   bot.Platform
	Source     bot.MessageRef // the chat message it was declared from, if any
	// NoCommander leaves the commander role open (alert-declared
	// incidents): the summary asks someone to take it.
	NoCommander bool
	DetectedAt  time.Time   // when the problem started, if known and earlier
	Events      []bot.Event // more timeline entries saved with the declaration
}

// Declaration form fields, also used to report which input is wrong.
const (
	FieldTitle     = "title"
	FieldSeverity  = "severity"
	FieldService   = "service"
	FieldSummary   = "summary"
	FieldCommander = "commander"
	FieldPrivate   = "private"
)

// checkDeclare validates in field by field, writing nothing, and returns the
// severity and service it names.
func (c *Incidents) checkDeclare(in DeclareInput) (bot.Severity, string, bot.FieldErrors) {
	errs := bot.FieldErrors{}
	if err := bot.ValidateTitle(strings.TrimSpace(in.Title)); err != nil {
		errs[FieldTitle] = bot.ErrorMessage(err)
	}
	sev := c.cfg.Severities.Default()
	if in.Severity != "" {
		var err error
		if sev, err = c.cfg.Severities.Parse(in.Severity); err != nil {
			errs[FieldSeverity] = bot.ErrorMessage(err)
		}
	}
	var service string
	if in.Service != "" {
		var err error
		if service, err = c.service(in.Service); err != nil {
			errs[FieldService] = bot.ErrorMessage(err)
		}
	}
	if n := len([]rune(strings.TrimSpace(in.Summary))); n > bot.MaxTextRunes {
		errs[FieldSummary] = fmt.Sprintf("The summary is %d characters long; the limit is %d.", n, bot.MaxTextRunes)
	}
	return sev, service, errs
}

// ParseDeclare reads `/incident declare` arguments: title words (quoted or
// not) and the options sev:, severity:, service:, commander:, summary: and
// the flag "private".
func ParseDeclare(args []string) (DeclareInput, error) {
	var in DeclareInput
	var title []string
	for _, a := range args {
		key, val, ok := bot.SplitOption(a, "sev", "severity", "service", "commander", "lead", "summary")
		if !ok {
			if strings.EqualFold(a, "private") {
				in.Private = true
				continue
			}
			title = append(title, a)
			continue
		}
		if val == "" {
			return in, bot.Errorf(bot.EINVALID, "`%s:` needs a value, e.g. `%s:%s`.", key, key, example(key))
		}
		switch key {
		case "sev", "severity":
			in.Severity = val
		case "service":
			in.Service = val
		case "summary":
			in.Summary = val
		case "commander", "lead":
			u, ok := bot.ParseMention(val)
			if !ok {
				return in, bot.Errorf(bot.EINVALID, "`%s` is not a person; mention them, e.g. `commander:@alice`.", val)
			}
			in.Commander = u
		}
	}
	in.Title = strings.Join(title, " ")
	return in, nil
}

func example(key string) string {
	switch key {
	case "sev", "severity":
		return "1"
	case "commander", "lead":
		return "@alice"
	case "summary":
		return `"Payments fail for EU cards"`
	}
	return "payments"
}

func (c *Incidents) handleDeclare(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) == 0 && req.Trigger != "" {
		// Bare `/incident declare` opens the form where the platform has one.
		chat, err := c.chat(req.Platform)
		if err != nil {
			return nil, err
		}
		err = chat.OpenForm(ctx, req.Trigger, c.declareForm(DeclareInput{}, req.Channel))
		if err == nil {
			return nil, nil
		}
		if bot.ErrorCode(err) != bot.EUNSUPPORTED {
			return nil, bot.Internal(err, "klaxon could not open the declaration form. Type the command with a title instead.")
		}
	}
	in, err := ParseDeclare(req.Args)
	if err != nil {
		return nil, err
	}
	in.DeclaredBy, in.Platform = req.User, req.Platform
	return c.declareResponse(ctx, in)
}

// declareResponse declares in and tells the declarer how it went.
func (c *Incidents) declareResponse(ctx context.Context, in DeclareInput) (*bot.Response, error) {
	inc, warn, err := c.Declare(ctx, in)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("🚨 Declared *%s* (%s): %s → %s", inc.Key(), inc.Severity.Name, inc.Title, inc.Channel.Mention())
	if cmdr, ok := inc.Commander(); ok && cmdr.ID == in.DeclaredBy.ID {
		text += "\nYou are the commander. Post updates with `/incident update <text>`."
	}
	return &bot.Response{Message: bot.Message{Text: text + warn}}, nil
}

// Declare validates in, stores the incident, and then sets up its channel:
// create, invite, topic, pinned summary, announcement. The incident is
// stored before anything is posted; what fails after that is reported in the
// returned warning text and the log, and the incident stands.
func (c *Incidents) Declare(ctx context.Context, in DeclareInput) (*bot.Incident, string, error) {
	sev, service, errs := c.checkDeclare(in)
	for _, field := range []string{FieldTitle, FieldSeverity, FieldService, FieldSummary} {
		if msg, bad := errs[field]; bad {
			return nil, "", bot.Errorf(bot.EINVALID, "%s", msg)
		}
	}
	now := c.clock.Now()
	inc := &bot.Incident{
		Title:      strings.TrimSpace(in.Title),
		Summary:    strings.TrimSpace(in.Summary),
		Status:     bot.StatusOpen,
		Private:    in.Private,
		Platform:   in.Platform,
		DeclaredBy: in.DeclaredBy,
		DeclaredAt: now,
		DetectedAt: now,
		UpdatedAt:  now,
		Severity:   sev,
		Service:    service,
	}
	if err := inc.Validate(); err != nil {
		return nil, "", err
	}
	chat, err := c.chat(in.Platform)
	if err != nil {
		return nil, "", err
	}
	if !in.DetectedAt.IsZero() && in.DetectedAt.Before(now) {
		inc.DetectedAt = in.DetectedAt
	}
	declared := bot.NewEvent(bot.EventDeclared, in.DeclaredBy, now, fmt.Sprintf("Declared %s: %s", sev.Name, inc.Title))
	declared.Ref = in.Source
	events := []bot.Event{declared}
	commander := in.Commander
	if commander.IsZero() && !in.NoCommander {
		commander = in.DeclaredBy
	}
	if !commander.IsZero() {
		inc.Roles = map[bot.Role]bot.User{bot.RoleCommander: commander}
		role := bot.NewEvent(bot.EventRole, in.DeclaredBy, now, fmt.Sprintf("%s is commander", commander.Mention()))
		role.Meta = map[string]string{"role": string(bot.RoleCommander), "user": commander.ID}
		events = append(events, role)
	}
	for _, ev := range in.Events {
		ev.Time = now
		events = append(events, ev)
	}
	if err := c.store.CreateIncident(ctx, inc, events...); err != nil {
		return nil, "", bot.Internal(err, "klaxon could not save the incident, so it was not declared. Try again.")
	}

	log := c.log.With().Str("incident", inc.Key()).Logger()
	log.Info().Str("severity", sev.Name).Bool("private", inc.Private).Msg("incident declared")
	// Hooks hear of it whatever the chat platform does, with the channel
	// if there is one by then.
	defer func() { c.hooks.emit(ctx, bot.HookDeclared, inc, declared.Text, nil) }()
	c.scheduleReminders(ctx, inc)
	w := &warnings{log: log}

	// Until the new channel is recorded, activity in it would look like
	// activity elsewhere: Record waits for the gate instead of dropping it.
	c.declaring.Add(1)
	c.channelGate.RLock()
	ch, err := c.createChannel(ctx, chat, inc)
	if err != nil {
		c.channelGate.RUnlock()
		c.declaring.Add(-1)
		w.add(err, "klaxon could not create the incident channel")
		return inc, w.text(), nil
	}
	updated, err := c.store.UpdateIncident(ctx, inc.ID, func(i *bot.Incident) ([]bot.Event, error) {
		i.Channel = ch
		return []bot.Event{bot.NewEvent(bot.EventChannel, bot.User{}, c.clock.Now(), "Channel #"+ch.Name+" created")}, nil
	})
	c.channelGate.RUnlock()
	c.declaring.Add(-1)
	if err != nil {
		w.add(err, "klaxon could not record the incident channel #"+ch.Name)
		return inc, w.text(), nil
	}
	inc = updated

	if invite := uniqueIDs(in.DeclaredBy, commander); len(invite) > 0 {
		w.add(chat.Invite(ctx, ch.ID, invite...), "klaxon could not invite the responders")
	}
	inc = c.postSummary(ctx, chat, inc, w)
	if !inc.Private {
		if announce := c.cfg.Announce[inc.Platform]; announce != "" {
			_, err := chat.Post(ctx, announce, Announcement(inc))
			w.add(err, "klaxon could not post the announcement")
		}
	}
	paged := ""
	if c.paging != nil {
		paged = c.paging.declared(ctx, inc)
	}
	return inc, paged + w.text(), nil
}

// service resolves a service name against the catalogue.
func (c *Incidents) service(name string) (string, error) {
	if len(c.cfg.Services) == 0 {
		slug := bot.Slug(name, 40)
		if slug == "" {
			return "", bot.Errorf(bot.EINVALID, "%q is not a usable service name; use letters and digits.", name)
		}
		return slug, nil
	}
	svc, ok := c.cfg.Services.Find(name)
	if !ok {
		return "", bot.Errorf(bot.EINVALID, "There is no service %q. Known services: %s.", name, c.cfg.Services.IDs())
	}
	return svc.ID, nil
}

// createChannel creates the incident's channel, trying a suffixed name when
// the name is taken.
func (c *Incidents) createChannel(ctx context.Context, chat bot.Chat, inc *bot.Incident) (bot.ChannelRef, error) {
	const attempts = 10
	for attempt := 1; attempt <= attempts; attempt++ {
		name := ChannelName(c.cfg.ChannelPattern, inc, attempt)
		ch, err := chat.CreateChannel(ctx, bot.ChannelSpec{Name: name, Topic: Topic(inc), Purpose: Purpose(inc), Private: inc.Private})
		if errors.Is(err, bot.ErrNameTaken) {
			continue
		}
		return ch, err
	}
	return bot.ChannelRef{}, bot.Errorf(bot.ECONFLICT, "%d channel names for %s were all taken", attempts, inc.Key())
}

// postSummary posts and pins the live summary and remembers where it is.
func (c *Incidents) postSummary(ctx context.Context, chat bot.Chat, inc *bot.Incident, w *warnings) *bot.Incident {
	ref, err := chat.Post(ctx, inc.Channel.ID, SummaryMessage(inc, c.clock.Now()))
	if err != nil {
		w.add(err, "klaxon could not post the incident summary")
		return inc
	}
	w.add(chat.Pin(ctx, ref), "klaxon could not pin the incident summary")
	updated, err := c.store.UpdateIncident(ctx, inc.ID, func(i *bot.Incident) ([]bot.Event, error) {
		i.SummaryRef = ref
		return nil, nil
	})
	if err != nil {
		w.add(err, "klaxon could not record the summary message; it will not update itself")
		return inc
	}
	return updated
}

func uniqueIDs(users ...bot.User) []string {
	var ids []string
	seen := map[string]bool{}
	for _, u := range users {
		if u.ID != "" && !u.IsSystem() && !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	return ids
}
