// Package storetest is the contract every store.Backend meets: the bbolt
// file and PostgreSQL run the same suite, so klaxon behaves the same on
// either (as litestream runs one suite against every replica client).
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.UTC)

// Run runs the contract against fresh stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	ctx := context.Background()
	tests := map[string]func(t *testing.T, s store.Backend){
		"IncidentsAndNumbers":   incidentsAndNumbers,
		"TimelineOrderAndDedup": timelineOrderAndDedup,
		"PagesAndDue":           pagesAndDue,
		"Deliveries":            deliveries,
		"Outbox":                outbox,
		"OutboxCoalesces":       outboxCoalesces,
		"OnCallAndCursors":      onCallAndCursors,
		"FollowUpsAndAlerts":    followUpsAndAlerts,
		"Heartbeats":            heartbeats,
		"Reminders":             reminders,
		"ExportAndCounts":       exportAndCounts,
		"ConcurrentWriters":     concurrentWriters,
		"DueWhileAQueueMoves":   dueWhileAQueueMoves,
		"ChannelsInCreation":    channelsInCreation,
		"Profiles":              profiles,
		"Sessions":              sessions,
		"Subscribers":           subscribers,
		"Idempotency":           idempotency,
		"IncidentIndexes":       incidentIndexes,
		"PostmortemVersions":    postmortemVersions,
		"FailedUpdateWritesNothing": func(t *testing.T, s store.Backend) {
			inc := declare(t, s, "x")
			err := s.Update(ctx, func(tx bot.Tx) error {
				cur, _ := tx.Incident(inc.ID)
				cur.Title = "changed"
				if err := tx.PutIncident(cur); err != nil {
					return err
				}
				if err := tx.AppendEvents(inc.ID, bot.NewEvent(bot.EventNote, bot.User{ID: "a"}, t0, "lost")); err != nil {
					return err
				}
				return errors.New("refused")
			})
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("Update = %v; want fn's error", err)
			}
			got, _ := s.Incident(ctx, inc.ID)
			if n, _ := s.CountEvents(ctx, inc.ID); got.Title != "x" || n != 1 {
				t.Errorf("a failed update wrote: title %q, %d events", got.Title, n)
			}
		},
	}
	names := make([]string, 0, len(tests))
	for name := range tests {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			tests[name](t, s)
			if err := s.Check(); err != nil {
				t.Errorf("Check after %s: %v", name, err)
			}
			if err := s.Ready(); err != nil {
				t.Errorf("Ready: %v", err)
			}
		})
	}
}

func update(t *testing.T, s store.Backend, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// declare stores an incident with one event.
func declare(t *testing.T, s store.Backend, title string) *bot.Incident {
	t.Helper()
	inc := &bot.Incident{Title: title, Status: bot.StatusOpen, Severity: bot.DefaultSeverities()[0], Platform: bot.PlatformSlack, DeclaredAt: t0}
	update(t, s, func(tx bot.Tx) error {
		return tx.CreateIncident(inc, bot.NewEvent(bot.EventDeclared, bot.User{ID: "U1"}, t0, "declared"))
	})
	return inc
}

func incidentsAndNumbers(t *testing.T, s store.Backend) {
	ctx := context.Background()
	a, b, c := declare(t, s, "a"), declare(t, s, "b"), declare(t, s, "c")
	if a.Number != 1 || b.Number != 2 || c.Number != 3 {
		t.Fatalf("numbers %d %d %d; want 1 2 3", a.Number, b.Number, c.Number)
	}
	// A transaction that fails takes no number.
	s.Update(ctx, func(tx bot.Tx) error {
		tx.CreateIncident(&bot.Incident{Title: "lost", Status: bot.StatusOpen})
		return errors.New("no")
	})
	d := declare(t, s, "d")
	if d.Number != 4 {
		t.Errorf("after a failed declaration the next number is %d; want 4", d.Number)
	}
	update(t, s, func(tx bot.Tx) error {
		cur, err := tx.Incident(b.ID)
		if err != nil {
			return err
		}
		cur.Channel, cur.Status, cur.Number = bot.ChannelRef{ID: "C2", Name: "inc-2-b"}, bot.StatusResolved, 99
		return tx.PutIncident(cur)
	})
	got, err := s.IncidentByChannel(ctx, bot.PlatformSlack, "C2")
	if err != nil || got.ID != b.ID || got.Number != 2 {
		t.Errorf("IncidentByChannel = %+v, %v; want INC-2 (its number kept)", got, err)
	}
	if _, err := s.IncidentByChannel(ctx, bot.PlatformDiscord, "C2"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("another platform's channel: %v; want ENOTFOUND", err)
	}
	if got, err := s.IncidentByNumber(ctx, 3); err != nil || got.ID != c.ID {
		t.Errorf("IncidentByNumber(3) = %+v, %v", got, err)
	}
	if _, err := s.IncidentByNumber(ctx, 42); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("IncidentByNumber(42): %v; want ENOTFOUND", err)
	}
	if _, err := s.Incident(ctx, uuid.New()); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("Incident(unknown): %v; want ENOTFOUND", err)
	}
	numbers := func(f bot.IncidentFilter) string {
		incs, err := s.ListIncidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, inc := range incs {
			out = append(out, fmt.Sprint(inc.Number))
		}
		return strings.Join(out, ",")
	}
	for f, want := range map[bot.IncidentFilter]string{
		{}:                            "4,3,2,1",
		{ActiveOnly: true}:            "4,3,1",
		{Limit: 2}:                    "4,3",
		{Limit: 2, Before: 3}:         "2,1",
		{ActiveOnly: true, Before: 4}: "3,1",
	} {
		if got := numbers(f); got != want {
			t.Errorf("ListIncidents(%+v) = %s; want %s", f, got, want)
		}
	}
	err = s.Update(ctx, func(tx bot.Tx) error { return tx.PutIncident(&bot.Incident{ID: uuid.New()}) })
	if bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("PutIncident of an unknown incident: %v; want ENOTFOUND", err)
	}
}

