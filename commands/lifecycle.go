package commands

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// Target finds the incident a command is about: "INC-n" as the first
// argument, else the incident whose channel the command was typed in.
func (c *Incidents) Target(ctx context.Context, req *bot.Request) (*bot.Incident, []string, error) {
	args := req.Args
	if len(args) > 0 {
		if n, ok := bot.ParseIncidentKey(args[0]); ok {
			inc, err := c.store.IncidentByNumber(ctx, n)
			if err == nil && !c.MayAccess(ctx, inc, requester(req)) {
				return nil, nil, privateError(inc)
			}
			return inc, args[1:], err
		}
	}
	inc, err := c.incidentByChannel(ctx, req.Platform, req.Channel.ID)
	if isNotFound(err) {
		return nil, nil, bot.Errorf(bot.EINVALID, "This is not an incident channel. Run the command in the incident's channel, or name the incident, e.g. `/%s INC-42`.", req.Command.Name)
	}
	if err != nil {
		return nil, nil, bot.Internal(err, "klaxon could not look up the incident.")
	}
	return inc, args, nil
}

// change is one lifecycle action on an incident.
type change struct {
	// apply changes inc (via its rule methods) and describes what happened.
	// It runs inside the store's write transaction.
	apply func(inc *bot.Incident, at time.Time) (kind bot.EventKind, text string, err error)
	// announce also tells the announcement channel, for public incidents.
	announce bool
	// invite names users to add to the channel once the change is saved;
	// inviteActor adds whoever made the change, when they act on the
	// incident's platform (an acknowledgement from a page DM).
	invite      []string
	inviteActor bool
	// meta goes on the timeline event.
	meta map[string]string
	// restricted changes need a role on the incident, or an admin, when
	// incidents.restrict_lifecycle is on.
	restricted bool
	// takesCommand is a role change making someone commander: allowed to
	// anyone while the incident has no commander.
	takesCommand bool
	// pagedMay lets whom the followers vouch for (the people paged, the
	// service's on-call) make a restricted change: acknowledging.
	pagedMay bool
	// at is when the change happens; zero: when its transaction runs.
	at time.Time
	// also writes what else the change must commit with it (a resolution's
	// postmortem draft and its upload), after its own jobs, in its
	// transaction.
	also func(tx bot.Tx, inc *bot.Incident) error
}

func requester(req *bot.Request) bot.Actor {
	return bot.Actor{User: req.User, Platform: req.Platform, Channel: req.Channel}
}

// run finds the request's incident, builds a change from the remaining
// arguments and applies it.
func (c *slash) run(ctx context.Context, req *bot.Request, build func(args []string) (change, error)) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	ch, err := build(args)
	if err != nil {
		return nil, err
	}
	return c.lc.apply(ctx, requester(req), inc.ID, ch)
}

