package commands

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/tickets"
)

// Follow-up buttons.
const (
	ActionFollowUpDone   = "klaxon.followup.done"
	ActionFollowUpReopen = "klaxon.followup.reopen"
)

var (
	followUpFilter = bot.Param{Name: "filter", Desc: "mine, open, overdue or all (default: open)", Usage: "[mine|open|overdue|all]"}
	followUpID     = bot.Param{Name: "id", Desc: "The follow-up, e.g. F-3", Required: true, Usage: "F-n"}
)

func (c *FollowUps) register(m *bot.Mux) {
	m.Register(
		bot.Command{Name: "incident followup", Params: []bot.Param{bot.IncidentParam,
			{Name: "text", Desc: "What should be done", Required: true},
			{Name: "owner", Desc: "Who owns it", Kind: bot.ParamUser},
			{Name: "due", Desc: "Due date, e.g. 2026-12-01", Key: "due", Usage: "[due:2026-12-01]"}}, Summary: "Add an action item (it outlives the incident).", Handler: c.handleFollowUp},
		bot.Command{Name: "followups", Params: []bot.Param{followUpFilter}, AliasOf: "followup list", Summary: "List follow-ups (default: open).", Handler: c.handleFollowUps},
		bot.Command{Name: "followup list", Params: []bot.Param{followUpFilter}, Summary: "The same as /followups.", Handler: c.handleFollowUps},
		bot.Command{Name: "followup done", Params: []bot.Param{followUpID}, Summary: "Mark a follow-up done.", Handler: c.followUpState(true)},
		bot.Command{Name: "followup reopen", Params: []bot.Param{followUpID}, Summary: "Reopen a follow-up.", Handler: c.followUpState(false)},
	)
	m.Describe("followup", "Follow-ups (action items)")
	m.HandleAction(ActionFollowUpDone, c.actFollowUp(true))
	m.HandleAction(ActionFollowUpReopen, c.actFollowUp(false))
}

// ParseFollowUp reads follow-up words: text, an optional @owner and an
// optional due:YYYY-MM-DD.
func ParseFollowUp(args []string) (text string, owner bot.User, due bot.Date, err error) {
	var words []string
	for _, a := range args {
		if _, v, ok := bot.SplitOption(a, "due"); ok {
			if due, err = bot.ParseDate(v); err != nil {
				return "", owner, due, bot.Errorf(bot.EINVALID, "`due:` needs a date like due:2026-12-01.")
			}
			continue
		}
		if u, ok := bot.ParseMention(a); ok && owner.IsZero() {
			owner = u
			continue
		}
		words = append(words, a)
	}
	text = strings.Join(words, " ")
	return text, owner, due, bot.ValidateText("follow-up", text)
}

func (c *FollowUps) handleFollowUp(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	text, owner, due, err := ParseFollowUp(args)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	// A date already past is a typo; the owner is someone klaxon knows
	// (when it knows anyone), so the reminders reach them.
	if due != (bot.Date{}) && due.DaysSince(bot.DateOf(now.UTC())) < -1 {
		return nil, bot.Errorf(bot.EINVALID, "The due date %s is in the past; give a later one, e.g. due:%s.", due, bot.DateOf(now.UTC()).AddDays(7))
	}
	if !owner.IsZero() && len(c.lc.cfg.People) > 0 {
		if _, ok := c.lc.cfg.People.Find(req.Platform, owner.ID); !ok {
			return nil, bot.Errorf(bot.EINVALID, "%s is not in klaxon's list of people, so reminders could not reach them; add them under `people:`, or name someone who is.", owner.Mention())
		}
	}
	f := &bot.FollowUp{IncidentID: inc.ID, Incident: inc.Key(), Platform: req.Platform, Text: text, Owner: owner, Due: due, Created: now, CreatedBy: req.User}
	tracker, refused := c.lc.cfg.Trackers.ForIncident(inc)
	if tracker != "" {
		f.Ticket = &bot.Ticket{Tracker: tracker} // made by the outbox
	}
	ev := bot.NewEvent(bot.EventFollowUp, req.User, now, text)
	ev.Highlight = true
	draft := *f
	err = c.store.Update(ctx, func(tx bot.Tx) error {
		draft = *f
		if err := tx.AddFollowUp(&draft, ev); err != nil {
			return err
		}
		if err := tx.Enqueue(tickets.Jobs(&draft, bot.OpTicket, now)...); err != nil {
			return err
		}
		return c.lc.follow(tx, bot.Change{Kind: bot.EventFollowUp, Incident: inc, Who: req.User, Platform: req.Platform, Text: text, At: now, Extra: followUpExtra(&draft)})
	})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not save the follow-up. Try again.")
	}
	f = &draft
	c.lc.committed()
	m := followUpMessage(f, now)
	switch {
	case f.Ticket != nil:
		m.Context = "A ticket in " + f.Ticket.Tracker + " is on its way; its link follows here."
	case refused != "":
		m.Context = "No ticket in " + refused + ": " + inc.Key() + " is private, and that tracker takes no private follow-ups (trackers[].private_followups)."
	}
	return &bot.Response{InChannel: true, Message: m}, nil
}

