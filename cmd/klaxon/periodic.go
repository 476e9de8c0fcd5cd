package main

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store"
)

// periodicJobs are klaxon's daily housekeeping, each a loop for runAll.
// Escalations, reminders and handoffs are not among them: they are rows in
// the store that the scheduler's tick reads.
func periodicJobs(s store.Backend, cfg *Config, log zerolog.Logger, clock bot.Clock, incidents func() *commands.Incidents) ([]func(context.Context) error, error) {
	log = log.With().Str("component", "periodic").Logger()
	jobs := []struct {
		name, spec string
		run        func(ctx context.Context, now time.Time)
	}{
		{"prune de-duplication records", "17 4 * * *", func(ctx context.Context, now time.Time) {
			n, err := s.PruneSeen(now.Add(-cfg.Store.SeenRetention))
			if err != nil {
				log.Error().Err(err).Msg("pruning de-duplication records")
				return
			}
			log.Info().Int("removed", n).Msg("pruned de-duplication records")
		}},
		// An idempotency key answers for a day (RFC draft: at least 24 h).
		{"prune idempotency keys", "27 * * * *", func(ctx context.Context, now time.Time) {
			n, err := s.PruneIdempotency(ctx, now.Add(-bot.IdempotencyTTL))
			if err != nil {
				log.Error().Err(err).Msg("pruning idempotency keys")
				return
			}
			log.Debug().Int("removed", n).Msg("pruned idempotency keys")
		}},
		// Owners of overdue follow-ups get one DM a day.
		{"remind owners of overdue follow-ups", "0 9 * * *", func(ctx context.Context, now time.Time) {
			n := incidents().FollowUps().RemindOverdueFollowUps(ctx, now)
			log.Info().Int("owners", n).Msg("reminded owners of overdue follow-ups")
		}},
	}
	var out []func(context.Context) error
	for _, j := range jobs {
		sched, err := cron.ParseStandard(j.spec)
		if err != nil {
			return nil, fmt.Errorf("scheduling %s: %w", j.name, err)
		}
		out = append(out, func(ctx context.Context) error {
			return every(ctx, clock, sched, log.With().Str("job", j.name).Logger(), j.run)
		})
	}
	return out, nil
}

// every runs fn at each time sched names, on clock, until ctx ends. A
// panic in fn is logged and the schedule goes on.
func every(ctx context.Context, clock bot.Clock, sched cron.Schedule, log zerolog.Logger, fn func(ctx context.Context, now time.Time)) error {
	for {
		now := clock.Now()
		next := sched.Next(now)
		log.Debug().Time("next", next).Msg("scheduled")
		t := clock.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case at := <-t.C():
			func() {
				defer func() {
					if r := recover(); r != nil {
						log.Error().Interface("panic", r).Msg("periodic job panicked")
					}
				}()
				fn(ctx, at)
			}()
		}
	}
}
