package pg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Appends wait for the next statement or COMMIT (the pipe). A late
// failure must still fail only its own write, a read after an append must
// see it, and a repeated source id must still be written once.
func TestPipelinedAppends(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	inc := &bot.Incident{Title: "pipe", Status: bot.StatusOpen}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(inc) }); err != nil {
		t.Fatal(err)
	}
	ev := func(src string) bot.Event {
		e := bot.NewEvent(bot.EventMessage, bot.User{ID: "U1", Name: "alice"}, time.Now(), "text "+src)
		e.SourceID = src
		return e
	}

	// In one transaction: append, read the incident (the append goes
	// first), append the same source id again (written once).
	var seq uint64
	err := s.Update(ctx, func(tx bot.Tx) error {
		evs := []bot.Event{ev("a")}
		if err := tx.AppendEvents(inc.ID, evs...); err != nil {
			return err
		}
		if _, err := tx.Incident(inc.ID); err != nil {
			return err
		}
		seq = evs[0].Seq
		return tx.AppendEvents(inc.ID, ev("a"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if seq != 1 {
		t.Errorf("the append's number was %d by the next read, want 1", seq)
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 1 {
		t.Errorf("%d events after appending one source id twice, want 1", n)
	}

	// A transaction of appends alone is one round trip: its second append
	// failing takes its first with it.
	before, _ := s.CountEvents(ctx, inc.ID)
	err = s.Update(ctx, func(tx bot.Tx) error {
		if err := tx.AppendEvents(inc.ID, ev("")); err != nil {
			return err
		}
		return tx.AppendEvents(bot.NewID(), ev(""))
	})
	if bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("appending to a missing incident: %v, want does not exist", err)
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != before {
		t.Errorf("%d events after a failed transaction, want %d: its first append was committed", n, before)
	}

	// Many writers at once, so they share transactions; every fifth
	// appends to an incident that does not exist. Those fail with "does not
	// exist"; every other one is written once, numbered without a gap: the
	// failure must not commit the writes that shared its transaction, which
	// then run again without it.
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := inc.ID
			if i%5 == 0 {
				id = bot.NewID()
			}
			// No source id: nothing would hide a write made twice.
			errs[i] = s.Update(ctx, func(tx bot.Tx) error { return tx.AppendEvents(id, ev("")) })
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%5 == 0 && bot.ErrorCode(err) != bot.ENOTFOUND:
			t.Errorf("write %d to a missing incident: %v, want does not exist", i, err)
		case i%5 != 0 && err != nil:
			t.Errorf("write %d failed with a neighbour's failure: %v", i, err)
		}
	}
	evs, err := s.Events(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 81 {
		t.Fatalf("%d events, want 81", len(evs))
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d is numbered %d: the timeline has a gap", i, e.Seq)
		}
	}
}

// Enqueued jobs are numbered by the database, in the statement sent with
// the next one: each key is its queue and a 16-digit hexadecimal number
// (the form keys had when Go numbered them, so older keys sort among
// them), in the order written, and the job's body says the same key. A
// coalescing job finds the one pending before it in the same
// transaction.
func TestEnqueuedJobsAreNumberedInOrder(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var jobs []bot.Job
	for range 17 { // past one hexadecimal digit
		jobs = append(jobs, bot.Job{Queue: "q", Platform: bot.PlatformSlack, Op: bot.OpPost, NextAttempt: at, Created: at})
	}
	summary := bot.Job{Queue: "q", Platform: bot.PlatformSlack, Op: bot.OpSummary, NextAttempt: at, Created: at}
	err := s.Update(ctx, func(tx bot.Tx) error {
		if err := tx.Enqueue(jobs[:10]...); err != nil {
			return err
		}
		if err := tx.Enqueue(summary, summary); err != nil { // the second finds the first
			return err
		}
		return tx.Enqueue(jobs[10:]...)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Run the queue: each due job in turn, as the outbox would.
	var ran []string
	for len(ran) < 30 {
		due, err := s.DueJobs(ctx, at, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 0 {
			break
		}
		j := due[0]
		ran = append(ran, j.Key+" "+string(j.Op))
		j.Status, j.Done = bot.JobDone, at
		if err := s.FinishJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The summary, asked for again while pending, runs once more under
	// its key before the jobs written after it.
	var want []string
	for n := 1; n <= 18; n++ {
		op := bot.OpPost
		if n == 11 {
			op = bot.OpSummary
			want = append(want, fmt.Sprintf("q/%016x %s", n, op))
		}
		want = append(want, fmt.Sprintf("q/%016x %s", n, op))
	}
	if !slices.Equal(ran, want) {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(ran, "\n"), strings.Join(want, "\n"))
	}
}
