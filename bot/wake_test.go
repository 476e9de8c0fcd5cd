package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// TestEvery checks the workers' loop: a call at once, one for each tick
// of the clock and one for each wake, each with the clock's time, and no
// more once the context ends.
func TestEvery(t *testing.T) {
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	clock := bot.NewFakeClock(start)
	wake := bot.NewWake()
	calls := make(chan time.Time, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		bot.Every(ctx, clock, time.Minute, wake.TimersDue(), func(_ context.Context, now time.Time) { calls <- now })
	}()
	next := func(what string) time.Time {
		t.Helper()
		select {
		case at := <-calls:
			return at
		case <-time.After(5 * time.Second):
			t.Fatalf("no call %s", what)
			return time.Time{}
		}
	}
	if at := next("at once"); !at.Equal(start) {
		t.Errorf("first call at %v, want %v", at, start)
	}
	for clock.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	clock.Advance(time.Minute)
	if at := next("on the tick"); !at.Equal(start.Add(time.Minute)) {
		t.Errorf("tick's call at %v, want %v", at, start.Add(time.Minute))
	}
	wake.Timers()
	if at := next("when woken"); !at.Equal(start.Add(time.Minute)) {
		t.Errorf("woken call at %v, want %v", at, start.Add(time.Minute))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return when its context ended")
	}
	select {
	case at := <-calls:
		t.Errorf("a call at %v after the context ended", at)
	default:
	}
	if n := clock.Waiters(); n != 0 {
		t.Errorf("%d tickers left on the clock", n)
	}
}
