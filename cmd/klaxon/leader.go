package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// lease is leadership among replicas on one database (store/pg's Lease).
type lease interface {
	Try(ctx context.Context) (held bool, term int64, err error)
	Release(ctx context.Context) error
	TTL() time.Duration
}

// Roles a replica plays.
const (
	roleLeader  = "leader"
	roleStandby = "standby"
)

// lead runs work while this replica holds the lease, until ctx ends.
//
// A standby tries to take the lease every TTL/5. The leader renews it as
// often, and counts its leadership as ending TTL - TTL/5 after the start
// of its last successful renewal (the database counts TTL from later than
// that): when that moment comes without a renewal, it cancels work and
// waits for it to stop, then stands by. So a leader that loses the
// database stops acting before another replica may take over. work ending
// on its own ends lead with its error. On the way out the lease is given
// up, so a standby takes over at once.
func lead(ctx context.Context, l lease, log zerolog.Logger, role *atomic.Value, work func(context.Context) error) error {
	every := l.TTL() / 5
	role.Store(roleStandby)
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		start := time.Now()
		held, term, err := try(ctx, l, start.Add(every))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Warn().Err(err).Msg("could not reach the database for the leader lease")
		}
		if !held {
			if !wait(every) {
				return nil
			}
			continue
		}
		deadline := start.Add(l.TTL() - every)
		role.Store(roleLeader)
		log.Info().Int64("term", term).Msg("this replica leads: it runs the scheduler and the outbox")
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- work(wctx) }()
		ended, err := renew(ctx, l, log, deadline, every, done)
		cancel()
		if !ended {
			err = <-done // wait for it to stop acting
		}
		role.Store(roleStandby)
		if ctx.Err() != nil || ended {
			rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.Release(rctx)
			rcancel()
			return err
		}
		log.Warn().Msg("this replica lost the leader lease: it stopped the scheduler and the outbox, and stands by")
	}
}

// renew keeps the lease until ctx ends (ended=false), work ends
// (ended=true, with its error) or the lease is lost (ended=false).
func renew(ctx context.Context, l lease, log zerolog.Logger, deadline time.Time, every time.Duration, done <-chan error) (ended bool, err error) {
	for {
		t := time.NewTimer(max(0, min(every, time.Until(deadline))))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil
		case err := <-done:
			t.Stop()
			return true, err
		case <-t.C:
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		start := time.Now()
		held, _, err := try(ctx, l, deadline)
		switch {
		case err == nil && held:
			deadline = start.Add(l.TTL() - every)
		case err == nil:
			return false, nil // another replica has it
		default:
			log.Warn().Err(err).Time("acting_until", deadline).Msg("could not renew the leader lease")
		}
	}
}

// try asks for the lease, giving up at deadline.
func try(ctx context.Context, l lease, deadline time.Time) (bool, int64, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return l.Try(ctx)
}