// apply makes the change in one transaction with all its consequences:
// the timeline event, the reminders it moves, what its followers add
// (pages stopped, hook events), and the chat jobs that bring the channel up to date (invitations, summary,
// topic, a notice and, if asked, an announcement).
func (c *Incidents) apply(ctx context.Context, who bot.Actor, id uuid.UUID, ch change) (*bot.Response, error) {
	var (
		text string
		inc  *bot.Incident
	)
	err := c.store.Update(ctx, func(tx bot.Tx) error {
		prev, err := tx.Incident(id)
		if err != nil {
			return err
		}
		cur := *prev
		cur.Roles = maps.Clone(prev.Roles)
		if err := c.mayChange(tx, &cur, who, ch); err != nil {
			return err
		}
		at := ch.at
		if at.IsZero() {
			at = c.clock.Now()
		}
		kind, t, err := ch.apply(&cur, at)
		if err != nil {
			return err
		}
		ev := bot.NewEvent(kind, who.User, at, t)
		ev.Meta = ch.meta
		if err := tx.PutIncident(&cur); err != nil {
			return err
		}
		if err := tx.AppendEvents(cur.ID, ev); err != nil {
			return err
		}
		for _, r := range c.cfg.reminders(&cur) {
			if err := tx.SetReminder(r); err != nil {
				return err
			}
		}
		if err := c.follow(tx, bot.Change{Kind: kind, Incident: &cur, Who: who.User, Platform: who.Platform, Text: t, At: at, Public: ch.meta[bot.MetaPublic] == "true"}); err != nil {
			return err
		}
		notice := bot.Message{Text: fmt.Sprintf("%s %s", who.User.Mention(), t)}
		invite := ch.invite
		if ch.inviteActor && who.Platform == cur.Platform && !who.User.IsSystem() && who.Channel.ID != cur.Channel.ID {
			invite = append(slices.Clone(invite), who.User.ID)
		}
		if err := tx.Enqueue(c.publishJobs(&cur, notice, ch.announce, invite...)...); err != nil {
			return err
		}
		if ch.also != nil {
			if err := ch.also(tx, &cur); err != nil {
				return err
			}
		}
		text, inc = t, &cur
		return nil
	})
	if err != nil {
		if code := bot.ErrorCode(err); code != bot.EINTERNAL {
			return nil, err
		}
		return nil, bot.Internal(err, "klaxon could not save that change; nothing was changed. Try again.")
	}
	c.committed()
	notice := fmt.Sprintf("%s %s", who.User.Mention(), text)
	if who.Channel.ID == inc.Channel.ID && who.Platform == inc.Platform {
		return nil, nil // the notice in the channel is the reply
	}
	return bot.Reply("%s: %s", inc.Key(), notice), nil
}

// publishJobs are the chat jobs that bring inc's channel up to date after
// a change: invitations, the summary (coalesced), the topic, a notice and,
// if asked, an announcement.
func (c *Incidents) publishJobs(inc *bot.Incident, notice bot.Message, announce bool, invite ...string) []bot.Job {
	var jobs []bot.Job
	if len(invite) > 0 {
		j := c.job(inc, bot.OpInvite)
		j.Users = invite
		jobs = append(jobs, j)
	}
	jobs = append(jobs, c.job(inc, bot.OpSummary), c.job(inc, bot.OpTopic))
	if !notice.IsZero() {
		j := c.job(inc, bot.OpPost)
		j.Message = notice
		jobs = append(jobs, j)
	}
	if ch := c.cfg.Announce[inc.Platform]; announce && !inc.Private && ch != "" {
		j := c.job(inc, bot.OpPost)
		j.Channel, j.Announce = ch, true
		j.Message = bot.Message{Text: fmt.Sprintf("%s %s: %s — %s", SeverityIcon(inc.Severity), inc.Key(), inc.Title, notice.Text)}
		jobs = append(jobs, j)
	}
	return jobs
}

// The lifecycle changes. Each validates what it can before the transaction;
// the incident's own rules decide the rest inside it.

// PublicFlag marks a status update for the public status page.
const PublicFlag = "--public"

// publicUpdatePrefix starts a public update's timeline text.
const publicUpdatePrefix = "posted a public update (status page): "

func updateChange(text string, public bool) (change, error) {
	if err := bot.ValidateText("update", text); err != nil {
		return change{}, err
	}
	ch := change{apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if public && inc.Private {
			return "", "", bot.Errorf(bot.EINVALID, "%s is private: it is not on the status page, so its updates cannot be public.", inc.Key())
		}
		if err := inc.PostUpdate(text, at); err != nil {
			return "", "", err
		}
		if public {
			inc.Unlisted = false // a person chose to tell the public
			inc.PublicUpdates = append(slices.Clip(inc.PublicUpdates), bot.PublicUpdate{Time: at.UTC(), Text: bot.CleanText(text)})
			return bot.EventUpdate, publicUpdatePrefix + text, nil
		}
		return bot.EventUpdate, "posted an update: " + text, nil
	}}
	if public {
		// A public update shows on the status page and in the announcement
		// channel: restrict_lifecycle keeps it to role holders.
		ch.meta, ch.announce, ch.restricted = map[string]string{bot.MetaPublic: "true"}, true, true
	}
	return ch, nil
}

