package bot

import (
	"context"
	"time"
)

// Wake tells klaxon's two workers that work may be due now rather than at
// their next tick: the outbox, when a transaction committed jobs, and the
// scheduler, when one set a timer (a page's first step). Every use case
// that commits such work, and a replica that hears another commit it,
// calls one of them; neither blocks. The methods of a nil *Wake do
// nothing, so a use case built without one still works on its ticks.
type Wake struct {
	jobs, timers chan struct{}
}

// NewWake returns a Wake whose workers listen on JobsDue and TimersDue.
func NewWake() *Wake {
	return &Wake{jobs: make(chan struct{}, 1), timers: make(chan struct{}, 1)}
}

// Jobs says jobs were committed: the outbox should look now.
func (w *Wake) Jobs() {
	if w != nil {
		signal(w.jobs)
	}
}

// Timers says a timer may be due now: the scheduler should tick.
func (w *Wake) Timers() {
	if w != nil {
		signal(w.timers)
	}
}

// Committed says a change committed both: Jobs and Timers.
func (w *Wake) Committed() {
	w.Jobs()
	w.Timers()
}

// JobsDue receives after Jobs (several calls may share one receive); nil
// (never ready) on a nil Wake.
func (w *Wake) JobsDue() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.jobs
}

// TimersDue receives after Timers; nil on a nil Wake.
func (w *Wake) TimersDue() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.timers
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default: // already signalled: one receive serves both
	}
}

// Every calls fn at once, then every interval and whenever woken
// receives (a nil woken never does), until ctx ends. The workers work out
// from their data what is due, so ticks missed while fn ran are caught up
// by the next one.
func Every(ctx context.Context, clock Clock, every time.Duration, woken <-chan struct{}, fn func(context.Context, time.Time)) {
	t := clock.NewTicker(every)
	defer t.Stop()
	for {
		fn(ctx, clock.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-woken:
		}
	}
}
