package bot_test

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestFakeClockTimersAndTickers(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	c := bot.NewFakeClock(t0)
	timer := c.NewTimer(time.Minute)
	stopped := c.NewTimer(time.Minute)
	tick := c.NewTicker(10 * time.Second)
	fired := func(ch <-chan time.Time) (time.Time, bool) {
		select {
		case at := <-ch:
			return at, true
		default:
			return time.Time{}, false
		}
	}
	c.Advance(59 * time.Second)
	if _, ok := fired(timer.C()); ok {
		t.Fatal("the timer fired early")
	}
	if at, ok := fired(tick.C()); !ok || !at.Equal(t0.Add(59*time.Second)) {
		t.Fatalf("the ticker did not tick once by 59 s: %v %v", at, ok)
	}
	if _, ok := fired(tick.C()); ok {
		t.Fatal("the ticker delivered the ticks a slow reader missed; it drops them")
	}
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop reports wrongly whether the timer was waiting")
	}
	c.Advance(time.Second)
	if at, ok := fired(timer.C()); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("the timer did not fire at its time: %v %v", at, ok)
	}
	if _, ok := fired(stopped.C()); ok {
		t.Error("a stopped timer fired")
	}
	if _, ok := fired(tick.C()); !ok {
		t.Error("the ticker did not tick again at 60 s")
	}
	c.Advance(5 * time.Second)
	if _, ok := fired(tick.C()); ok {
		t.Error("the ticker ticked between its times")
	}
	c.Advance(100 * 24 * time.Hour) // a long jump is one tick, at once
	if _, ok := fired(tick.C()); !ok {
		t.Error("the ticker did not tick after a long jump")
	}
	tick.Stop()
	c.Advance(time.Hour)
	if _, ok := fired(tick.C()); ok {
		t.Error("a stopped ticker ticked")
	}
}