func severityChange(sev bot.Severity) change {
	return change{restricted: true, announce: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		prev, err := inc.SetSeverity(sev, at)
		if err != nil {
			return "", "", err
		}
		verb := "raised"
		if sev.Level > prev.Level {
			verb = "lowered"
		}
		return bot.EventSeverity, fmt.Sprintf("%s the severity from %s to *%s* (%s)", verb, prev.Name, sev.Name, sev.Label), nil
	}}
}

func roleChange(role bot.Role, u bot.User) change {
	return change{restricted: true, takesCommand: role == bot.RoleCommander, invite: []string{u.ID}, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		prev, err := inc.AssignRole(role, u, at)
		if err != nil {
			return "", "", err
		}
		text := fmt.Sprintf("made %s the %s", u.Mention(), role)
		if !prev.IsZero() {
			text += fmt.Sprintf(" (was %s)", prev.Mention())
		}
		return bot.EventRole, text, nil
	}}
}

func ackChange(by bot.User) change {
	return change{restricted: true, pagedMay: true, inviteActor: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if err := inc.Acknowledge(by, at); err != nil {
			return "", "", err
		}
		return bot.EventAcknowledged, fmt.Sprintf("%s acknowledged %s after %s", inc.Status.Emoji(), inc.Key(), bot.Duration(at.Sub(inc.DeclaredAt))), nil
	}}
}

func mitigateChange() change {
	return change{restricted: true, announce: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if err := inc.Mitigate(at); err != nil {
			return "", "", err
		}
		return bot.EventMitigated, fmt.Sprintf("%s mitigated %s after %s", inc.Status.Emoji(), inc.Key(), bot.Duration(at.Sub(inc.DeclaredAt))), nil
	}}
}

func resolveChange(summary string) change {
	return change{restricted: true, announce: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if err := inc.Resolve(at, summary); err != nil {
			return "", "", err
		}
		text := fmt.Sprintf("%s resolved %s after %s", inc.Status.Emoji(), inc.Key(), bot.Duration(at.Sub(inc.DeclaredAt)))
		if summary != "" {
			text += ": " + summary
		}
		return bot.EventResolved, text, nil
	}}
}

func reopenChange(reason string) change {
	return change{restricted: true, announce: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if reason != "" {
			if err := bot.ValidateText("reason", reason); err != nil {
				return "", "", err
			}
		}
		if err := inc.Reopen(at); err != nil {
			return "", "", err
		}
		text := fmt.Sprintf("%s reopened %s", inc.Status.Emoji(), inc.Key())
		if reason != "" {
			text += ": " + reason
		}
		return bot.EventReopened, text, nil
	}}
}

func closeChange() change {
	return change{restricted: true, apply: func(inc *bot.Incident, at time.Time) (bot.EventKind, string, error) {
		if err := inc.Close(at); err != nil {
			return "", "", err
		}
		return bot.EventClosed, fmt.Sprintf("%s closed %s", inc.Status.Emoji(), inc.Key()), nil
	}}
}

// The slash-command handlers: parse arguments, then apply a change.

func (c *slash) handleUpdate(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return c.run(ctx, req, func(args []string) (change, error) {
		public := len(args) > 0 && args[0] == PublicFlag
		if public {
			args = args[1:]
		}
		return updateChange(strings.Join(args, " "), public)
	})
}

func (c *slash) handleSeverity(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return c.run(ctx, req, func(args []string) (change, error) {
		if len(args) != 1 {
			return change{}, bot.Errorf(bot.EINVALID, "Name one severity: %s.", c.lc.cfg.Severities.Names())
		}
		sev, err := c.lc.cfg.Severities.Parse(args[0])
		if err != nil {
			return change{}, err
		}
		return severityChange(sev), nil
	})
}

func (c *slash) handleRole(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return c.run(ctx, req, func(args []string) (change, error) {
		if len(args) != 2 {
			return change{}, bot.Errorf(bot.EINVALID, "Name a role and a person, e.g. `/incident role comms @alice`.")
		}
		role, err := bot.ParseRole(args[0], c.lc.cfg.Roles)
		if err != nil {
			return change{}, err
		}
		u, ok := bot.ParseMention(args[1])
		if !ok {
			return change{}, bot.Errorf(bot.EINVALID, "`%s` is not a person; mention them, e.g. `@alice`.", args[1])
		}
		return roleChange(role, u), nil
	})
}

