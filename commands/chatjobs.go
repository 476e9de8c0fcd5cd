package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// chatJobs is the outbox's sender for chat jobs: one chat per platform.
type chatJobs struct {
	c     *Incidents   // its chats, store and rendering
	store bot.JobStore // for named messages

	mu sync.Mutex
	up map[bot.Platform]bool // as last seen by Reconnected
}

var _ outbox.Sender = (*chatJobs)(nil)

var _ outbox.Reconnector = (*chatJobs)(nil)

// Reconnected implements outbox.Reconnector: the platforms whose
// connection came back since it was last asked (those that report it).
func (o *chatJobs) Reconnected() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.up == nil {
		o.up = map[bot.Platform]bool{}
	}
	var out []string
	for p, chat := range o.c.chats {
		c, ok := chat.(interface{ Connected() bool })
		if !ok {
			continue
		}
		now, was := c.Connected(), o.up[p]
		if now && !was {
			out = append(out, string(p))
		}
		o.up[p] = now
	}
	return out
}

// Send implements outbox.Sender. A job refused for good is reported once in the
// incident's channel, with the platform's error.
func (o *chatJobs) Send(ctx context.Context, j bot.Job, again bool) (outbox.Then, error) {
	record, err := o.attempt(ctx, j, again)
	if err == nil {
		if record == nil {
			return nil, nil
		}
		return func(tx bot.Tx, _ bot.Job) error { return record(tx) }, nil
	}
	if transient, _ := bot.Transient(err); transient {
		return nil, err
	}
	return o.report(j, err), err
}

// report says once, in the incident's channel where there is one, that a
// chat job was refused for good, with the platform's error. A job about no
// incident (a handoff notice, a reminder) reports in its ReportTo channel,
// quoting what it would have said, so the news still reaches someone.
func (o *chatJobs) report(j bot.Job, err error) outbox.Then {
	if j.Report || j.Op == bot.OpCreateChannel {
		return nil
	}
	now := o.c.clock.Now()
	if j.IncidentID == uuid.Nil {
		if j.ReportTo == "" || j.ReportTo == j.Channel {
			return nil
		}
		text := fmt.Sprintf("⚠️ klaxon could not %s: %s", describeWhere(j), bot.ErrorMessage(err))
		if j.Message.Text != "" {
			text += "\nIt said:\n> " + strings.ReplaceAll(j.Message.Text, "\n", "\n> ")
		}
		return func(tx bot.Tx, _ bot.Job) error {
			r := bot.ChatJob(j.Platform, "channel:"+j.ReportTo, bot.OpPost, now)
			r.Channel, r.Report, r.Message = j.ReportTo, true, bot.Message{Text: text}
			return tx.Enqueue(r)
		}
	}
	return func(tx bot.Tx, _ bot.Job) error {
		inc, err2 := tx.Incident(j.IncidentID)
		if err2 != nil || inc.Channel.IsZero() {
			return nil
		}
		return tx.Enqueue(bot.Job{Queue: j.Queue, Platform: j.Platform, Op: bot.OpPost, IncidentID: j.IncidentID, Report: true,
			Message:     bot.Message{Text: fmt.Sprintf("⚠️ klaxon could not %s: %s", describe(j), bot.ErrorMessage(err))},
			NextAttempt: now, Created: now})
	}
}

// describeWhere is describe with the job's destination, for a report
// posted elsewhere.
func describeWhere(j bot.Job) string {
	switch {
	case j.Op == bot.OpDM && len(j.Users) > 0:
		return "send a direct message to " + bot.User{ID: j.Users[0]}.Mention()
	case j.Channel != "":
		return describe(j) + " in " + bot.ChannelRef{ID: j.Channel}.Mention()
	}
	return describe(j)
}

