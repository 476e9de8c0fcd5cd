package oncall

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// Group is a chat group (a Slack user group, a Discord role) whose
// members klaxon keeps to exactly who is on call on its schedules, so one
// mention reaches the on-call.
type Group struct {
	Platform  bot.Platform
	Group     string   // a Slack user group's handle; a Discord role's id
	Schedules []string // schedule ids; their on-call people are the members
}

// queue is the outbox queue of the group's updates.
func (g Group) queue() string { return "group:" + string(g.Platform) + ":" + g.Group }

// mention shows g in a message without notifying its members, as its
// platform's adapter writes it; "@group" where no connected chat keeps
// groups.
func (o *groups) mention(g Group) string {
	for _, c := range o.oc.cfg.Chats {
		if k, ok := c.(bot.GroupKeeper); ok && c.Platform() == g.Platform {
			return k.GroupMention(g.Group)
		}
	}
	return "@" + g.Group
}

// groups keeps the chat groups (Slack user groups, Discord roles) that
// follow the schedules' on-call.
type groups struct {
	oc   *OnCall
	mu   sync.Mutex
	last map[string]groupState // by queue: what was last queued
}

// groupResync is how often a group is set even when nobody changed, so a
// group someone edited by hand is put right within the hour.
const groupResync = time.Hour

// groupState is what klaxon last queued for a group.
type groupState struct {
	members string // sorted user ids, comma-separated
	at      time.Time
}

// keepGroups queues an update for each group whose members differ from
// what was last queued, and for every group after a restart and each
// groupResync. The job sets the members as they are when it runs, so a
// late one is never stale, and one pending per group is enough.
func (o *groups) keepGroups(ctx context.Context, now time.Time) {
	var jobs []bot.Job
	var states []groupState
	for _, g := range o.oc.cfg.Groups {
		st := groupState{members: strings.Join(o.groupMembers(g, now), ","), at: now}
		o.mu.Lock()
		last, ok := o.last[g.queue()]
		o.mu.Unlock()
		if ok && last.members == st.members && now.Sub(last.at) < groupResync {
			continue
		}
		j := bot.ChatJob(g.Platform, g.queue(), bot.OpSetGroup, now)
		j.Group = g.Group
		jobs = append(jobs, j)
		states = append(states, st)
	}
	if len(jobs) == 0 {
		return
	}
	if err := o.oc.store.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(jobs...) }); err != nil {
		o.oc.log.Error().Err(err).Msg("queueing on-call group updates")
		return
	}
	o.mu.Lock()
	for i, j := range jobs {
		o.last[j.Queue] = states[i]
	}
	o.mu.Unlock()
	o.oc.poke(jobs)
}

// groupMembers is who is in g at t: the platform user ids of the people on
// call on its schedules, sorted. People without an id on g's platform are
// left out.
func (o *groups) groupMembers(g Group, t time.Time) []string {
	o.oc.mu.RLock()
	defer o.oc.mu.RUnlock()
	var out []string
	for _, s := range o.oc.cfg.Schedules {
		if !slices.Contains(g.Schedules, s.ID) {
			continue
		}
		who, ok := s.OnCall(t, o.oc.overrides[s.ID])
		if !ok {
			continue
		}
		if p, ok := o.oc.cfg.People.Get(who.Person); ok {
			if uid := p.UserID(g.Platform); uid != "" && !slices.Contains(out, uid) {
				out = append(out, uid)
			}
		}
	}
	slices.Sort(out)
	return out
}

// groupFor returns the group of platform p that schedule s's on-call is in.
func (o *groups) groupFor(p bot.Platform, scheduleID string) (Group, bool) {
	for _, g := range o.oc.cfg.Groups {
		if g.Platform == p && slices.Contains(g.Schedules, scheduleID) {
			return g, true
		}
	}
	return Group{}, false
}

// GroupMentions lists the groups of platform p that reach the on-call of
// service, for the incident summary.
func (o *OnCall) GroupMentions(p bot.Platform, service string) []string {
	var out []string
	for _, s := range o.cfg.Schedules {
		if s.Service != service {
			continue
		}
		if g, ok := o.groups.groupFor(p, s.ID); ok && !slices.Contains(out, o.groups.mention(g)) {
			out = append(out, o.groups.mention(g))
		}
	}
	return out
}

var _ outbox.Sender = (*groups)(nil) // it keeps on-call chat groups (bot.OpSetGroup)

// GroupSender is the outbox sender of o's group updates (bot.OpSetGroup).
func GroupSender(o *OnCall) outbox.Sender { return o.groups }

// Send implements outbox.Sender for bot.OpSetGroup: it sets the group's members
// to who is on call now.
func (g *groups) Send(ctx context.Context, j bot.Job, _ bool) (outbox.Then, error) {
	i := slices.IndexFunc(g.oc.cfg.Groups, func(g Group) bool { return g.Platform == j.Platform && g.Group == j.Group })
	if i < 0 {
		return nil, bot.Errorf(bot.EREFUSED, "the configuration no longer keeps the %s group %s", j.Platform, j.Group)
	}
	var keeper bot.GroupKeeper
	for _, c := range g.oc.cfg.Chats {
		if k, ok := c.(bot.GroupKeeper); ok && c.Platform() == j.Platform {
			keeper = k
		}
	}
	if keeper == nil {
		return nil, bot.Errorf(bot.EUNSUPPORTED, "klaxon keeps no groups on %s", j.Platform)
	}
	return nil, keeper.SetGroup(ctx, j.Group, g.groupMembers(g.oc.cfg.Groups[i], g.oc.clock.Now()))
}