// followUpMessage shows one follow-up with its button.
func followUpMessage(f *bot.FollowUp, now time.Time) bot.Message {
	m := bot.Message{Text: "📋 " + followUpLine(f, now)}
	if f.Done {
		m.Buttons = []bot.Button{{ActionID: ActionFollowUpReopen, Label: "Reopen", Value: strconv.FormatInt(f.Number, 10)}}
	} else {
		m.Buttons = []bot.Button{{ActionID: ActionFollowUpDone, Label: "Done", Value: strconv.FormatInt(f.Number, 10), Style: bot.ButtonPrimary}}
	}
	return m
}

func followUpLine(f *bot.FollowUp, now time.Time) string {
	line := fmt.Sprintf("*%s* (%s) %s", f.Key(), f.Incident, f.Text)
	if !f.Owner.IsZero() {
		line += " · owner " + f.Owner.Mention()
	}
	if f.Due != (bot.Date{}) {
		line += " · due " + f.Due.String()
		if f.Overdue(now, time.UTC) {
			line += " ⚠️ overdue"
		}
	}
	if f.Ticket.Made() {
		line += " · 🎫 " + tickets.Link(f.Ticket)
	}
	if f.Done {
		line = "~" + line + "~ ✅ done"
	}
	return line
}

func (c *FollowUps) handleFollowUps(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	filter := "open"
	if len(req.Args) > 1 {
		return nil, bot.Errorf(bot.EINVALID, "Pick one of mine, open, overdue, all.")
	}
	if len(req.Args) == 1 {
		filter = strings.ToLower(req.Args[0])
	}
	if !slices.Contains([]string{"mine", "open", "overdue", "all"}, filter) {
		return nil, bot.Errorf(bot.EINVALID, "%q is not one of mine, open, overdue, all.", filter)
	}
	all, err := c.store.FollowUps(ctx)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the follow-ups.")
	}
	now := c.clock.Now()
	who := requester(req)
	incs := map[uuid.UUID]*bot.Incident{}
	var lines []string
	for _, f := range all {
		if !c.maySee(ctx, f, who, incs) {
			continue
		}
		keep := false
		switch filter {
		case "mine":
			keep = !f.Done && f.Owner.ID == req.User.ID
		case "open":
			keep = !f.Done
		case "overdue":
			keep = f.Overdue(now, time.UTC)
		case "all":
			keep = true
		}
		if keep {
			lines = append(lines, followUpLine(f, now))
		}
	}
	if len(lines) == 0 {
		return bot.Reply("%s", map[string]string{"mine": "You have no open follow-ups.", "open": "No open follow-ups.",
			"overdue": "No follow-ups are overdue.", "all": "No follow-ups yet."}[filter]), nil
	}
	if len(lines) > maxTimelineLines {
		lines = append(lines[:maxTimelineLines], fmt.Sprintf("… and %d more", len(lines)-maxTimelineLines))
	}
	return &bot.Response{Message: bot.Message{Title: fmt.Sprintf("📋 Follow-ups (%s)", filter), Text: strings.Join(lines, "\n"),
		Context: "`/followup done F-n` or `/followup reopen F-n`"}}, nil
}

func parseFollowUpKey(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(s), "F-"), 10, 64)
	return n, err == nil && n > 0
}

func (c *FollowUps) followUpState(done bool) bot.HandlerFunc {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if len(req.Args) != 1 {
			return nil, bot.Errorf(bot.EINVALID, "Name one follow-up, e.g. F-3.")
		}
		n, ok := parseFollowUpKey(req.Args[0])
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "%q is not a follow-up like F-3.", req.Args[0])
		}
		f, err := c.setFollowUp(ctx, n, done, requester(req), nil)
		if err != nil {
			return nil, err
		}
		return &bot.Response{Message: followUpMessage(f, c.clock.Now())}, nil
	}
}

func (c *FollowUps) actFollowUp(done bool) bot.ActionFunc {
	return func(ctx context.Context, a bot.Action) (*bot.Response, error) {
		n, ok := parseFollowUpKey(a.Value)
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "That button does not name a follow-up.")
		}
		// The button's message shows the new state: an update job with the change.
		var update *bot.Job
		if !a.Message.IsZero() {
			j := bot.ChatJob(a.Platform, "channel:"+a.Message.Channel, bot.OpUpdate, c.clock.Now())
			j.Ref = a.Message
			update = &j
		}
		if _, err := c.setFollowUp(ctx, n, done, bot.Actor{User: a.User, Platform: a.Platform, Channel: a.Channel}, update); err != nil {
			return nil, err
		}
		return nil, nil
	}
}

// maySee reports whether who may see follow-up f: anyone, unless its
// incident is private; then whoever may see the incident, and its owner.
// incs caches the incidents read.
func (c *FollowUps) maySee(ctx context.Context, f *bot.FollowUp, who bot.Actor, incs map[uuid.UUID]*bot.Incident) bool {
	inc, ok := incs[f.IncidentID]
	if !ok {
		var err error
		if inc, err = c.store.Incident(ctx, f.IncidentID); err != nil {
			return false
		}
		incs[f.IncidentID] = inc
	}
	return c.lc.MayAccess(ctx, inc, who) || (f.Owner.ID != "" && f.Owner.ID == who.User.ID)
}