func timelineOrderAndDedup(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	for i := range 20 {
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "U1"}, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("m%d", i))
		ev.SourceID = fmt.Sprintf("slack:Ev%d", i%15) // five redeliveries
		ev.Ref = bot.MessageRef{Channel: "C1", ID: fmt.Sprint(i)}
		update(t, s, func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, ev) })
	}
	n, err := s.CountEvents(ctx, inc.ID)
	if err != nil || n != 16 {
		t.Fatalf("CountEvents = %d, %v; want 16 (the declaration and 15 messages, redeliveries once)", n, err)
	}
	evs, err := s.Events(ctx, inc.ID, 0, 0)
	if err != nil || len(evs) != 16 {
		t.Fatalf("Events = %d, %v", len(evs), err)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) || ev.IncidentID != inc.ID {
			t.Fatalf("event %d has seq %d incident %s", i, ev.Seq, ev.IncidentID)
		}
		if i > 0 && ev.Text != fmt.Sprintf("m%d", i-1) {
			t.Fatalf("event %d is %q", i, ev.Text)
		}
	}
	if !evs[3].Time.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("event time %v does not round-trip", evs[3].Time)
	}
	page, _ := s.Events(ctx, inc.ID, 5, 3)
	if len(page) != 3 || page[0].Seq != 5 || page[2].Seq != 7 {
		t.Errorf("Events(from 5, 3) = %v", page)
	}
	var streamed, brief []uint64
	s.EachEvent(ctx, inc.ID, func(ev bot.Event) error { streamed = append(streamed, ev.Seq); return nil })
	s.EachEventBrief(ctx, inc.ID, func(ev bot.Event) error {
		if ev.Ref.ID != "" {
			return errors.New("a brief event carries its ref")
		}
		brief = append(brief, ev.Seq)
		return nil
	})
	if len(streamed) != 16 || !slices.Equal(streamed, brief) || !slices.IsSorted(streamed) {
		t.Errorf("EachEvent %v, EachEventBrief %v", streamed, brief)
	}
	stop := errors.New("stop")
	if err := s.EachEvent(ctx, inc.ID, func(bot.Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("EachEvent does not return fn's error: %v", err)
	}
	ev, ok, err := s.LastAbout(ctx, inc.ID, bot.MessageRef{Channel: "C1", ID: "12"}, 10, bot.EventMessage)
	if err != nil || !ok || ev.Text != "m12" {
		t.Errorf("LastAbout = %+v, %v, %v", ev, ok, err)
	}
	if _, ok, _ := s.LastAbout(ctx, inc.ID, bot.MessageRef{Channel: "C1", ID: "1"}, 5, bot.EventMessage); ok {
		t.Error("LastAbout looked further back than its limit")
	}
	if err := s.Update(ctx, func(tx bot.Tx) error {
		return tx.AppendEvents(uuid.New(), bot.NewEvent(bot.EventNote, bot.User{}, t0, "x"))
	}); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("appending to an unknown incident: %v", err)
	}
	if _, err := s.Events(ctx, uuid.New(), 0, 0); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("Events of an unknown incident: %v", err)
	}
	// Forgotten source ids may be recorded again (a redelivery after the
	// window is a new event to klaxon).
	if n, err := s.PruneSeen(t0.Add(10 * time.Second)); err != nil || n != 10 {
		t.Errorf("PruneSeen = %d, %v; want the 10 records older than 10 s", n, err)
	}
	old := bot.NewEvent(bot.EventMessage, bot.User{ID: "U1"}, t0, "again")
	old.SourceID = "slack:Ev0"
	update(t, s, func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, old) })
	if n, _ := s.CountEvents(ctx, inc.ID); n != 17 {
		t.Errorf("after pruning, a redelivery of Ev0 was not recorded: %d events", n)
	}
}

