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
func (cfg *Config) reminders(inc *bot.Incident) []bot.Reminder {
	update := bot.Reminder{IncidentID: inc.ID, Kind: bot.RemindUpdate}
	nag := bot.Reminder{IncidentID: inc.ID, Kind: bot.RemindCommander}
	if !inc.Status.Active() {
		return []bot.Reminder{update, nag}
	}
	if every := cfg.UpdateEvery[inc.Severity.Name]; every > 0 {
		update.At = lastUpdate(inc).Add(every)
	}
	out := []bot.Reminder{update}
	if _, ok := inc.Commander(); !ok && cfg.CommanderNag > 0 {
		nag.At = inc.DeclaredAt.Add(cfg.CommanderNag)
		out = append(out, nag)
	}
	return out
}

// Tick sends the reminders due at now, each in one transaction with the
// reminder's next time. Each is checked against the incident first: an
// update posted meanwhile moves the reminder instead, and a resolved
// incident drops it. A crash neither repeats nor loses one.
func (c *Incidents) Tick(ctx context.Context, now time.Time) {
	due, err := c.store.DueReminders(ctx, now)
	if err != nil {
		c.log.Error().Err(err).Msg("reading due reminders")
		return
	}
	posted := false
	for _, r := range due {
		err := c.store.Update(ctx, func(tx bot.Tx) error {
			inc, err := tx.Incident(r.IncidentID)
			if bot.ErrorCode(err) == bot.ENOTFOUND {
				return tx.SetReminder(bot.Reminder{IncidentID: r.IncidentID, Kind: r.Kind})
			}
			if err != nil {
				return err
			}
			next, text := c.cfg.reminder(inc, r.Kind, now)
			if err := tx.SetReminder(bot.Reminder{IncidentID: inc.ID, Kind: r.Kind, At: next}); err != nil || text == "" {
				return err
			}
			j := c.job(inc, bot.OpPost)
			j.Message = bot.Message{Text: text}
			posted = true
			return tx.Enqueue(j)
		})
		if err != nil {
			c.log.Warn().Err(err).Str("incident", r.IncidentID.String()).Str("reminder", r.Kind).Msg("sending a reminder")
		}
	}
	if posted {
		c.committed()
	}
}

// reminder decides what a due reminder of kind does for inc at now: when
// it is due next (zero: never again) and what to post (empty: nothing).
func (cfg *Config) reminder(inc *bot.Incident, kind string, now time.Time) (time.Time, string) {
	if !inc.Status.Active() {
		return time.Time{}, ""
	}
	switch kind {
	case bot.RemindUpdate:
		every := cfg.UpdateEvery[inc.Severity.Name]
		if every <= 0 {
			return time.Time{}, ""
		}
		if next := lastUpdate(inc).Add(every); next.After(now) {
			return next, "" // an update was posted meanwhile
		}
		who := "Commander"
		if cmdr, ok := inc.Commander(); ok {
			who = cmdr.Mention()
		}
		return now.Add(every), fmt.Sprintf("⏰ %s: no update on %s for %s. Post one with `/incident update <what we know, what we're doing, next update at>`.",
			who, inc.Key(), bot.Duration(now.Sub(lastUpdate(inc))))
	case bot.RemindCommander:
		if _, ok := inc.Commander(); ok {
			return time.Time{}, ""
		}
		return now.Add(commanderNagAgain), fmt.Sprintf("⚠️ %s has had no commander for %s. Take it with `/incident role commander @you`.", inc.Key(), bot.Duration(now.Sub(inc.DeclaredAt)))
	}
	return time.Time{}, ""
}
