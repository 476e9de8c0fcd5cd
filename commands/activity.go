package commands

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Record writes channel activity in an incident channel to the incident's
// timeline, once per source event. Activity elsewhere is ignored. A
// highlight-emoji reaction marks a key event.
func (c *Incidents) Record(ctx context.Context, a bot.Activity) error {
	if a.SourceID == "" {
		return bot.Errorf(bot.EINVALID, "activity without a source id cannot be de-duplicated")
	}
	inc, err := c.incidentByChannel(ctx, a.Platform, a.Channel.ID)
	if isNotFound(err) {
		watch(ctx, c.followers, a) // a reaction on a page DM
		return nil
	}
	if bot.ErrorCode(err) == bot.EUNAVAILABLE {
		return err // the platform delivers it again
	}
	if err != nil {
		return bot.Internal(err, "klaxon could not look up the incident.")
	}
	ev := bot.NewEvent(a.Kind, a.User, a.Time, a.Text)
	ev.IncidentID, ev.Ref, ev.SourceID = inc.ID, a.Ref, a.SourceID
	if a.Kind == bot.EventReaction {
		ev.Meta = map[string]string{"emoji": a.Emoji}
		ev.Highlight = slices.Contains(c.cfg.HighlightEmoji, a.Emoji)
	}
	if a.Kind == bot.EventMessageEdit {
		prev := a.PrevText
		if prev == "" {
			// Discord does not send the text an edit replaced; the timeline
			// has it, from the message or its last edit.
			prev = previousText(ctx, c.store, c.log, inc.ID, a.Ref)
		}
		if prev != "" {
			ev.Meta = map[string]string{"previous_text": prev}
		}
	}
	if err := c.store.Update(ctx, func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, ev) }); err != nil {
		return bot.Internal(err, "klaxon could not record that in the timeline.")
	}
	watch(ctx, c.followers, a)
	return nil
}

// watch shows channel activity to the followers that watch it.
func watch(ctx context.Context, followers []bot.Follower, a bot.Activity) {
	for _, f := range followers {
		if w, ok := f.(bot.Watcher); ok {
			w.Watch(ctx, a)
		}
	}
}

// editLookback bounds how far back an edit's message is looked for.
const editLookback = 5000

// previousText is the text of the message ref as incident id's timeline
// last had it.
func previousText(ctx context.Context, store bot.Store, log zerolog.Logger, id uuid.UUID, ref bot.MessageRef) string {
	if ref.ID == "" {
		return ""
	}
	ev, _, err := store.LastAbout(ctx, id, ref, editLookback, bot.EventMessage, bot.EventMessageEdit, bot.EventFile)
	if err != nil {
		log.Warn().Err(err).Msg("looking up an edited message's text")
	}
	return ev.Text
}

// incidentByChannel finds the incident whose channel this is. Activity in a
// channel the outbox has just created, before it is recorded, waits for
// the record (a moment: no platform call is in between), so it is not taken
// for activity elsewhere. Nothing waits while no channel is being created.
func (c *Incidents) incidentByChannel(ctx context.Context, platform bot.Platform, channel string) (*bot.Incident, error) {
	var deadline <-chan time.Time // set only when activity has to wait
	for {
		// Read before the lookup: a channel created after this read is
		// settled only after the lookup, which then waits for it.
		settled, creating := c.outbox.Settling()
		inc, err := c.store.IncidentByChannel(ctx, platform, channel)
		elsewhere := false
		if isNotFound(err) && !creating {
			// Another replica may be creating it (the leader's outbox), or a
			// process that died doing so. Look again after asking: a
			// creation that ended before the question is recorded by then.
			elsewhere, _ = c.store.CreatingChannels(ctx, platform, c.clock.Now().Add(-inDoubt))
			if inc, err = c.store.IncidentByChannel(ctx, platform, channel); elsewhere {
				creating, settled = true, soon(25*time.Millisecond)
			}
		}
		if !isNotFound(err) || !creating {
			return inc, err
		}
		if deadline == nil {
			t := time.NewTimer(settleWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-settled:
		case <-deadline:
			if elsewhere {
				// Still not recorded: its creator may have died mid-way, and
				// the next leader adopts the channel. Not taking the activity
				// (no acknowledgement) makes the platform deliver it again.
				return nil, bot.Errorf(bot.EUNAVAILABLE, "a channel is being created on %s; klaxon places this activity once it is recorded", platform)
			}
			return inc, err
		case <-ctx.Done():
			return inc, err
		}
	}
}

// inDoubt is how long a channel creation marked started, and not
// finished, makes activity in unknown channels wait for it: a creator that
// died mid-way is followed by the next leader within seconds.
const inDoubt = 10 * time.Minute

// soon returns a channel closed after d.
func soon(d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(d, func() { close(ch) })
	return ch
}

// settleWait bounds how long activity waits for a channel being created.
const settleWait = 5 * time.Second