func pagesAndDue(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	p1 := &bot.Page{IncidentID: inc.ID, Status: bot.PageTriggered, NextAt: t0.Add(5 * time.Minute), Created: t0}
	p2 := &bot.Page{IncidentID: inc.ID, Status: bot.PageTriggered, NextAt: t0.Add(time.Minute), Created: t0.Add(time.Second)}
	update(t, s, func(tx bot.Tx) error {
		if err := tx.PutPage(p1); err != nil {
			return err
		}
		if err := tx.PutPage(p2); err != nil {
			return err
		}
		return tx.LinkPage(bot.PlatformSlack, bot.MessageRef{Channel: "D1", ID: "1.2"}, p1.ID)
	})
	due := func(at time.Time) []uuid.UUID {
		ids, err := s.DuePages(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := due(t0); len(got) != 0 {
		t.Errorf("due at t0: %v", got)
	}
	if got := due(t0.Add(10 * time.Minute)); !slices.Equal(got, []uuid.UUID{p2.ID, p1.ID}) {
		t.Errorf("due later: %v; want p2 then p1", got)
	}
	// Acknowledged: its timer goes.
	update(t, s, func(tx bot.Tx) error {
		cur, err := tx.Page(p2.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.NextAt = bot.PageAcknowledged, time.Time{}
		return tx.PutPage(cur)
	})
	if got := due(t0.Add(10 * time.Minute)); !slices.Equal(got, []uuid.UUID{p1.ID}) {
		t.Errorf("due after the ack: %v; want p1", got)
	}
	pages, err := s.PagesForIncident(ctx, inc.ID)
	if err != nil || len(pages) != 2 || pages[0].ID != p1.ID || pages[1].Status != bot.PageAcknowledged {
		t.Errorf("PagesForIncident = %v, %v", pages, err)
	}
	if id, ok, err := s.PageByRef(ctx, bot.PlatformSlack, bot.MessageRef{Channel: "D1", ID: "1.2"}); err != nil || !ok || id != p1.ID {
		t.Errorf("PageByRef = %v %v %v", id, ok, err)
	}
	if _, ok, _ := s.PageByRef(ctx, bot.PlatformDiscord, bot.MessageRef{Channel: "D1", ID: "1.2"}); ok {
		t.Error("PageByRef found another platform's message")
	}
	if _, err := s.Page(ctx, uuid.New()); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("Page(unknown): %v", err)
	}
}

// deliveries: a page's deliveries are read by key and in key order,
// replaced by key, kept apart from other pages', and refused for a page
// that does not exist.
func deliveries(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	p1, p2 := &bot.Page{IncidentID: inc.ID, Created: t0}, &bot.Page{IncidentID: inc.ID, Created: t0}
	update(t, s, func(tx bot.Tx) error {
		for _, p := range []*bot.Page{p1, p2} {
			if err := tx.PutPage(p); err != nil {
				return err
			}
		}
		for _, d := range []bot.Delivery{{PageID: p1.ID, Key: "b:1", Pager: "pd"}, {PageID: p1.ID, Key: "a", Pager: "sms", To: "+1"}, {PageID: p2.ID, Key: "a"}, {PageID: p1.ID, Key: "b:2"}, {PageID: p1.ID, Key: "c%b"}} {
			d.Status = bot.DeliveryPending
			if err := tx.PutDelivery(&d); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx bot.Tx) error {
		d, err := tx.Delivery(p1.ID, "a")
		if err != nil || d == nil || d.Pager != "sms" || d.To != "+1" {
			return fmt.Errorf("Delivery(p1, a) = %+v, %v", d, err)
		}
		if d, err := tx.Delivery(p1.ID, "c"); d != nil || err != nil {
			return fmt.Errorf("Delivery(p1, c) = %+v, %v; want none", d, err)
		}
		d.Status, d.Attempts = bot.DeliverySent, 2
		return tx.PutDelivery(d)
	})
	ds, err := s.PageDeliveries(ctx, p1.ID)
	if err != nil || len(ds) != 4 || ds[0].Key != "a" || ds[0].Status != bot.DeliverySent || ds[0].Attempts != 2 || ds[1].Key != "b:1" || ds[1].Status != bot.DeliveryPending {
		t.Errorf("PageDeliveries(p1) = %+v, %v; want a (sent, 2 attempts), b:1 (pending), b:2, c%%b", ds, err)
	}
	if ds, err := s.PageDeliveries(ctx, p2.ID); err != nil || len(ds) != 1 || ds[0].Status != bot.DeliveryPending {
		t.Errorf("PageDeliveries(p2) = %+v, %v; want its one, untouched", ds, err)
	}
	update(t, s, func(tx bot.Tx) error {
		var keys []string
		for _, prefix := range []string{"", "b:", "c%", "%", "z"} {
			ds, err := tx.Deliveries(p1.ID, prefix)
			if err != nil {
				return err
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.Key)
			}
			keys = append(keys, prefix+"="+strings.Join(got, ","))
		}
		if got := strings.Join(keys, " "); got != "=a,b:1,b:2,c%b b:=b:1,b:2 c%=c%b %= z=" {
			return fmt.Errorf("tx.Deliveries(p1, prefix) = %s", got)
		}
		return nil
	})
	err = s.Update(ctx, func(tx bot.Tx) error { return tx.PutDelivery(&bot.Delivery{PageID: uuid.New(), Key: "a"}) })
	if bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("a delivery of no page: %v; want not found", err)
	}
	c, err := s.Counts(ctx)
	if err != nil || c.Deliveries[bot.DeliverySent] != 1 || c.Deliveries[bot.DeliveryPending] != 4 {
		t.Errorf("Counts.Deliveries = %v, %v; want 1 sent, 4 pending", c.Deliveries, err)
	}
}

// job is a chat job of queue.
func job(queue string, op bot.JobOp, at time.Time) bot.Job {
	return bot.Job{Queue: queue, Platform: bot.PlatformSlack, Op: op, NextAttempt: at, Created: at}
}

func keys(jobs []bot.Job) string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Queue+":"+string(j.Op))
	}
	return strings.Join(out, ",")
}

