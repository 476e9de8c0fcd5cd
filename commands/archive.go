package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// archiving follows a close (final: a closed incident is never reopened)
// with the channel's archiving, due after the configured time. The jobs
// have a queue of their own, so waiting for their time holds up none of
// the incident's other chat work.
type archiving struct{ after time.Duration }

func archiveQueue(inc *bot.Incident) string { return "archive:" + inc.ID.String() }

// Follow implements bot.Follower.
func (a archiving) Follow(tx bot.Tx, ch bot.Change) error {
	if ch.Again || ch.Kind != bot.EventClosed {
		return nil
	}
	at := ch.At.Add(a.after)
	notice := bot.IncidentJob(ch.Incident, bot.OpPost, at)
	notice.Queue = archiveQueue(ch.Incident)
	notice.Message = bot.Message{Text: fmt.Sprintf("🗄️ %s was closed %s ago, so klaxon archives this channel now. Its timeline and postmortem draft stay in klaxon: `/incident timeline %s` from any channel, or the API.",
		ch.Incident.Key(), bot.Duration(a.after), ch.Incident.Key())}
	archive := bot.IncidentJob(ch.Incident, bot.OpArchive, at)
	archive.Queue = notice.Queue
	return tx.Enqueue(notice, archive)
}

// archive carries out an OpArchive job: the channel of an incident that
// is still closed is archived, and the incident records it.
func (o *chatJobs) archive(ctx context.Context, chat bot.Chat, inc *bot.Incident) (func(bot.Tx) error, error) {
	if inc.Status != bot.StatusClosed || inc.Channel.IsZero() || !inc.ArchivedAt.IsZero() {
		return nil, nil
	}
	a, ok := chat.(bot.Archiver)
	if !ok {
		return nil, nil
	}
	if err := a.Archive(ctx, inc.Channel.ID); err != nil {
		return nil, err
	}
	now := o.c.clock.Now()
	return recordOn(inc.ID, func(cur *bot.Incident) { cur.ArchivedAt = now }), nil
}