// maySeeToClose says why who may not mark follow-up n done or open
// because they may not see it, or nil: a private incident's follow-ups
// are for whoever may see the incident, and their owner. It reads outside
// any transaction (who may see an incident reads its pages).
func (c *FollowUps) maySeeToClose(ctx context.Context, n int64, who bot.Actor) error {
	f, err := c.store.FollowUp(ctx, n)
	if err != nil {
		return err
	}
	if c.maySee(ctx, f, who, map[uuid.UUID]*bot.Incident{}) || who.User.SeesAll() {
		return nil
	}
	return bot.Errorf(bot.EFORBIDDEN, "%s belongs to %s, which is private: only its members can see or change it.", f.Key(), f.Incident)
}

// mayClose says why who may not mark follow-up f of inc done or open,
// or nil, in the transaction that would: under
// incidents.restrict_lifecycle a private incident's follow-ups are for its
// role holders, the admins and the follow-up's owner.
func (c *FollowUps) mayClose(tx bot.Tx, inc *bot.Incident, f *bot.FollowUp, who bot.Actor) error {
	if !inc.Private || who.User.SeesAll() || (f.Owner.ID != "" && f.Owner.ID == who.User.ID) {
		return nil
	}
	return c.lc.mayChange(tx, inc, who, change{restricted: true})
}

// setFollowUp marks follow-up n done or open as who; update, when not
// nil, is a job that shows the new state (its Message is filled in),
// committed with the change.
func (c *FollowUps) setFollowUp(ctx context.Context, n int64, done bool, who bot.Actor, update *bot.Job) (*bot.FollowUp, error) {
	if err := c.maySeeToClose(ctx, n, who); err != nil {
		return nil, err
	}
	now := c.clock.Now()
	by := who.User
	var out *bot.FollowUp
	err := c.store.Update(ctx, func(tx bot.Tx) error {
		f, err := tx.FollowUp(n)
		if err != nil {
			return err
		}
		inc, err := tx.Incident(f.IncidentID)
		if err != nil {
			return err
		}
		if err := c.mayClose(tx, inc, f, who); err != nil {
			return err
		}
		if f.Done == done {
			state := "open"
			if done {
				state = "done"
			}
			return bot.Errorf(bot.ECONFLICT, "%s is already %s.", f.Key(), state)
		}
		f.Done = done
		if done {
			f.DoneAt, f.DoneBy = now, by
		} else {
			f.DoneAt, f.DoneBy = time.Time{}, bot.User{}
		}
		if err := tx.PutFollowUp(f); err != nil {
			return err
		}
		// The ticket follows: closed with the follow-up, reopened with it.
		if err := tx.Enqueue(tickets.Jobs(f, bot.OpTicketState, now)...); err != nil {
			return err
		}
		out = f
		if update == nil {
			return nil
		}
		j := *update
		j.Message = followUpMessage(f, now)
		return tx.Enqueue(j)
	})
	if err != nil {
		return nil, err
	}
	c.lc.committed()
	return out, nil
}

// RemindOverdueFollowUps queues a DM to each owner with the list of their
// overdue follow-ups, and returns how many. klaxon runs it daily.
func (c *FollowUps) RemindOverdueFollowUps(ctx context.Context, now time.Time) int {
	all, err := c.store.FollowUps(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("reading follow-ups")
		return 0
	}
	type owner struct {
		p  bot.Platform
		id string
	}
	byOwner := map[owner][]string{}
	for _, f := range all {
		if f.Overdue(now, time.UTC) && !f.Owner.IsZero() {
			o := owner{f.Platform, f.Owner.ID}
			byOwner[o] = append(byOwner[o], followUpLine(f, now))
		}
	}
	var jobs []bot.Job
	for o, lines := range byOwner {
		if _, err := c.lc.chat(o.p); err != nil {
			continue
		}
		j := bot.ChatJob(o.p, "dm:"+o.id, bot.OpDM, now)
		j.Users = []string{o.id}
		j.Message = bot.Message{Title: "📋 Overdue follow-ups", Text: strings.Join(lines, "\n"), Context: "`/followup done F-n` when it is done"}
		jobs = append(jobs, j)
	}
	if err := c.store.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(jobs...) }); err != nil {
		c.log.Error().Err(err).Msg("queueing the overdue follow-up reminders")
		return 0
	}
	c.lc.committed()
	return len(jobs)
}

// followUpExtra describes a follow-up for hook receivers.
func followUpExtra(f *bot.FollowUp) map[string]string {
	m := map[string]string{"followup": fmt.Sprintf("F-%d", f.Number)}
	if !f.Owner.IsZero() {
		m["owner"] = f.Owner.Name
	}
	if f.Due != (bot.Date{}) {
		m["due"] = f.Due.String()
	}
	return m
}