func outbox(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	q := inc.ID.String()
	page := bot.Job{Queue: "page:1", Op: bot.OpPage, Delivery: &bot.Delivery{Pager: "pd"}, NextAttempt: t0.Add(time.Second), Created: t0}
	update(t, s, func(tx bot.Tx) error {
		return tx.Enqueue(job(q, bot.OpCreateChannel, t0), job(q, bot.OpPost, t0), job("channel:C9", bot.OpPost, t0.Add(2*time.Second)), page)
	})
	due := func(at time.Time, want func(key, dest []byte) bool) []bot.Job {
		jobs, err := s.DueJobs(ctx, at, 0, want)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	// One job per queue, pages first.
	if got := keys(due(t0.Add(time.Hour), nil)); got != "page:1:page,"+q+":create_channel,channel:C9:post" {
		t.Errorf("due = %s", got)
	}
	if got := keys(due(t0, nil)); got != q+":create_channel" {
		t.Errorf("due at t0 = %s", got)
	}
	if got := due(t0.Add(time.Hour), func(key, dest []byte) bool { return string(dest) == "pager:pd" }); len(got) != 1 || got[0].Op != bot.OpPage {
		t.Errorf("due for pager:pd = %s", keys(got))
	}
	if n, err := s.DueJobs(ctx, t0.Add(time.Hour), 1, nil); err != nil || len(n) != 2 {
		t.Errorf("DueJobs with limit 1 per priority = %s, %v", keys(n), err)
	}
	first := due(t0, nil)[0]
	if ok, _ := s.StillDue(ctx, first); !ok {
		t.Error("StillDue of the due head is false")
	}
	// A failed attempt moves it; a success lets the next of its queue go.
	retry := first
	retry.Attempts, retry.NextAttempt, retry.LastError = 1, t0.Add(time.Minute), "503"
	if err := s.FinishJob(ctx, retry, nil); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.StillDue(ctx, first); ok {
		t.Error("StillDue of a moved job is true")
	}
	if got := keys(due(t0.Add(30*time.Second), nil)); strings.Contains(got, q) {
		t.Errorf("a job waiting out its backoff is due: %s", got)
	}
	// The platform is back: what waits out a backoff goes now.
	if n, err := s.RetryNow(ctx, "slack", t0.Add(30*time.Second)); err != nil || n != 1 {
		t.Errorf("RetryNow = %d, %v; want 1", n, err)
	}
	head := due(t0.Add(30*time.Second), func(key, _ []byte) bool { return strings.HasPrefix(string(key), q) })
	if keys(head) != q+":create_channel" || head[0].Attempts != 1 || !head[0].NextAttempt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("due after RetryNow = %s", keys(head))
	}
	done := head[0]
	done.Status, done.Done = bot.JobDone, t0.Add(31*time.Second)
	if err := s.FinishJob(ctx, done, func(tx bot.Tx) error {
		return tx.AppendEvents(inc.ID, bot.NewEvent(bot.EventChannel, bot.User{}, t0, "channel made"))
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 2 {
		t.Errorf("FinishJob's then did not commit: %d events", n)
	}
	if got := keys(due(t0.Add(time.Hour), nil)); got != "page:1:page,"+q+":post,channel:C9:post" {
		t.Errorf("due after the first finished = %s", got)
	}
	// A refusal for good stays, failed; the queue goes on.
	post := due(t0.Add(time.Hour), func(k, _ []byte) bool { return strings.HasPrefix(string(k), q) })[0]
	post.Status, post.LastError = bot.JobFailed, "not_in_channel"
	if err := s.FinishJob(ctx, post, nil); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingJobs(ctx, inc.ID)
	if err != nil || len(pending) != 1 || pending[0].Status != bot.JobFailed {
		t.Errorf("PendingJobs = %+v, %v; want the failed post", pending, err)
	}
	counts, err := s.CountJobs(ctx)
	if err != nil || counts["slack"][bot.JobFailed] != 1 || counts["slack"][bot.JobPending] != 1 || counts["pager:pd"][bot.JobPending] != 1 {
		t.Errorf("CountJobs = %v, %v", counts, err)
	}
	// Cancelling a queue drops its pending jobs; one finishing after that
	// records only a success.
	update(t, s, func(tx bot.Tx) error { return tx.CancelJobs("page:1") })
	if got := keys(due(t0.Add(time.Hour), nil)); strings.Contains(got, "page:1") {
		t.Errorf("a cancelled job is due: %s", got)
	}
	failed := page
	failed.Status = bot.JobFailed
	if err := s.FinishJob(ctx, failed, func(bot.Tx) error { return errors.New("must not run") }); err != nil {
		t.Errorf("finishing a cancelled job with a failure: %v", err)
	}
	ran := false
	page.Status = bot.JobDone
	if err := s.FinishJob(ctx, page, func(bot.Tx) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("finishing a cancelled job with a success: %v, then ran %v", err, ran)
	}
	// Named messages.
	update(t, s, func(tx bot.Tx) error { return tx.NameMessage("offer:1", bot.MessageRef{Channel: "C1", ID: "9.9"}) })
	if ref, ok, err := s.Named(ctx, "offer:1"); err != nil || !ok || ref.ID != "9.9" {
		t.Errorf("Named = %+v %v %v", ref, ok, err)
	}
	if _, ok, _ := s.Named(ctx, "offer:2"); ok {
		t.Error("Named found a name never given")
	}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(bot.Job{Op: bot.OpPost}) }); err == nil {
		t.Error("a job without a queue was enqueued")
	}
}

func outboxCoalesces(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	q := inc.ID.String()
	summary := func() bot.Job { return job(q, bot.OpSummary, t0) }
	update(t, s, func(tx bot.Tx) error { return tx.Enqueue(summary(), summary(), summary()) })
	pending, _ := s.PendingJobs(ctx, inc.ID)
	if len(pending) != 1 {
		t.Fatalf("three summary updates left %d jobs; want 1", len(pending))
	}
	// Asked for again while it runs: it runs once more.
	running := pending[0]
	update(t, s, func(tx bot.Tx) error { return tx.Enqueue(summary()) })
	running.Status, running.Done = bot.JobDone, t0.Add(time.Second)
	if err := s.FinishJob(ctx, running, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := s.DueJobs(ctx, t0.Add(time.Minute), 0, nil)
	if len(again) != 1 || again[0].Key != running.Key || again[0].Status != bot.JobPending {
		t.Fatalf("the summary wanted while it ran is not due again: %+v", again)
	}
	again[0].Status, again[0].Done = bot.JobDone, t0.Add(2*time.Second)
	if err := s.FinishJob(ctx, again[0], nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PendingJobs(ctx, inc.ID); len(p) != 0 {
		t.Errorf("jobs left: %+v", p)
	}
	// Done, it no longer coalesces: the next is a new job.
	update(t, s, func(tx bot.Tx) error { return tx.Enqueue(summary()) })
	if p, _ := s.PendingJobs(ctx, inc.ID); len(p) != 1 || p[0].Key == running.Key {
		t.Errorf("after it finished, a new summary update is %+v", p)
	}
}

func onCallAndCursors(t *testing.T, s store.Backend) {
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 5 {
		c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, Author: bot.User{ID: fmt.Sprint(i)}, At: t0.Add(time.Duration(i) * time.Minute),
			Override: &bot.Override{ID: bot.NewID(), Schedule: "s", Person: "alice", Start: t0, End: t0.Add(time.Hour)}}
		ids = append(ids, c.ID)
		update(t, s, func(tx bot.Tx) error { return tx.AddOnCallChange(c) })
	}
	dup := &bot.OnCallChange{ID: ids[2], Kind: bot.ChangeUndo}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.AddOnCallChange(dup) }); err == nil {
		t.Error("an on-call change was replaced: the history is append-only")
	}
	h, err := s.OnCallChanges(ctx)
	if err != nil || len(h) != 5 {
		t.Fatalf("OnCallChanges = %d, %v", len(h), err)
	}
	for i, c := range h {
		if c.ID != ids[i] || c.Kind != bot.ChangeOverride || !c.At.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("change %d = %+v", i, c)
		}
	}
	if _, ok, _ := s.Cursor(ctx, "handoff:s"); ok {
		t.Error("a cursor never set exists")
	}
	update(t, s, func(tx bot.Tx) error { return tx.SetCursor("handoff:s", t0) })
	update(t, s, func(tx bot.Tx) error { return tx.SetCursor("handoff:s", t0.Add(time.Second)) })
	if at, ok, err := s.Cursor(ctx, "handoff:s"); err != nil || !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("Cursor = %v %v %v", at, ok, err)
	}
}

