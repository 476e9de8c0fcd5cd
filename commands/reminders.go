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

// reminders returns inc's reminder rows as they should be now: an update
// reminder an interval after the last update (by severity), and a nag if
// nobody is commander; a row with a zero time is one to cancel. They are
// written in the transaction of the change that moves them.
func (c *Incidents) reminders(inc *bot.Incident) []bot.Reminder {
	if c.reminderStore == nil {
		return nil
	}
	update := bot.Reminder{IncidentID: inc.ID, Kind: bot.RemindUpdate}
	nag := bot.Reminder{IncidentID: inc.ID, Kind: bot.RemindCommander}
	if !inc.Status.Active() {
		return []bot.Reminder{update, nag}
	}
	if every := c.cfg.UpdateEvery[inc.Severity.Name]; every > 0 {
		update.At = lastUpdate(inc).Add(every)
	}
	out := []bot.Reminder{update}
	if _, ok := inc.Commander(); !ok && c.cfg.CommanderNag > 0 {
		nag.At = inc.DeclaredAt.Add(c.cfg.CommanderNag)
		out = append(out, nag)
	}
	return out
}

// Tick sends the reminders due at now. Each is checked against the
// incident first: an update posted meanwhile moves the reminder instead,
// and a resolved incident drops it.
func (c *Incidents) Tick(ctx context.Context, now time.Time) {
	if c.reminderStore == nil {
		return
	}
	due, err := c.reminderStore.DueReminders(ctx, now)
	if err != nil {
		c.log.Error().Err(err).Msg("reading due reminders")
		return
	}
	for _, r := range due {
		inc, err := c.store.Incident(ctx, r.IncidentID)
		if err != nil || !inc.Status.Active() {
			c.reminderStore.DeleteReminder(ctx, r.IncidentID, r.Kind)
			continue
		}
		switch r.Kind {
		case bot.RemindUpdate:
			every := c.cfg.UpdateEvery[inc.Severity.Name]
			if every <= 0 {
				c.reminderStore.DeleteReminder(ctx, inc.ID, r.Kind)
				continue
			}
			if next := lastUpdate(inc).Add(every); next.After(now) {
				c.reminderStore.SetReminder(ctx, inc.ID, r.Kind, next)
				continue
			}
			who := "Commander"
			if cmdr, ok := inc.Commander(); ok {
				who = cmdr.Mention()
			}
			c.remind(ctx, inc, bot.Reminder{IncidentID: inc.ID, Kind: r.Kind, At: now.Add(every)},
				fmt.Sprintf("⏰ %s: no update on %s for %s. Post one with `/incident update <what we know, what we're doing, next update at>`.",
					who, inc.Key(), bot.Duration(now.Sub(lastUpdate(inc)))))
		case bot.RemindCommander:
			if _, ok := inc.Commander(); ok {
				c.reminderStore.DeleteReminder(ctx, inc.ID, r.Kind)
				continue
			}
			c.remind(ctx, inc, bot.Reminder{IncidentID: inc.ID, Kind: r.Kind, At: now.Add(commanderNagAgain)},
				fmt.Sprintf("⚠️ %s has had no commander for %s. Take it with `/incident role commander @you`.", inc.Key(), bot.Duration(now.Sub(inc.DeclaredAt))))
		default:
			c.reminderStore.DeleteReminder(ctx, inc.ID, r.Kind)
		}
	}
}

// remind posts text in the incident's channel and moves the reminder to
// next, in one transaction: a crash neither repeats nor loses it.
func (c *Incidents) remind(ctx context.Context, inc *bot.Incident, next bot.Reminder, text string) {
	err := c.store.Update(ctx, func(tx bot.Tx) error {
		if err := tx.SetReminder(next); err != nil {
			return err
		}
		j := c.job(inc, bot.OpPost)
		j.Message = bot.Message{Text: text}
		return tx.Enqueue(j)
	})
	if err != nil {
		c.log.Warn().Err(err).Str("incident", inc.Key()).Msg("posting a reminder")
		return
	}
	c.committed()
}