func describe(j bot.Job) string {
	switch j.Op {
	case bot.OpCreateChannel:
		return "create the incident channel"
	case bot.OpInvite:
		return "invite the responders"
	case bot.OpTopic:
		return "set the channel topic"
	case bot.OpPostSummary:
		return "post the summary"
	case bot.OpPin:
		return "pin the summary"
	case bot.OpAnnounce:
		return "post the announcement"
	case bot.OpSummary:
		return "update the pinned summary"
	case bot.OpPostmortem:
		return "post the postmortem draft"
	case bot.OpDM:
		return "send a direct message"
	case bot.OpUpdate:
		return "update a message"
	case bot.OpArchive:
		return "archive the channel"
	}
	if j.Announce {
		return "post the announcement"
	}
	return "post a message"
}

// errNoChannel is what jobs about an incident without a channel get.
var errNoChannel = bot.Errorf(bot.EREFUSED, "the incident has no channel")

// attempt carries j out once. It returns what to record with its success,
// in the transaction that marks it done.
func (o *chatJobs) attempt(ctx context.Context, j bot.Job, again bool) (func(bot.Tx) error, error) {
	chat, ok := o.c.chats[j.Platform]
	if !ok {
		return nil, bot.Errorf(bot.EUNAVAILABLE, "klaxon is not connected to %s", j.Platform)
	}
	var inc *bot.Incident
	if j.IncidentID != uuid.Nil {
		var err error
		if inc, err = o.c.store.Incident(ctx, j.IncidentID); err != nil {
			return nil, bot.Internal(err, "klaxon could not read the incident")
		}
	} else if j.Op != bot.OpPost && j.Op != bot.OpDM && j.Op != bot.OpUpdate {
		return nil, bot.Errorf(bot.EREFUSED, "chat job %s has no incident", j.Op)
	}
	m := j.Message
	m.Nonce = j.Nonce()
	switch j.Op {
	case bot.OpCreateChannel:
		return o.createChannel(ctx, chat, inc, again)
	case bot.OpInvite:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, chat.Invite(ctx, inc.Channel.ID, j.Users...)
	case bot.OpTopic:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, chat.SetTopic(ctx, inc.Channel.ID, Topic(inc))
	case bot.OpPostSummary:
		if !inc.SummaryRef.IsZero() {
			return nil, nil
		}
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		m = o.c.summary(ctx, inc)
		m.Nonce = j.Nonce()
		ref, err := o.post(ctx, chat, inc.Channel.ID, m, again)
		if err != nil {
			return nil, err
		}
		return recordOn(inc.ID, func(cur *bot.Incident) { cur.SummaryRef = ref }), nil
	case bot.OpPin:
		if inc.SummaryRef.IsZero() {
			return nil, bot.Errorf(bot.EREFUSED, "the summary was not posted")
		}
		return nil, chat.Pin(ctx, inc.SummaryRef)
	case bot.OpAnnounce:
		return nil, o.postOnce(ctx, chat, j.Channel, Announcement(inc, CallLink(o.c.cfg.CallURL, inc)), j, again)
	case bot.OpSummary:
		if inc.SummaryRef.IsZero() {
			return nil, nil // the summary is not posted yet; posting it shows the latest state
		}
		return nil, chat.Update(ctx, inc.SummaryRef, o.c.summary(ctx, inc))
	case bot.OpPost:
		channel := j.Channel
		if channel == "" {
			if inc == nil || inc.Channel.IsZero() {
				return nil, errNoChannel
			}
			channel = inc.Channel.ID
		}
		ref, err := o.post(ctx, chat, channel, m, again)
		if err != nil {
			return nil, err
		}
		return o.remember(j, ref), nil
	case bot.OpDM:
		ref, err := chat.DM(ctx, j.Users[0], m)
		if err != nil {
			return nil, err
		}
		return o.remember(j, ref), nil
	case bot.OpUpdate:
		ref := j.Ref
		if ref.IsZero() && j.Name != "" {
			named, found, err := o.store.Named(ctx, j.Name)
			if err != nil {
				return nil, bot.Internal(err, "klaxon could not read which message to update")
			}
			if !found {
				return nil, bot.Errorf(bot.EREFUSED, "the message to update was never posted")
			}
			ref = named
		}
		return nil, chat.Update(ctx, ref, j.Message)
	case bot.OpPostmortem:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, o.c.reports.uploadPostmortem(ctx, chat, inc)
	case bot.OpArchive:
		return o.archive(ctx, chat, inc)
	}
	return nil, bot.Errorf(bot.EREFUSED, "unknown chat job %q", j.Op)
}

