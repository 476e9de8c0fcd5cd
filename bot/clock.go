package bot

import (
	"slices"
	"sync"
	"time"
)

// Clock tells the time and waits on it. Everything that depends on time
// takes a Clock, so tests can drive it: the scheduler, the outbox and the
// periodic jobs tick on their Clock's tickers and timers.
type Clock interface {
	Now() time.Time
	// NewTicker ticks every d, dropping ticks a slow reader misses.
	NewTicker(d time.Duration) Ticker
	// NewTimer fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Ticker is a Clock's time.Ticker.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Timer is a Clock's time.Timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTicker returns a time.Ticker.
func (SystemClock) NewTicker(d time.Duration) Ticker { return sysTicker{time.NewTicker(d)} }

// NewTimer returns a time.Timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTicker struct{ t *time.Ticker }

func (t sysTicker) C() <-chan time.Time { return t.t.C }
func (t sysTicker) Stop()               { t.t.Stop() }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }
func (t sysTimer) Stop() bool          { return t.t.Stop() }

// FakeClock is a Clock for tests that only moves when told to. Its tickers
// and timers fire when Advance or Set moves it past their time.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	step    time.Duration // each reading moves the time on by step (Step)
	waiters []*fakeWaiter
}

// fakeWaiter is a FakeClock's ticker (period > 0) or timer.
type fakeWaiter struct {
	clock  *FakeClock
	at     time.Time
	period time.Duration
	c      chan time.Time
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time, and moves it on by the clock's step.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Step makes every reading of the clock move it on by d, as real time
// passes between two readings: code that reads the clock twice where it
// means one instant shows it. Tickers and timers still fire only on
// Advance and Set.
func (c *FakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
}

// Advance moves the fake time forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.moveTo(c.now.Add(d))
}

// Set moves the fake time to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.moveTo(t)
}

// moveTo sets the time and fires what falls due. c.mu is held.
func (c *FakeClock) moveTo(t time.Time) {
	c.now = t
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			keep = append(keep, w)
			continue
		}
		select {
		case w.c <- t:
		default: // a tick the reader has not taken yet: drop this one
		}
		if w.period > 0 {
			w.at = w.at.Add((t.Sub(w.at)/w.period + 1) * w.period) // the next tick after t
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

// Waiters counts the tickers and timers waiting on the fake time, so a
// test can move the time once what it drives is waiting.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// NewTicker returns a ticker on the fake time.
func (c *FakeClock) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("bot: non-positive interval for NewTicker")
	}
	return fakeTicker{c.add(d, d)}
}

// fakeTicker is a fakeWaiter as a Ticker.
type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time { return t.w.c }
func (t fakeTicker) Stop()               { t.w.Stop() }

// NewTimer returns a timer on the fake time.
func (c *FakeClock) NewTimer(d time.Duration) Timer { return c.add(d, 0) }

func (c *FakeClock) add(d, period time.Duration) *fakeWaiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &fakeWaiter{clock: c, at: c.now.Add(d), period: period, c: make(chan time.Time, 1)}
	c.waiters = append(c.waiters, w)
	if d <= 0 {
		c.moveTo(c.now)
	}
	return w
}

func (w *fakeWaiter) C() <-chan time.Time { return w.c }

// Stop removes the waiter; it reports whether it was still waiting.
func (w *fakeWaiter) Stop() bool {
	c := w.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.waiters, w)
	if i < 0 {
		return false
	}
	c.waiters = slices.Delete(c.waiters, i, i+1)
	return true
}

var (
	_ Ticker = fakeTicker{}
	_ Timer  = (*fakeWaiter)(nil)
)
