package main

import (
	"context"
	"slices"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/hooks"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store"
)

// mttWindow is the window of the MTTA and MTTR gauges.
const mttWindow = 30 * 24 * time.Hour

// snapshotter reads what /metrics reports from the store and the chats.
func snapshotter(s store.Backend, chats []bot.Chat, destinations []string, clock bot.Clock, storms func() map[string]alerts.StormCount) web.Snapshotter {
	return func(ctx context.Context) (web.Snapshot, error) {
		// Counts by class are kept by the store; MTTA and MTTR read only the
		// incidents of their window.
		now := clock.Now()
		incs, err := s.ListIncidents(ctx, bot.IncidentFilter{DeclaredSince: now.Add(-mttWindow)})
		if err != nil {
			return web.Snapshot{}, err
		}
		counts, err := s.Counts(ctx)
		if err != nil {
			return web.Snapshot{}, err
		}
		snap := web.Snapshot{Incidents: map[web.IncidentClass]int{}, Deliveries: map[string]int{},
			OutboxDue: counts.OutboxDue, TimelineEvents: counts.TimelineEvents, Reconnects: map[string]uint64{}}
		for k, n := range counts.Incidents {
			snap.Incidents[web.IncidentClass{Status: k.Status, Severity: k.Severity}] = n
		}
		st := commands.ComputeStats(incs, now, mttWindow, "")
		snap.MTTA, snap.MTTR = st.MTTA, st.MTTR
		for status, n := range counts.Deliveries {
			snap.Deliveries[string(status)] = n
		}
		jobs, err := s.CountJobs(ctx)
		if err != nil {
			return web.Snapshot{}, err
		}
		snap.Jobs = map[web.JobClass]int{}
		// Every state of every destination, so a gauge drops to 0.
		for _, d := range destinations {
			for _, st := range []bot.JobStatus{bot.JobPending, bot.JobFailed} {
				snap.Jobs[web.JobClass{Destination: d, State: string(st)}] = jobs[d][st]
			}
		}
		for _, c := range chats {
			if r, ok := c.(interface{ Reconnects() uint64 }); ok {
				snap.Reconnects[string(c.Platform())] = r.Reconnects()
			}
		}
		snap.AlertStorms, snap.StormGroups = map[string]uint64{}, map[string]uint64{}
		for src, n := range storms() {
			snap.AlertStorms[src], snap.StormGroups[src] = n.Storms, n.Groups
		}
		return snap, nil
	}
}

// statusPage reads the public status page from the store.
func statusPage(s store.Backend, policy commands.Config, clock bot.Clock) func(context.Context) (bot.StatusPage, error) {
	return func(ctx context.Context) (bot.StatusPage, error) {
		incs, err := s.ListIncidents(ctx, bot.IncidentFilter{})
		if err != nil {
			return bot.StatusPage{}, err
		}
		return commands.BuildStatusPage(incs, policy.Services, policy.Severities, policy.Types, clock.Now()), nil
	}
}

// destinations lists where outbox jobs go: the chat platforms, the
// pagers, the hooks and the trackers, so /metrics shows each even with
// nothing queued; with subscriptions, their notices and mails.
func destinations(chats []bot.Chat, paging paging.Config, hookCfg []hooks.Config, trackers map[string]bot.Tracker, subscriptions bool) []string {
	var out []string
	if subscriptions {
		out = append(out, bot.Job{Op: bot.OpStatusNotice}.Destination(), bot.Job{Op: bot.OpStatusMail}.Destination())
	}
	for _, c := range chats {
		out = append(out, string(c.Platform()))
	}
	for id := range paging.Pagers {
		out = append(out, "pager:"+id)
	}
	for _, h := range hookCfg {
		out = append(out, "hook:"+h.ID)
	}
	for id := range trackers {
		out = append(out, "tracker:"+id)
	}
	slices.Sort(out)
	return out
}