// simple makes a handler for a change that takes no arguments.
func (c *slash) simple(ch change) bot.HandlerFunc {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return c.run(ctx, req, func(args []string) (change, error) {
			if len(args) > 0 {
				return change{}, bot.Errorf(bot.EINVALID, "`%s` takes no text (got %q).", req.Command.Name, strings.Join(args, " "))
			}
			return ch, nil
		})
	}
}

func (c *slash) handleReopen(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return c.run(ctx, req, func(args []string) (change, error) { return reopenChange(strings.Join(args, " ")), nil })
}

func (c *slash) handleResolve(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	summary := strings.Join(args, " ")
	if summary != "" {
		if err := bot.ValidateText("summary", summary); err != nil {
			return nil, err
		}
	}
	return c.lc.resolve(ctx, requester(req), inc.ID, summary)
}

// Mitigate marks incident id mitigated as who, as /incident mitigate does.
func (c *Incidents) Mitigate(ctx context.Context, who bot.Actor, id uuid.UUID) (*bot.Response, error) {
	return c.apply(ctx, who, id, mitigateChange())
}

// Severities are the configured severity levels.
func (c *Incidents) Severities() bot.Severities { return c.cfg.Severities }

// resolve resolves the incident (its followers close its pages) and
// posts the postmortem draft, as one change: the draft is rendered once,
// before the transaction, from the timeline and the resolution itself,
// and the transaction that resolves stores it and queues its upload. A
// draft that cannot be rendered does not stop the resolution; the reply
// says so.
func (c *Incidents) resolve(ctx context.Context, who bot.Actor, id uuid.UUID, summary string) (*bot.Response, error) {
	ch := resolveChange(summary)
	ch.at = c.clock.Now()
	draft, derr := c.draftFor(ctx, who, id, ch)
	if draft != nil {
		ch.also = func(tx bot.Tx, inc *bot.Incident) error { return c.reports.storeDraft(tx, inc, draft) }
	}
	resp, err := c.apply(ctx, who, id, ch)
	if err != nil || derr == nil {
		return resp, err
	}
	c.log.Warn().Err(derr).Str("incident", id.String()).Msg("rendering the postmortem draft")
	warn := "⚠️ klaxon could not make the postmortem draft (" + bot.ErrorMessage(derr) + "). Try `/incident postmortem`."
	if resp == nil {
		return bot.Reply("%s", warn), nil
	}
	resp.Text += "\n" + warn
	return resp, nil
}

// draftFor renders the postmortem draft of incident id as it will be once
// ch is made: the stored timeline and ch's own event. It returns nil (and
// no error) when ch cannot be made; the change itself then says why.
func (c *Incidents) draftFor(ctx context.Context, who bot.Actor, id uuid.UUID, ch change) ([]byte, error) {
	prev, err := c.store.Incident(ctx, id)
	if err != nil {
		return nil, nil
	}
	cur := *prev
	cur.Roles = maps.Clone(prev.Roles)
	kind, text, err := ch.apply(&cur, ch.at)
	if err != nil {
		return nil, nil
	}
	pm, err := c.reports.Postmortem(ctx, &cur, bot.NewEvent(kind, who.User, ch.at, text))
	if err != nil {
		return nil, err
	}
	return pm.Markdown, nil
}

func (c *slash) handleAck(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		return nil, bot.Errorf(bot.EINVALID, "`ack` takes no text.")
	}
	return c.lc.Acknowledge(ctx, requester(req), inc.ID)
}