func followUpsAndAlerts(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	for i := range 3 {
		f := &bot.FollowUp{IncidentID: inc.ID, Text: fmt.Sprint("f", i), Created: t0}
		update(t, s, func(tx bot.Tx) error {
			return tx.AddFollowUp(f, bot.NewEvent(bot.EventFollowUp, bot.User{ID: "a"}, t0, "added"))
		})
		if f.Number != int64(i+1) {
			t.Errorf("follow-up %d numbered %d", i, f.Number)
		}
	}
	update(t, s, func(tx bot.Tx) error {
		f, err := tx.FollowUp(2)
		if err != nil {
			return err
		}
		f.Done = true
		return tx.PutFollowUp(f)
	})
	if f, err := s.FollowUp(ctx, 2); err != nil || !f.Done {
		t.Errorf("FollowUp(2) = %+v, %v", f, err)
	}
	if fs, err := s.FollowUps(ctx); err != nil || len(fs) != 3 || fs[0].Number != 1 || fs[2].Text != "f2" {
		t.Errorf("FollowUps = %v, %v", fs, err)
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 4 {
		t.Errorf("each follow-up's event: %d events; want 4", n)
	}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.PutFollowUp(&bot.FollowUp{Number: 9}) }); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("PutFollowUp(F-9): %v", err)
	}
	update(t, s, func(tx bot.Tx) error { return tx.PutPostmortem(inc.ID, []byte("# v1")) })
	update(t, s, func(tx bot.Tx) error { return tx.PutPostmortem(inc.ID, []byte("# v2")) })
	if md, err := s.Postmortem(ctx, inc.ID); err != nil || string(md) != "# v2" {
		t.Errorf("Postmortem = %q, %v", md, err)
	}
	if _, err := s.Postmortem(ctx, uuid.New()); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("Postmortem(unknown): %v", err)
	}
	update(t, s, func(tx bot.Tx) error { return tx.SetAlertIncident("am:abc", inc.ID) })
	if id, ok, err := s.AlertIncident(ctx, "am:abc"); err != nil || !ok || id != inc.ID {
		t.Errorf("AlertIncident = %v %v %v", id, ok, err)
	}
	if _, ok, _ := s.AlertIncident(ctx, "am:other"); ok {
		t.Error("AlertIncident found an unknown group")
	}
}

