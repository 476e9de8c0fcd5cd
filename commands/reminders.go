package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// commanderNagAgain is how often an incident without a commander is
// nagged after the first time.
const commanderNagAgain = 15 * time.Minute

// lastUpdate is when the incident last got a status update (or was declared).
func lastUpdate(inc *bot.Incident) time.Time {
	if inc.LastUpdateAt.After(inc.DeclaredAt) {
		return inc.LastUpdateAt
	}
	return inc.DeclaredAt
}

// scheduleReminders sets the incident's reminder rows from its state: an
// update reminder an interval after the last update (by severity), and a
// nag if nobody is commander.
func (c *Incidents) scheduleReminders(ctx context.Context, inc *bot.Incident) {
	if c.reminders == nil {
		return
	}
	if !inc.Status.Active() {
		c.clearReminders(ctx, inc)
		return
	}
	if every := c.cfg.UpdateEvery[inc.Severity.Name]; every > 0 {
		if err := c.reminders.SetReminder(ctx, inc.ID, bot.RemindUpdate, lastUpdate(inc).Add(every)); err != nil {
			c.log.Error().Err(err).Msg("scheduling an update reminder")
		}
	} else {
		c.reminders.DeleteReminder(ctx, inc.ID, bot.RemindUpdate)
	}
	if _, ok := inc.Commander(); !ok && c.cfg.CommanderNag > 0 {
		if err := c.reminders.SetReminder(ctx, inc.ID, bot.RemindCommander, inc.DeclaredAt.Add(c.cfg.CommanderNag)); err != nil {
			c.log.Error().Err(err).Msg("scheduling a commander reminder")
		}
	}
}

func (c *Incidents) clearReminders(ctx context.Context, inc *bot.Incident) {
	for _, k := range []string{bot.RemindUpdate, bot.RemindCommander} {
		if err := c.reminders.DeleteReminder(ctx, inc.ID, k); err != nil {
			c.log.Error().Err(err).Msg("clearing a reminder")
		}
	}
}

// Tick sends the reminders due at now. Each is checked against the
// incident first: an update posted meanwhile moves the reminder instead,
// and a resolved incident drops it.
func (c *Incidents) Tick(ctx context.Context, now time.Time) {
	if c.reminders == nil {
		return
	}
	due, err := c.reminders.DueReminders(ctx, now)
	if err != nil {
		c.log.Error().Err(err).Msg("reading due reminders")
		return
	}
	for _, r := range due {
		inc, err := c.store.Incident(ctx, r.IncidentID)
		if err != nil || !inc.Status.Active() {
			c.reminders.DeleteReminder(ctx, r.IncidentID, r.Kind)
			continue
		}
		switch r.Kind {
		case bot.RemindUpdate:
			every := c.cfg.UpdateEvery[inc.Severity.Name]
			if every <= 0 {
				c.reminders.DeleteReminder(ctx, inc.ID, r.Kind)
				continue
			}
			if next := lastUpdate(inc).Add(every); next.After(now) {
				c.reminders.SetReminder(ctx, inc.ID, r.Kind, next)
				continue
			}
			who := "Commander"
			if cmdr, ok := inc.Commander(); ok {
				who = cmdr.Mention()
			}
			c.remind(ctx, inc, fmt.Sprintf("⏰ %s: no update on %s for %s. Post one with `/incident update <what we know, what we're doing, next update at>`.",
				who, inc.Key(), bot.Duration(now.Sub(lastUpdate(inc)))))
			c.reminders.SetReminder(ctx, inc.ID, r.Kind, now.Add(every))
		case bot.RemindCommander:
			if _, ok := inc.Commander(); ok {
				c.reminders.DeleteReminder(ctx, inc.ID, r.Kind)
				continue
			}
			c.remind(ctx, inc, fmt.Sprintf("⚠️ %s has had no commander for %s. Take it with `/incident role commander @you`.", inc.Key(), bot.Duration(now.Sub(inc.DeclaredAt))))
			c.reminders.SetReminder(ctx, inc.ID, r.Kind, now.Add(commanderNagAgain))
		default:
			c.reminders.DeleteReminder(ctx, inc.ID, r.Kind)
		}
	}
}

func (c *Incidents) remind(ctx context.Context, inc *bot.Incident, text string) {
	chat, err := c.chat(inc.Platform)
	if err != nil || inc.Channel.IsZero() {
		return
	}
	if _, err := chat.Post(ctx, inc.Channel.ID, bot.Message{Text: text}); err != nil {
		c.log.Warn().Err(err).Str("incident", inc.Key()).Msg("posting a reminder")
	}
}