// Acknowledge records that who is on the incident; its followers stop
// its paging, and may refuse who (only the people paged may acknowledge
// while a page escalates). A second acknowledgement changes nothing but a
// page still open (one started after the first).
func (c *Incidents) Acknowledge(ctx context.Context, who bot.Actor, id uuid.UUID) (*bot.Response, error) {
	resp, err := c.apply(ctx, who, id, ackChange(who.User))
	if bot.ErrorCode(err) != bot.ECONFLICT {
		return resp, err
	}
	uerr := c.store.Update(ctx, func(tx bot.Tx) error {
		inc, err := tx.Incident(id)
		if err != nil {
			return err
		}
		return c.follow(tx, bot.Change{Kind: bot.EventAcknowledged, Incident: inc, Who: who.User, Platform: who.Platform, At: c.clock.Now(), Again: true})
	})
	if uerr != nil {
		return nil, uerr
	}
	c.committed()
	return resp, err
}

// summary is the live summary, with what followers add (who was paged and
// how it went).
func (c *Incidents) summary(ctx context.Context, inc *bot.Incident) bot.Message {
	m := SummaryMessage(inc, c.clock.Now())
	m.Fields = append(m.Fields, c.cfg.typeSummary(inc)...)
	if link := CallLink(c.cfg.CallURL, inc); link != "" && inc.Status.Active() {
		m.Fields = append(m.Fields, bot.Field{Label: "Call", Value: "📞 " + link})
	}
	m.Fields = append(m.Fields, c.SummaryFields(ctx, inc)...)
	return m
}

func (c *slash) handleNote(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	text := strings.Join(args, " ")
	if err := bot.ValidateText("note", text); err != nil {
		return nil, err
	}
	ev := bot.NewEvent(bot.EventNote, req.User, c.clock.Now(), text)
	ev.IncidentID, ev.Highlight = inc.ID, true
	if err := c.store.Update(ctx, func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, ev) }); err != nil {
		return nil, bot.Internal(err, "klaxon could not save the note. Try again.")
	}
	return bot.Reply("📌 Noted on the %s timeline as a key event.", inc.Key()), nil
}

func (c *slash) handleStatus(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		return nil, bot.Errorf(bot.EINVALID, "`status` takes no text.")
	}
	m := SummaryMessage(inc, c.clock.Now())
	m.Fields = append(m.Fields, c.lc.cfg.typeSummary(inc)...)
	m.Buttons = nil
	if n, err := c.store.CountEvents(ctx, inc.ID); err == nil {
		m.Context = fmt.Sprintf("%d timeline events · %s", n, m.Context)
	}
	if line := c.pendingLine(ctx, inc); line != "" {
		m.Fields = append(m.Fields, bot.Field{Label: "Still to do in chat", Value: line})
	}
	return &bot.Response{Message: m}, nil
}

// pendingLine says what the outbox still has to do for inc, and what the
// platform refused.
func (c *slash) pendingLine(ctx context.Context, inc *bot.Incident) string {
	jobs, err := c.store.PendingJobs(ctx, inc.ID)
	if err != nil {
		return ""
	}
	var lines []string
	for _, j := range jobs {
		switch {
		case j.Status == bot.JobFailed:
			lines = append(lines, fmt.Sprintf("✗ %s: %s", describe(j), j.LastError))
		case j.Attempts > 0:
			lines = append(lines, fmt.Sprintf("⏳ %s (tried %d×, next %s: %s)", describe(j), j.Attempts, bot.ChatTime(j.NextAttempt), j.LastError))
		default:
			lines = append(lines, "⏳ "+describe(j))
		}
	}
	return strings.Join(capLines(lines), "\n")
}

func (c *slash) handleList(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	f := bot.IncidentFilter{ActiveOnly: true}
	switch {
	case len(req.Args) == 0:
	case len(req.Args) == 1 && strings.EqualFold(req.Args[0], "all"):
		f = bot.IncidentFilter{Limit: 25}
	default:
		return nil, bot.Errorf(bot.EINVALID, "`list` takes nothing or `all`.")
	}
	incs, err := c.store.ListIncidents(ctx, f)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the incident list.")
	}
	// Private incidents are listed only to their members.
	who := requester(req)
	incs = slices.DeleteFunc(incs, func(inc *bot.Incident) bool { return !c.lc.MayAccess(ctx, inc, who) })
	if len(incs) == 0 {
		if f.ActiveOnly {
			return bot.Reply("✅ No open incidents. (`/incident list all` shows past ones.)"), nil
		}
		return bot.Reply("No incidents yet."), nil
	}
	now := c.clock.Now()
	lines := make([]string, len(incs))
	for i, inc := range incs {
		lines[i] = ListLine(inc, now, true)
	}
	title := bot.Count(len(incs), "open incident")
	if !f.ActiveOnly {
		title = "Latest " + bot.Count(len(incs), "incident")
	}
	return &bot.Response{Message: bot.Message{Title: title, Text: strings.Join(lines, "\n")}}, nil
}