func heartbeats(t *testing.T, s store.Backend) {
	ctx := context.Background()
	for i, name := range []string{"etl", "backup", "cron"} {
		if err := s.PutHeartbeat(ctx, bot.HeartbeatState{Name: name, Due: t0.Add(time.Duration(3-i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// A ping moves etl's due time on.
	if err := s.PutHeartbeat(ctx, bot.HeartbeatState{Name: "etl", LastPing: t0, Due: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueHeartbeats(ctx, t0.Add(5*time.Minute))
	if err != nil || !slices.Equal(due, []string{"cron", "backup"}) {
		t.Errorf("DueHeartbeats = %v, %v; want cron, backup", due, err)
	}
	hb, ok, err := s.Heartbeat(ctx, "etl")
	if err != nil || !ok || !hb.LastPing.Equal(t0) || !hb.Due.Equal(t0.Add(time.Hour)) {
		t.Errorf("Heartbeat(etl) = %+v %v %v", hb, ok, err)
	}
	if _, ok, _ := s.Heartbeat(ctx, "nope"); ok {
		t.Error("Heartbeat found an unknown name")
	}
}

func reminders(t *testing.T, s store.Backend) {
	ctx := context.Background()
	a, b := declare(t, s, "a"), declare(t, s, "b")
	update(t, s, func(tx bot.Tx) error {
		for _, r := range []bot.Reminder{
			{IncidentID: a.ID, Kind: bot.RemindUpdate, At: t0.Add(30 * time.Minute)},
			{IncidentID: b.ID, Kind: bot.RemindUpdate, At: t0.Add(10 * time.Minute)},
			{IncidentID: a.ID, Kind: bot.RemindCommander, At: t0.Add(20 * time.Minute)},
		} {
			if err := tx.SetReminder(r); err != nil {
				return err
			}
		}
		return nil
	})
	// Moved and cancelled.
	update(t, s, func(tx bot.Tx) error {
		if err := tx.SetReminder(bot.Reminder{IncidentID: a.ID, Kind: bot.RemindUpdate, At: t0.Add(5 * time.Minute)}); err != nil {
			return err
		}
		return tx.SetReminder(bot.Reminder{IncidentID: a.ID, Kind: bot.RemindCommander})
	})
	rs, err := s.DueReminders(ctx, t0.Add(time.Hour))
	if err != nil || len(rs) != 2 || rs[0].IncidentID != a.ID || rs[1].IncidentID != b.ID || !rs[0].At.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("DueReminders = %+v, %v", rs, err)
	}
	if rs, _ := s.DueReminders(ctx, t0); len(rs) != 0 {
		t.Errorf("due at t0: %+v", rs)
	}
}

func exportAndCounts(t *testing.T, s store.Backend) {
	ctx := context.Background()
	a, b := declare(t, s, "a"), declare(t, s, "b")
	update(t, s, func(tx bot.Tx) error {
		if err := tx.AppendEvents(a.ID, bot.NewEvent(bot.EventNote, bot.User{ID: "x"}, t0, "n")); err != nil {
			return err
		}
		pg := &bot.Page{IncidentID: b.ID, Status: bot.PageTriggered, Created: t0}
		if err := tx.PutPage(pg); err != nil {
			return err
		}
		for i, st := range []bot.DeliveryStatus{bot.DeliverySent, bot.DeliveryPending, bot.DeliveryPending} {
			if err := tx.PutDelivery(&bot.Delivery{PageID: pg.ID, Key: fmt.Sprint(i), Status: st}); err != nil {
				return err
			}
		}
		// One goes out: the counts move with it.
		return tx.PutDelivery(&bot.Delivery{PageID: pg.ID, Key: "1", Status: bot.DeliverySent})
	})
	var buf bytes.Buffer
	incs, evs, err := s.Export(&buf)
	if err != nil || incs != 2 || evs != 3 {
		t.Fatalf("Export = %d incidents, %d events, %v", incs, evs, err)
	}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r store.ExportRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		switch r.Type {
		case "incident":
			order = append(order, r.Incident.Title)
		case "event":
			order = append(order, string(r.Event.Kind))
		}
	}
	if got := strings.Join(order, ","); got != "a,declared,note,b,declared" {
		t.Errorf("export order = %s", got)
	}
	c, err := s.Counts(ctx)
	if err != nil || c.TimelineEvents != 3 || c.Deliveries[bot.DeliverySent] != 2 || c.Deliveries[bot.DeliveryPending] != 1 {
		t.Errorf("Counts = %+v, %v", c, err)
	}
}

// concurrentWriters: 16 writers append at once; every event is recorded
// once, each timeline numbered without gaps, and incident numbers are
// unique.
func concurrentWriters(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	var wg sync.WaitGroup
	errs := make(chan error, 16*20)
	for w := range 16 {
		wg.Go(func() {
			for i := range 20 {
				ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "U"}, t0, "m")
				ev.SourceID = fmt.Sprintf("ev-%d", (w*20+i)%200) // 120 redeliveries
				if err := s.Update(ctx, func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, ev) }); err != nil {
					errs <- err
				}
			}
			if err := s.Update(ctx, func(tx bot.Tx) error {
				return tx.CreateIncident(&bot.Incident{Title: "w", Status: bot.StatusOpen})
			}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs, _ := s.Events(ctx, inc.ID, 0, 0)
	if len(evs) != 201 {
		t.Errorf("%d events; want 201 (each source id once)", len(evs))
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	incs, _ := s.ListIncidents(ctx, bot.IncidentFilter{})
	if len(incs) != 17 || incs[0].Number != 17 {
		t.Errorf("%d incidents, newest INC-%d; want 17", len(incs), incs[0].Number)
	}
}

// dueWhileAQueueMoves: while one worker finishes a queue's jobs one after
// another, a reader never finds nothing due: each read sees the queue's
// head as one moment has it, this job or the next. (The console's drain
// takes "nothing due" to mean its work is done.)
func dueWhileAQueueMoves(t *testing.T, s store.Backend) {
	ctx := context.Background()
	const n = 150
	jobs := make([]bot.Job, n)
	for i := range jobs {
		jobs[i] = job("q", bot.OpPost, t0)
	}
	update(t, s, func(tx bot.Tx) error { return tx.Enqueue(jobs...) })
	var finishing atomic.Int32 // FinishJob calls begun
	worker := make(chan error, 1)
	go func() {
		worker <- func() error {
			for range n {
				due, err := s.DueJobs(ctx, t0, 1, nil)
				if err != nil {
					return err
				}
				if len(due) != 1 {
					return fmt.Errorf("the worker found %d jobs due", len(due))
				}
				done := due[0]
				done.Status, done.Done = bot.JobDone, t0
				finishing.Add(1)
				if err := s.FinishJob(ctx, done, nil); err != nil {
					return err
				}
			}
			return nil
		}()
	}()
	reads, empty := 0, 0
	for finishing.Load() < n {
		select {
		case err := <-worker: // stopped early
			t.Fatalf("the worker stopped after %d jobs: %v", finishing.Load(), err)
		default:
		}
		due, err := s.DueJobs(ctx, t0, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		reads++
		// Before the last job's finish begins, that job is pending, so
		// some job is due.
		if len(due) == 0 && finishing.Load() < n {
			empty++
		}
	}
	if err := <-worker; err != nil {
		t.Fatal(err)
	}
	if empty > 0 {
		t.Errorf("%d of %d reads found nothing due while jobs were queued", empty, reads)
	}
	if due, _ := s.DueJobs(ctx, t0, 0, nil); len(due) != 0 {
		t.Errorf("%d due after the last finished", len(due))
	}
}

// channelsInCreation: a channel-creating job that started is seen by
// other replicas until it finishes, on its platform only.
func channelsInCreation(t *testing.T, s store.Backend) {
	ctx := context.Background()
	inc := declare(t, s, "x")
	update(t, s, func(tx bot.Tx) error { return tx.Enqueue(job(inc.ID.String(), bot.OpCreateChannel, t0)) })
	creating := func(p bot.Platform, since time.Time) bool {
		ok, err := s.CreatingChannels(ctx, p, since)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if creating(bot.PlatformSlack, t0.Add(-time.Minute)) {
		t.Error("a job not started yet counts as creating")
	}
	j, _ := s.DueJobs(ctx, t0, 0, nil)
	if err := s.MarkStarted(ctx, j[0].Key, t0); err != nil {
		t.Fatal(err)
	}
	if !creating(bot.PlatformSlack, t0.Add(-time.Second)) || creating(bot.PlatformDiscord, t0.Add(-time.Second)) || creating(bot.PlatformSlack, t0.Add(time.Second)) {
		t.Error("CreatingChannels does not see the started creation (on its platform, since before it started) alone")
	}
	done := j[0]
	done.Status, done.Done = bot.JobDone, t0.Add(time.Second)
	if err := s.FinishJob(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	if creating(bot.PlatformSlack, t0.Add(-time.Minute)) {
		t.Error("a finished creation still counts")
	}
}

// profiles: a person without a profile reads as an empty one; a profile
// put is read back inside and outside transactions, and replaced whole.
func profiles(t *testing.T, s store.Backend) {
	ctx := context.Background()
	update(t, s, func(tx bot.Tx) error {
		p, err := tx.Profile("alice")
		if err != nil {
			return err
		}
		if p.Person != "alice" || len(p.Contacts)+len(p.Rules)+len(p.Pending) != 0 {
			t.Errorf("a profile never written = %+v", p)
		}
		p.Contacts = []bot.Contact{{Method: bot.MethodSMS, To: "+14155550100", FromChat: true}}
		p.Pending = []bot.Verification{{Method: bot.MethodSMS, To: "+14155550100", Hash: "h", Expires: t0}}
		return tx.PutProfile(p)
	})
	update(t, s, func(tx bot.Tx) error {
		p, err := tx.Profile("alice")
		if err != nil {
			return err
		}
		if len(p.Pending) != 1 || !p.Pending[0].Expires.Equal(t0) {
			t.Errorf("profile read back in a transaction = %+v", p)
		}
		p.Pending, p.Contacts[0].Verified = nil, true
		p.Rules = []bot.Rule{{Method: bot.MethodSMS, After: time.Minute}}
		return tx.PutProfile(p)
	})
	update(t, s, func(tx bot.Tx) error { return tx.PutProfile(&bot.Profile{Person: "bob"}) })
	all, err := s.Profiles(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Profiles = %+v, %v", all, err)
	}
	slices.SortFunc(all, func(a, b *bot.Profile) int { return strings.Compare(a.Person, b.Person) })
	if a := all[0]; a.Person != "alice" || len(a.Pending) != 0 || !a.Contacts[0].Verified || a.Rules[0].After != time.Minute {
		t.Errorf("alice's profile = %+v", a)
	}
}

// sessions: a session put is found by its id and gone once deleted.
func sessions(t *testing.T, s store.Backend) {
	ctx := context.Background()
	if _, err := s.Session(ctx, "nope"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("a missing session: %v", err)
	}
	want := &bot.Session{ID: "abc", Person: "alice", CSRF: "tok", Via: "https://idp.example.com", Start: t0, Seen: t0}
	update(t, s, func(tx bot.Tx) error { return tx.PutSession(want) })
	got, err := s.Session(ctx, "abc")
	if err != nil || got.Person != "alice" || got.CSRF != "tok" || !got.Start.Equal(t0) {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	update(t, s, func(tx bot.Tx) error { return tx.DeleteSession("abc") })
	if _, err := s.Session(ctx, "abc"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("a deleted session: %v", err)
	}
}

// subscribers: a subscription is listed and counted once per address
// (a second one replaces the first) and gone once deleted.
func subscribers(t *testing.T, s store.Backend) {
	ctx := context.Background()
	a := &bot.Subscriber{ID: bot.SubscriberID("ann@example.com"), Email: "ann@example.com", Confirmed: t0}
	b := &bot.Subscriber{ID: bot.SubscriberID("bo@example.com"), Email: "bo@example.com", Services: []string{"payments"}, Confirmed: t0}
	again := &bot.Subscriber{ID: bot.SubscriberID("ANN@example.com "), Email: "ANN@example.com", Services: []string{"search"}, Confirmed: t0.Add(time.Hour)}
	update(t, s, func(tx bot.Tx) error {
		for _, x := range []*bot.Subscriber{a, b, again} {
			if err := tx.PutSubscriber(x); err != nil {
				return err
			}
		}
		return nil
	})
	if n, err := s.CountSubscribers(ctx); n != 2 || err != nil {
		t.Fatalf("CountSubscribers = %d, %v; want 2", n, err)
	}
	update(t, s, func(tx bot.Tx) error {
		all, err := tx.Subscribers("", 0)
		if err != nil {
			return err
		}
		// In parts: by ID, each after the last one read.
		first, err := tx.Subscribers("", 1)
		if err != nil || len(first) != 1 {
			t.Fatalf("the first part = %v, %v", first, err)
		}
		rest, err := tx.Subscribers(first[0].ID, 5)
		if err != nil || len(rest) != 1 || rest[0].ID <= first[0].ID {
			t.Fatalf("the part after %s = %v, %v", first[0].ID, rest, err)
		}
		if end, err := tx.Subscribers(rest[0].ID, 5); err != nil || len(end) != 0 {
			t.Fatalf("after the last: %v, %v", end, err)
		}
		byMail := map[string]*bot.Subscriber{}
		for _, x := range all {
			byMail[x.Email] = x
		}
		if x := byMail["ANN@example.com"]; len(all) != 2 || x == nil || !x.Wants("search") || x.Wants("payments") || !x.Confirmed.Equal(t0.Add(time.Hour)) {
			t.Errorf("Subscribers = %+v", all)
		}
		if x := byMail["bo@example.com"]; x == nil || !x.Wants("payments") {
			t.Errorf("bo = %+v", x)
		}
		if err := tx.DeleteSubscriber(a.ID); err != nil {
			return err
		}
		return tx.DeleteSubscriber("nobody")
	})
	if n, err := s.CountSubscribers(ctx); n != 1 || err != nil {
		t.Fatalf("after a deletion CountSubscribers = %d, %v; want 1", n, err)
	}
}

// incidentIndexes: the active list, the window and the class counts
// follow every change of status and severity.
func incidentIndexes(t *testing.T, s store.Backend) {
	ctx := context.Background()
	sevs := bot.DefaultSeverities()
	var incs []*bot.Incident
	update(t, s, func(tx bot.Tx) error {
		incs = nil
		for i := range 5 {
			inc := &bot.Incident{Title: fmt.Sprint("i", i), Status: bot.StatusOpen, Severity: sevs[0], Platform: bot.PlatformSlack,
				DeclaredAt: t0.Add(time.Duration(i) * 24 * time.Hour)}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			incs = append(incs, inc)
		}
		return nil
	})
	update(t, s, func(tx bot.Tx) error {
		for i, st := range []bot.Status{bot.StatusResolved, bot.StatusClosed, bot.StatusAcknowledged} {
			cur, err := tx.Incident(incs[i].ID)
			if err != nil {
				return err
			}
			cur.Status = st
			if i == 2 {
				cur.Severity = sevs[1]
			}
			if err := tx.PutIncident(cur); err != nil {
				return err
			}
		}
		return nil
	})
	active, err := s.ListIncidents(ctx, bot.IncidentFilter{ActiveOnly: true})
	if err != nil || len(active) != 3 || active[0].Number != incs[4].Number || active[2].Number != incs[2].Number {
		t.Fatalf("active = %v, %v", active, err)
	}
	if page, _ := s.ListIncidents(ctx, bot.IncidentFilter{ActiveOnly: true, Limit: 1, Before: incs[4].Number}); len(page) != 1 || page[0].Number != incs[3].Number {
		t.Errorf("active page before %d = %v", incs[4].Number, page)
	}
	window, err := s.ListIncidents(ctx, bot.IncidentFilter{DeclaredSince: t0.Add(3 * 24 * time.Hour)})
	if err != nil || len(window) != 2 || window[1].Number != incs[3].Number {
		t.Fatalf("declared since day 3 = %v, %v", window, err)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[store.IncidentClass]int{{Status: "open", Severity: sevs[0].Name}: 2, {Status: "resolved", Severity: sevs[0].Name}: 1,
		{Status: "closed", Severity: sevs[0].Name}: 1, {Status: "acknowledged", Severity: sevs[1].Name}: 1}
	if !maps.Equal(c.Incidents, want) {
		t.Errorf("incident classes = %v; want %v", c.Incidents, want)
	}
}

// idempotency: a record is read back by its key, replaced, deleted, and
// pruned once older than the cut.
func idempotency(t *testing.T, s store.Backend) {
	ctx := context.Background()
	old := &bot.IdempotencyRecord{Key: "ci k1", Hash: "h1", Created: t0}
	young := &bot.IdempotencyRecord{Key: "ci k2", Hash: "h2", Status: 201, ContentType: "application/json", Body: []byte(`{"n":1}`), Created: t0.Add(2 * time.Hour)}
	update(t, s, func(tx bot.Tx) error {
		if r, err := tx.Idempotency("ci k1"); r != nil || err != nil {
			t.Errorf("a missing key: %v %v", r, err)
		}
		if err := tx.PutIdempotency(old); err != nil {
			return err
		}
		return tx.PutIdempotency(young)
	})
	update(t, s, func(tx bot.Tx) error {
		r, err := tx.Idempotency("ci k2")
		if err != nil || r == nil || r.Status != 201 || string(r.Body) != `{"n":1}` || !r.Created.Equal(young.Created) {
			t.Errorf("read back: %+v %v", r, err)
		}
		return nil
	})
	n, err := s.PruneIdempotency(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneIdempotency = %d, %v; want 1", n, err)
	}
	update(t, s, func(tx bot.Tx) error {
		if r, _ := tx.Idempotency("ci k1"); r != nil {
			t.Errorf("pruned key still there: %+v", r)
		}
		if err := tx.DeleteIdempotency("ci k2"); err != nil {
			return err
		}
		if r, _ := tx.Idempotency("ci k2"); r != nil {
			t.Errorf("deleted key still there: %+v", r)
		}
		return nil
	})
}

// postmortemVersions: versions are numbered per incident, listed in
// order, and the latest is the incident's postmortem.
func postmortemVersions(t *testing.T, s store.Backend) {
	ctx := context.Background()
	a, b := declare(t, s, "a"), declare(t, s, "b")
	update(t, s, func(tx bot.Tx) error {
		if _, ok, err := tx.LatestPostmortemVersion(a.ID); ok || err != nil {
			t.Errorf("a version before any: %v %v", ok, err)
		}
		for i, inc := range []*bot.Incident{a, b, a} {
			v := &bot.PostmortemVersion{IncidentID: inc.ID, By: "alice", At: t0, Markdown: fmt.Sprintf("# v%d", i)}
			if err := tx.AddPostmortemVersion(v); err != nil {
				return err
			}
		}
		last, ok, err := tx.LatestPostmortemVersion(a.ID)
		if err != nil || !ok || last.N != 2 || last.Markdown != "# v2" {
			t.Errorf("latest of a = %+v %v %v", last, ok, err)
		}
		return nil
	})
	vs, err := s.PostmortemVersions(ctx, a.ID)
	if err != nil || len(vs) != 2 || vs[0].N != 1 || vs[1].N != 2 || vs[0].Markdown != "# v0" {
		t.Fatalf("versions of a = %+v, %v", vs, err)
	}
	if md, err := s.Postmortem(ctx, a.ID); err != nil || string(md) != "# v2" {
		t.Errorf("a's postmortem = %q, %v", md, err)
	}
	if vs, _ := s.PostmortemVersions(ctx, b.ID); len(vs) != 1 || vs[0].N != 1 {
		t.Errorf("versions of b = %+v", vs)
	}
}