// remember records what a post made: the page it is about (so a reaction
// acknowledges) and its name (so a later update finds it).
func (o *chatJobs) remember(j bot.Job, ref bot.MessageRef) func(bot.Tx) error {
	if j.PageID == uuid.Nil && j.Name == "" {
		return nil
	}
	return func(tx bot.Tx) error {
		if j.PageID != uuid.Nil {
			if _, err := bot.LinkPageMessage(tx, j.Platform, ref, j.PageID); err != nil {
				return err
			}
		}
		if j.Name != "" {
			return tx.NameMessage(j.Name, ref)
		}
		return nil
	}
}

// postOnce posts m for job j, unless a run before a crash did.
func (o *chatJobs) postOnce(ctx context.Context, chat bot.Chat, channel string, m bot.Message, j bot.Job, again bool) error {
	m.Nonce = j.Nonce()
	_, err := o.post(ctx, chat, channel, m, again)
	return err
}

// post posts m, unless a run before a crash posted it already.
func (o *chatJobs) post(ctx context.Context, chat bot.Chat, channel string, m bot.Message, again bool) (bot.MessageRef, error) {
	if again {
		ref, found, err := chat.FindPost(ctx, channel, m.Nonce)
		if err != nil {
			return bot.MessageRef{}, err
		}
		if found {
			return ref, nil
		}
	}
	return chat.Post(ctx, channel, m)
}

// createChannel creates the incident's channel, or adopts the one a run
// before a crash created, and records it in the transaction that finishes
// the job. A name taken by something else gets -2, -3….
func (o *chatJobs) createChannel(ctx context.Context, chat bot.Chat, inc *bot.Incident, again bool) (func(bot.Tx) error, error) {
	if !inc.Channel.IsZero() {
		return nil, nil
	}
	const attempts = 10
	for attempt := 1; attempt <= attempts; attempt++ {
		name := ChannelName(o.c.cfg.channelPattern(inc), inc, attempt)
		ch, err := chat.CreateChannel(ctx, bot.ChannelSpec{Name: name, Topic: Topic(inc), Purpose: Purpose(inc), Private: inc.Private})
		if errors.Is(err, bot.ErrNameTaken) {
			found, ok, ferr := chat.FindChannel(ctx, name, inc.Key())
			if ferr != nil {
				return nil, ferr
			}
			if !ok {
				continue
			}
			ch = found
			err = nil
		}
		if err != nil {
			return nil, err
		}
		return recordOn(inc.ID, func(cur *bot.Incident) { cur.Channel = ch },
			bot.NewEvent(bot.EventChannel, bot.User{}, o.c.clock.Now(), "Channel #"+ch.Name+" created")), nil
	}
	return nil, bot.Errorf(bot.EREFUSED, "%d channel names for %s were all taken", attempts, inc.Key())
}

// recordOn records what a job made on its incident, with events, in the
// transaction that finishes the job.
func recordOn(id uuid.UUID, set func(*bot.Incident), events ...bot.Event) func(bot.Tx) error {
	return func(tx bot.Tx) error {
		cur, err := tx.Incident(id)
		if err != nil {
			return err
		}
		set(cur)
		if err := tx.PutIncident(cur); err != nil {
			return err
		}
		return tx.AppendEvents(id, events...)
	}
}