// IsAdmin reports whether who is one of incidents.admins (a person id or
// a chat user id).
func (c *Incidents) IsAdmin(who bot.Actor) bool { return c.cfg.isAdmin(who) }

// isAdmin reports whether who is one of the policy's admins.
func (cfg *Config) isAdmin(who bot.Actor) bool {
	for _, admin := range cfg.Admins {
		if admin == who.User.ID {
			return true
		}
		if p, ok := cfg.People.Get(admin); ok && p.UserID(who.Platform) == who.User.ID {
			return true
		}
	}
	return false
}

// MayAccess reports whether who may see and act on inc. A private
// incident is for its members: whoever acts from inside its channel (the
// platform keeps others out), its role holders, whoever declared it, the
// admins and klaxon itself. Public incidents are for everyone. Chat, the
// API and the web console ask it before they show a private incident.
func (c *Incidents) MayAccess(ctx context.Context, inc *bot.Incident, who bot.Actor) bool {
	switch {
	case !inc.Private, who.User.SeesAll(), c.IsAdmin(who):
		return true
	case !inc.Channel.IsZero() && who.Channel.ID == inc.Channel.ID && who.Platform == inc.Platform:
		return true
	case who.User.ID != "" && who.User.ID == inc.DeclaredBy.ID:
		return true
	}
	for _, u := range inc.Roles {
		if u.ID == who.User.ID {
			return true
		}
	}
	// People named in the type's user fields, and those its followers count
	// (the people paged), are members too.
	for _, f := range c.cfg.incidentType(inc).Fields {
		if f.Kind == bot.CustomUser && inc.Fields[f.ID] != "" && inc.Fields[f.ID] == who.User.ID {
			return true
		}
	}
	for _, f := range c.followers {
		if m, ok := f.(bot.Member); ok && m.HasMember(ctx, inc, who) {
			return true
		}
	}
	return false
}

// privateError is what outsiders get for a private incident: no title,
// no channel, no change.
func privateError(inc *bot.Incident) error {
	return bot.Errorf(bot.EFORBIDDEN, "%s is private: only the people in its channel, its role holders and the admins can see or change it.", inc.Key())
}

// mayChange enforces incidents.restrict_lifecycle: every change that
// shows outside the channel (severity, roles, acknowledge, mitigate,
// resolve, reopen, close, a public update) is for the incident's role
// holders and the configured admins; acknowledging also for the people
// paged and the service's on-call. Anyone may take command of an incident
// that has no commander, and system actors (alerts) are not restricted.
func (c *Incidents) mayChange(tx bot.Tx, inc *bot.Incident, who bot.Actor, ch change) error {
	if !ch.restricted || !c.cfg.RestrictLifecycle || who.User.IsSystem() {
		return nil
	}
	if _, ok := inc.Commander(); !ok && ch.takesCommand {
		return nil
	}
	if ch.pagedMay {
		for _, f := range c.followers {
			if v, ok := f.(bot.Voucher); ok && v.Vouches(tx, inc, who, c.clock.Now()) {
				return nil
			}
		}
	}
	for _, u := range inc.Roles {
		if u.ID == who.User.ID {
			return nil
		}
	}
	if c.IsAdmin(who) {
		return nil
	}
	holders := "its commander"
	if cmdr, ok := inc.Commander(); ok {
		holders = cmdr.Mention() + " (commander)"
	}
	return bot.Errorf(bot.EFORBIDDEN, "Only people with a role on %s (%s) or an admin can do that here. Ask them, or ask to be given a role.", inc.Key(), holders)
}
