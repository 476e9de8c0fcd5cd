package bolt_test

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

func enqueue(t *testing.T, s *bolt.Store, jobs ...bot.Job) {
	t.Helper()
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(jobs...) }); err != nil {
		t.Fatal(err)
	}
}

func due(t *testing.T, s *bolt.Store, now time.Time) []bot.Job {
	t.Helper()
	js, err := s.DueJobs(ctx, now, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// Only a queue's first pending job is due; pages come before hooks and
// hooks before chat, whatever their times.
func TestOutboxQueuesAndPriorities(t *testing.T) {
	s := openTemp(t)
	chat := func(queue string, op bot.JobOp, at time.Time) bot.Job {
		return bot.Job{Queue: queue, Platform: bot.PlatformSlack, Op: op, Channel: "C1", NextAttempt: at, Created: at}
	}
	page := bot.Job{Queue: "p1", Op: bot.OpPage, Delivery: &bot.Delivery{Key: "p1", Pager: "pd"}, NextAttempt: t0.Add(time.Minute), Created: t0}
	hook := bot.Job{Queue: "hook:h", Op: bot.OpHook, Hook: &bot.HookDelivery{Key: "k", Hook: "h"}, NextAttempt: t0.Add(30 * time.Second), Created: t0}
	enqueue(t, s, chat("inc", bot.OpPost, t0), chat("inc", bot.OpPin, t0), hook, page)
	got := due(t, s, t0.Add(time.Hour))
	if len(got) != 3 || got[0].Op != bot.OpPage || got[1].Op != bot.OpHook || got[2].Op != bot.OpPost {
		t.Fatalf("due = %+v; want the page, the hook, then the incident queue's head only", got)
	}
	// want passes over what the reader cannot start, by destination.
	picked, err := s.DueJobs(ctx, t0.Add(time.Hour), 0, func(key, dest []byte) bool { return string(dest) != "slack" })
	if err != nil || len(picked) != 2 {
		t.Fatalf("without slack: %+v, %v", picked, err)
	}
	// Finishing the head makes the next job of its queue due.
	head := got[2]
	if ok, _ := s.StillDue(ctx, head); !ok {
		t.Fatal("the head is not still due")
	}
	head.Status, head.Done = bot.JobDone, t0
	if err := s.FinishJob(ctx, head, nil); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.StillDue(ctx, head); ok {
		t.Error("a finished job is still due")
	}
	if got := due(t, s, t0.Add(time.Hour)); len(got) != 3 || got[2].Op != bot.OpPin {
		t.Fatalf("after the post: %+v; want the pin next", got)
	}
}

// Cancelled jobs leave the outbox. One that was in flight is recorded only
// if it got through; a coalescing job cancelled does not swallow the next.
func TestOutboxCancel(t *testing.T) {
	s := openTemp(t)
	trigger := bot.Job{Queue: "d1", Op: bot.OpPage, Delivery: &bot.Delivery{Key: "d1", Pager: "pd"}, NextAttempt: t0, Created: t0}
	summary := bot.Job{Queue: "inc", Platform: bot.PlatformSlack, Op: bot.OpSummary, NextAttempt: t0, Created: t0}
	enqueue(t, s, trigger, summary)
	inFlight := due(t, s, t0)
	if err := s.Update(ctx, func(tx bot.Tx) error {
		if err := tx.CancelJobs("d1"); err != nil {
			return err
		}
		return tx.CancelJobs("inc")
	}); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0); len(got) != 0 {
		t.Fatalf("due after cancelling: %+v", got)
	}
	ran := 0
	then := func(bot.Tx) error { ran++; return nil }
	failed := inFlight[0]
	failed.Status, failed.Attempts = bot.JobFailed, 1
	if err := s.FinishJob(ctx, failed, then); err != nil || ran != 0 {
		t.Errorf("a cancelled job that failed: err %v, recorded %d times; want nothing recorded", err, ran)
	}
	done := inFlight[0]
	done.Status, done.Done = bot.JobDone, t0
	if err := s.FinishJob(ctx, done, then); err != nil || ran != 1 {
		t.Errorf("a cancelled job that got through: err %v, recorded %d times; want once", err, ran)
	}
	enqueue(t, s, summary)
	if got := due(t, s, t0); len(got) != 1 || got[0].Op != bot.OpSummary {
		t.Errorf("a summary update after a cancelled one: %+v; want it queued", got)
	}
}

// RetryNow brings forward what waits out a backoff at a destination that
// answers again, but not a chat job waiting out its method's Retry-After.
func TestOutboxRetryNow(t *testing.T) {
	s := openTemp(t)
	later := t0.Add(time.Hour)
	backedOff := bot.Job{Queue: "a", Platform: bot.PlatformSlack, Op: bot.OpPost, Channel: "C1", Attempts: 3, NextAttempt: later, Created: t0}
	limited := bot.Job{Queue: "b", Platform: bot.PlatformSlack, Op: bot.OpPost, Channel: "C1", Attempts: 1, RateLimited: true, NextAttempt: later, Created: t0}
	other := bot.Job{Queue: "c", Platform: bot.PlatformDiscord, Op: bot.OpPost, Channel: "C1", Attempts: 2, NextAttempt: later, Created: t0}
	enqueue(t, s, backedOff, limited, other)
	n, err := s.RetryNow(ctx, "slack", t0)
	if err != nil || n != 1 {
		t.Fatalf("RetryNow = %d, %v; want the one backed-off slack job", n, err)
	}
	if got := due(t, s, t0); len(got) != 1 || got[0].Queue != "a" {
		t.Errorf("due now: %+v", got)
	}
}
