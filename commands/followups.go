package commands

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
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

func (c *Incidents) registerFollowUps(m *bot.Mux) {
	if c.followups == nil {
		return
	}
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

func (c *Incidents) handleFollowUp(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.target(ctx, req)
	if err != nil {
		return nil, err
	}
	text, owner, due, err := ParseFollowUp(args)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	f := &bot.FollowUp{IncidentID: inc.ID, Incident: inc.Key(), Platform: req.Platform, Text: text, Owner: owner, Due: due, Created: now, CreatedBy: req.User}
	ev := bot.NewEvent(bot.EventFollowUp, req.User, now, text)
	ev.Highlight = true
	draft := *f
	err = c.store.Update(ctx, func(tx bot.Tx) error {
		draft = *f
		if err := tx.AddFollowUp(&draft, ev); err != nil {
			return err
		}
		return c.follow(tx, Change{Kind: bot.EventFollowUp, Incident: inc, Who: req.User, Platform: req.Platform, Text: text, At: now, Extra: followUpExtra(&draft)})
	})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not save the follow-up. Try again.")
	}
	f = &draft
	c.committed()
	return &bot.Response{InChannel: true, Message: followUpMessage(f, now)}, nil
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
	if f.Done {
		line = "~" + line + "~ ✅ done"
	}
	return line
}

func (c *Incidents) handleFollowUps(ctx context.Context, req *bot.Request) (*bot.Response, error) {
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
	all, err := c.followups.FollowUps(ctx)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the follow-ups.")
	}
	now := c.clock.Now()
	var lines []string
	for _, f := range all {
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
		return bot.Reply("No %s follow-ups.", filter), nil
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

func (c *Incidents) followUpState(done bool) bot.HandlerFunc {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if len(req.Args) != 1 {
			return nil, bot.Errorf(bot.EINVALID, "Name one follow-up, e.g. F-3.")
		}
		n, ok := parseFollowUpKey(req.Args[0])
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "%q is not a follow-up like F-3.", req.Args[0])
		}
		f, err := c.setFollowUp(ctx, n, done, req.User)
		if err != nil {
			return nil, err
		}
		return &bot.Response{Message: followUpMessage(f, c.clock.Now())}, nil
	}
}

func (c *Incidents) actFollowUp(done bool) bot.ActionFunc {
	return func(ctx context.Context, a bot.Action) (*bot.Response, error) {
		n, ok := parseFollowUpKey(a.Value)
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "That button does not name a follow-up.")
		}
		f, err := c.setFollowUp(ctx, n, done, a.User)
		if err != nil {
			return nil, err
		}
		if chat, err := c.chat(a.Platform); err == nil && !a.Message.IsZero() {
			if err := chat.Update(ctx, a.Message, followUpMessage(f, c.clock.Now())); err != nil {
				c.log.Warn().Err(err).Msg("updating a follow-up message")
			}
		}
		return nil, nil
	}
}

func (c *Incidents) setFollowUp(ctx context.Context, n int64, done bool, by bot.User) (*bot.FollowUp, error) {
	now := c.clock.Now()
	return c.followups.UpdateFollowUp(ctx, n, func(f *bot.FollowUp) error {
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
		return nil
	})
}

// RemindOverdueFollowUps DMs each owner the list of their overdue
// follow-ups. klaxon runs it daily.
func (c *Incidents) RemindOverdueFollowUps(ctx context.Context, now time.Time) int {
	if c.followups == nil {
		return 0
	}
	all, err := c.followups.FollowUps(ctx)
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
	sent := 0
	for o, lines := range byOwner {
		chat, err := c.chat(o.p)
		if err != nil {
			continue
		}
		msg := bot.Message{Title: "📋 Overdue follow-ups", Text: strings.Join(lines, "\n"), Context: "`/followup done F-n` when it is done"}
		if _, err := chat.DM(ctx, o.id, msg); err != nil {
			c.log.Warn().Err(err).Str("owner", o.id).Msg("reminding of overdue follow-ups")
			continue
		}
		sent++
	}
	return sent
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
