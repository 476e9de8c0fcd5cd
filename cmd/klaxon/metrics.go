package main

import (
	"context"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store"
)

// mttWindow is the window of the MTTA and MTTR gauges.
const mttWindow = 30 * 24 * time.Hour

// snapshotter reads what /metrics reports from the store and the chats.
func snapshotter(s *store.Store, chats []bot.Chat, clock bot.Clock) web.Snapshotter {
	return func(ctx context.Context) (web.Snapshot, error) {
		incs, err := s.ListIncidents(ctx, bot.IncidentFilter{})
		if err != nil {
			return web.Snapshot{}, err
		}
		counts, err := s.Counts(ctx)
		if err != nil {
			return web.Snapshot{}, err
		}
		snap := web.Snapshot{Incidents: map[web.IncidentClass]int{}, Deliveries: map[string]int{},
			OutboxDue: counts.OutboxDue, TimelineEvents: counts.TimelineEvents, Reconnects: map[string]uint64{}}
		for _, inc := range incs {
			snap.Incidents[web.IncidentClass{Status: string(inc.Status), Severity: inc.Severity.Name}]++
		}
		st := commands.ComputeStats(incs, clock.Now(), mttWindow, "")
		snap.MTTA, snap.MTTR = st.MTTA, st.MTTR
		for status, n := range counts.Deliveries {
			snap.Deliveries[string(status)] = n
		}
		jobs, err := s.CountJobs(ctx)
		if err != nil {
			return web.Snapshot{}, err
		}
		snap.ChatJobs = map[web.JobClass]int{}
		for _, c := range chats {
			// Every state of every platform, so a gauge drops to 0.
			for _, st := range []bot.JobStatus{bot.JobPending, bot.JobFailed} {
				snap.ChatJobs[web.JobClass{Destination: string(c.Platform()), State: string(st)}] = jobs[c.Platform()][st]
			}
		}
		for _, c := range chats {
			if r, ok := c.(interface{ Reconnects() uint64 }); ok {
				snap.Reconnects[string(c.Platform())] = r.Reconnects()
			}
		}
		return snap, nil
	}
}

// statusPage reads the public status page from the store.
func statusPage(s *store.Store, policy commands.Config, clock bot.Clock) func(context.Context) (commands.StatusPage, error) {
	return func(ctx context.Context) (commands.StatusPage, error) {
		incs, err := s.ListIncidents(ctx, bot.IncidentFilter{})
		if err != nil {
			return commands.StatusPage{}, err
		}
		return commands.BuildStatusPage(ctx, incs, policy.Services, policy.Severities, clock.Now(),
			func(ctx context.Context, inc *bot.Incident) ([]bot.Event, error) { return s.Events(ctx, inc.ID, 0, 0) })
	}
}
