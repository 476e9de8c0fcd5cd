package main

import (
	"context"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// The periodic jobs run on klaxon's clock: at the times their schedule
// names, and on after a run that panics.
func TestPeriodicJobsRunOnTheClock(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 8, 59, 0, 0, time.UTC)
	clock := bot.NewFakeClock(t0)
	sched, err := cron.ParseStandard("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	runs := make(chan time.Time, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- every(ctx, clock, sched, zerolog.Nop(), func(_ context.Context, now time.Time) {
			runs <- now
			panic("a bad day")
		})
	}()
	advanceUntil := func(d time.Duration) time.Time {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for clock.Waiters() == 0 { // the loop waits for its next run
			if time.Now().After(deadline) {
				t.Fatal("the job never waited for its time")
			}
			time.Sleep(time.Millisecond)
		}
		clock.Advance(d)
		select {
		case at := <-runs:
			return at
		case <-time.After(5 * time.Second):
			t.Fatal("the job did not run")
			return time.Time{}
		}
	}
	if at := advanceUntil(time.Minute); !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("first run at %v; want 09:00", at)
	}
	if at := advanceUntil(24 * time.Hour); !at.Equal(t0.Add(24*time.Hour + time.Minute)) {
		t.Errorf("second run at %v; want 09:00 the next day", at)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
