package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/tracker"
	"github.com/klaxon-bot/klaxon/bot/tracker/trackerfake"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/tickets"
)

// ticketEnv is the core with a GitHub tracker for the payments service
// and Jira for everything else, both strict fakes over HTTP. wrap, if
// set, stands between klaxon and each tracker (by id).
type ticketEnv struct {
	*commandstest.Env
	github  *trackerfake.GitHub
	jira    *trackerfake.Jira
	tickets *tickets.Tickets
}

func newTicketEnv(t *testing.T, wrap func(id string, tr bot.Tracker) bot.Tracker, jiraToken string) *ticketEnv {
	t.Helper()
	return newTicketEnvPrivate(t, wrap, jiraToken, nil)
}

// newTicketEnvPrivate is newTicketEnv with what each tracker may take of
// private incidents' follow-ups.
func newTicketEnvPrivate(t *testing.T, wrap func(id string, tr bot.Tracker) bot.Tracker, jiraToken string, private map[string]tickets.Private) *ticketEnv {
	t.Helper()
	gh := trackerfake.NewGitHub("acme/payments", "ghp-good")
	t.Cleanup(gh.Close)
	jira := trackerfake.NewJira("OPS", "bot@acme.test", "jira-good", "Task")
	t.Cleanup(jira.Close)
	ghc, err := tracker.NewGitHub(tracker.GitHubConfig{ID: "payments-gh", API: gh.URL(), Repo: "acme/payments", Token: "ghp-good"})
	if err != nil {
		t.Fatal(err)
	}
	jc, err := tracker.NewJira(tracker.JiraConfig{ID: "jira", URL: jira.URL(), Email: "bot@acme.test", Token: jiraToken, Project: "OPS", IssueType: "Task"})
	if err != nil {
		t.Fatal(err)
	}
	trackers := map[string]bot.Tracker{"payments-gh": ghc, "jira": jc}
	if wrap != nil {
		for id, tr := range trackers {
			trackers[id] = wrap(id, tr)
		}
	}
	routes := tickets.Routes{Default: "jira", ByService: map[string]string{"payments": "payments-gh"}, Private: private}
	e := commandstest.NewNight(t, commandstest.Services("payments", "search"), commandstest.Incidents(func(c *commands.Config) {
		c.Trackers = routes
	}))
	tk := tickets.New(e.Store, e.Clock, zerolog.Nop(), trackers, routes, e.Incidents.Wake())
	e.Outbox.Handle(bot.OpTicket, tk)
	e.Outbox.Handle(bot.OpTicketState, tk)
	return &ticketEnv{Env: e, github: gh, jira: jira, tickets: tk}
}

// wrapOne puts w between klaxon and the tracker id, and nothing between
// it and the others.
func wrapOne(id string, w func(bot.Tracker) bot.Tracker) func(string, bot.Tracker) bot.Tracker {
	return func(got string, tr bot.Tracker) bot.Tracker {
		if got != id {
			return tr
		}
		return w(tr)
	}
}

func (e *ticketEnv) followUp(n int64) *bot.FollowUp {
	e.T.Helper()
	f, err := e.Store.FollowUp(context.Background(), n)
	if err != nil {
		e.T.Fatal(err)
	}
	return f
}

func TestFollowUpsBecomeTickets(t *testing.T) {
	e := newTicketEnv(t, nil, "jira-good")
	e.Do("alice", "general", "/incident declare Card payments fail service:payments")
	ch := e.Incident(1).Channel.ID
	if got := e.Do("alice", ch, "/incident followup Add a circuit breaker @bob due:2026-12-01"); !strings.Contains(got, "ticket in payments-gh is on its way") {
		t.Fatalf("create: %s", got)
	}
	issues := e.github.Issues("acme/payments")
	if len(issues) != 1 || issues[0].Title != "Add a circuit breaker" || !strings.Contains(issues[0].Body, "INC-1: `Card payments fail`") ||
		!strings.Contains(issues[0].Body, "Due: 2026-12-01") {
		t.Fatalf("GitHub issues: %+v", issues)
	}
	f := e.followUp(1)
	if f.Ticket == nil || f.Ticket.Ref != "payments#1" || f.Ticket.Closed {
		t.Fatalf("follow-up's ticket: %+v", f.Ticket)
	}
	if !strings.Contains(e.Out.String(), "🎫 F-1 → payments#1 https://github.example/acme/payments/issues/1") {
		t.Fatalf("the channel was not told the ticket:\n%s", e.Out.String())
	}
	if got := e.Do("alice", "general", "/followups"); !strings.Contains(got, "🎫 payments#1") {
		t.Errorf("the list does not show the ticket: %s", got)
	}

	// Another service's follow-up goes to the default tracker, Jira.
	e.Do("alice", "general", "/incident declare Search is slow service:search")
	e.Do("alice", e.Incident(2).Channel.ID, "/incident followup Tune the index")
	if js := e.jira.Issues(); len(js) != 1 || js[0].Key != "OPS-1" || js[0].Summary != "Tune the index" {
		t.Fatalf("Jira issues: %+v", js)
	}
	if f := e.followUp(2); f.Ticket.Ref != "OPS-1" {
		t.Fatalf("F-2's ticket: %+v", f.Ticket)
	}

	// Done in chat closes the ticket; reopening reopens it.
	e.Do("bob", "general", "/followup done F-1")
	if i := e.github.Issues("acme/payments")[0]; i.State != "closed" || i.StateReason != "completed" {
		t.Fatalf("after /followup done: %+v", i)
	}
	e.Do("bob", "general", "/followup reopen F-1")
	if i := e.github.Issues("acme/payments")[0]; i.State != "open" {
		t.Fatalf("after /followup reopen: %+v", i)
	}
	if e.tickets.Sync(context.Background()) != 0 {
		t.Fatal("the sync took klaxon's own changes for the tracker's")
	}

	// Closed in the tracker: the sync closes the follow-up, once.
	e.jira.SetStatus("OPS-1", "Done")
	if n := e.tickets.Sync(context.Background()); n != 1 {
		t.Fatalf("sync changed %d follow-ups", n)
	}
	e.Outbox.Drain(context.Background())
	if f := e.followUp(2); !f.Done || !f.Ticket.Closed {
		t.Fatalf("F-2 after its ticket closed: %+v", f)
	}
	if !strings.Contains(e.Out.String(), "OPS-1 "+e.jira.URL()+"/browse/OPS-1 was closed in jira, so F-2 is done.") {
		t.Fatalf("the channel was not told:\n%s", e.Out.String())
	}
	if n := e.tickets.Sync(context.Background()); n != 0 {
		t.Fatalf("a second sync changed %d", n)
	}
	if e.jira.Issues()[0].Status != "Done" {
		t.Fatal("the ticket moved")
	}
	// Reopened there: open again here.
	e.jira.SetStatus("OPS-1", "In Progress")
	if n := e.tickets.Sync(context.Background()); n != 1 || e.followUp(2).Done {
		t.Fatalf("reopen in the tracker: %d, %+v", n, e.followUp(2))
	}

	// The postmortem's action items link the tickets.
	e.Do("alice", ch, "/incident resolve")
	e.Outbox.Drain(context.Background())
	pm, err := e.Store.Postmortem(context.Background(), e.Incident(1).ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pm), "F-1 ([payments\\#1](https://github.example/acme/payments/issues/1)): Add a circuit breaker") {
		t.Fatalf("postmortem action items:\n%s", pm)
	}
	if e.github.Creates() != 1 || e.jira.Creates() != 1 {
		t.Fatalf("creates: GitHub %d, Jira %d", e.github.Creates(), e.jira.Creates())
	}
}

// lostAnswer makes the issue in the tracker and then fails as a timeout
// would: the answer is lost, so klaxon does not know whether it acted.
type lostAnswer struct {
	bot.Tracker
	lose atomic.Int32
}

func (l *lostAnswer) wrap(tr bot.Tracker) bot.Tracker {
	l.Tracker = tr
	return l
}

func (l *lostAnswer) Create(ctx context.Context, is bot.TicketIssue) (bot.Ticket, error) {
	tk, err := l.Tracker.Create(ctx, is)
	if err == nil && l.lose.Add(-1) >= 0 {
		return bot.Ticket{}, &bot.Error{Code: bot.EUNAVAILABLE, Message: "GitHub did not answer", Err: errors.New("timeout")}
	}
	return tk, err
}

// A ticket whose creation's answer was lost, or whose process crashed
// between the tracker's answer and its record, is found, not made again.
func TestTicketIsMadeOnceWhenTheAnswerIsLost(t *testing.T) {
	lost := &lostAnswer{}
	lost.lose.Store(1)
	e := newTicketEnv(t, wrapOne("payments-gh", lost.wrap), "jira-good")
	e.Do("alice", "general", "/incident declare Card payments fail service:payments")
	e.Do("alice", e.Incident(1).Channel.ID, "/incident followup Add a circuit breaker")
	if n := e.github.Creates(); n != 1 {
		t.Fatalf("creates after the lost answer: %d", n)
	}
	if f := e.followUp(1); f.Ticket.Made() {
		t.Fatal("the ticket was recorded although its answer was lost")
	}
	e.Clock.Advance(10 * time.Minute) // past the backoff
	e.Outbox.Drain(context.Background())
	if n, f := e.github.Creates(), e.followUp(1); n != 1 || f.Ticket.Ref != "payments#1" {
		t.Fatalf("after the retry: %d creates, ticket %+v", n, f.Ticket)
	}

	// The crash: the tracker answered, klaxon died before recording it.
	// The job was marked started, so the next process's attempt looks
	// first (again is true).
	e.Do("alice", e.Incident(1).Channel.ID, "/incident followup Page the card team sooner")
	f2 := e.followUp(2)
	f2.Ticket = &bot.Ticket{Tracker: "payments-gh"}
	if err := e.Store.Update(context.Background(), func(tx bot.Tx) error { return tx.PutFollowUp(f2) }); err != nil {
		t.Fatal(err)
	}
	then, err := e.tickets.Send(context.Background(), bot.Job{Op: bot.OpTicket, FollowUp: 2, Tracker: "payments-gh"}, true)
	if err != nil || then == nil {
		t.Fatalf("again: %v", err)
	}
	if n := e.github.Creates(); n != 2 {
		t.Fatalf("creates after the crash's retry: %d (want 2: one per follow-up)", n)
	}
}

// Jira's search is eventually consistent: after an attempt whose answer
// was lost, klaxon does not take "not found" for an answer until
// tracker.JiraSearchLag has passed since that attempt, so a new issue
// that search does not show yet is not made twice.
func TestJiraTicketWaitsForItsSearch(t *testing.T) {
	lost := &lostAnswer{}
	lost.lose.Store(1)
	e := newTicketEnv(t, wrapOne("jira", lost.wrap), "jira-good")
	e.jira.SetSearchLag(time.Hour) // (real time) search shows nothing new during the test
	e.Do("alice", "general", "/incident declare Search is slow service:search")
	acted := e.Clock.Now()
	e.Do("alice", e.Incident(1).Channel.ID, "/incident followup Tune the index")
	if n := e.jira.Creates(); n != 1 {
		t.Fatalf("creates after the lost answer: %d", n)
	}
	// The retry after the backoff finds nothing, and waits.
	for _, after := range []time.Duration{10 * time.Second, time.Minute} {
		e.Clock.Advance(after)
		e.Outbox.Drain(context.Background())
		if n, f := e.jira.Creates(), e.followUp(1); n != 1 || f.Ticket.Made() {
			t.Fatalf("%v after the lost answer: %d creates, ticket %+v", e.Clock.Now().Sub(acted), n, f.Ticket)
		}
	}
	jobs, err := e.Store.DueJobs(context.Background(), e.Clock.Now().Add(time.Hour), 0, func(_, dest []byte) bool { return string(dest) == "tracker:jira" })
	if err != nil {
		t.Fatal(err)
	}
	var ticket *bot.Job
	if len(jobs) == 1 && jobs[0].Op == bot.OpTicket {
		ticket = &jobs[0]
	}
	if ticket == nil || !ticket.MayHaveRun || ticket.NextAttempt.Before(acted.Add(tracker.JiraSearchLag)) || !strings.Contains(ticket.LastError, "search may not show yet") {
		t.Fatalf("the waiting job: %+v", ticket)
	}
	// Search has caught up: the issue is found and recorded, not made again.
	e.jira.SetSearchLag(0)
	e.Clock.Set(ticket.NextAttempt)
	e.Outbox.Drain(context.Background())
	if n, f := e.jira.Creates(), e.followUp(1); n != 1 || f.Ticket.Ref != "OPS-1" {
		t.Fatalf("once search shows it: %d creates, ticket %+v", n, f.Ticket)
	}
}

// After a crash, the attempt cut short is the one that may have made the
// issue: its started mark is when the wait for Jira's search begins.
func TestJiraTicketWaitsForItsSearchAfterACrash(t *testing.T) {
	ctx := context.Background()
	e := newTicketEnv(t, nil, "jira-good")
	e.jira.SetSearchLag(time.Hour)
	e.jira.RateLimit(1) // the first attempt gets a 429 (Retry-After 2 s): the job stays, having done nothing
	e.Do("alice", "general", "/incident declare Search is slow service:search")
	e.Do("alice", e.Incident(1).Channel.ID, "/incident followup Tune the index")
	due := func() bot.Job {
		t.Helper()
		jobs, err := e.Store.DueJobs(ctx, e.Clock.Now().Add(time.Hour), 0, func(_, dest []byte) bool { return string(dest) == "tracker:jira" })
		if err != nil || len(jobs) != 1 {
			t.Fatalf("ticket jobs: %+v, %v", jobs, err)
		}
		return jobs[0]
	}
	job := due()
	if n := e.jira.Creates(); n != 0 || !job.ActedAt.IsZero() {
		t.Fatalf("after the 429: %d creates, acted at %v", n, job.ActedAt)
	}
	// An attempt begins, makes the issue, and the process dies before
	// recording it: the job keeps its started mark.
	crashed := e.Clock.Now()
	if err := e.Store.MarkStarted(ctx, job.Key, crashed); err != nil {
		t.Fatal(err)
	}
	f := e.followUp(1)
	jc, err := tracker.NewJira(tracker.JiraConfig{ID: "jira", URL: e.jira.URL(), Email: "bot@acme.test", Token: "jira-good", Project: "OPS", IssueType: "Task"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jc.Create(ctx, bot.TicketIssue{FollowUp: f.ID, Key: f.Key(), Text: f.Text, Incident: "INC-1", Created: f.Created}); err != nil {
		t.Fatal(err)
	}
	// The next process's attempt, after the Retry-After, finds nothing in
	// search yet, and waits.
	e.Clock.Advance(3 * time.Second)
	e.Outbox.Drain(ctx)
	if job := due(); e.jira.Creates() != 1 || !job.ActedAt.Equal(crashed) || job.NextAttempt.Before(crashed.Add(tracker.JiraSearchLag)) {
		t.Fatalf("after the restart: %d creates, job %+v", e.jira.Creates(), job)
	}
	e.jira.SetSearchLag(0)
	e.Clock.Set(crashed.Add(tracker.JiraSearchLag))
	e.Outbox.Drain(ctx)
	if n, f := e.jira.Creates(), e.followUp(1); n != 1 || f.Ticket.Ref != "OPS-1" {
		t.Fatalf("once search shows it: %d creates, ticket %+v", n, f.Ticket)
	}
}

// boundedChanges reads what changed exactly since since (as GitHub's
// since= does) and stops at max, as a tracker stops at its page bound.
type boundedChanges struct {
	bot.Tracker
	max   int
	mu    sync.Mutex
	asked []time.Time
}

func (b *boundedChanges) Changed(ctx context.Context, since time.Time) ([]bot.TicketState, bool, error) {
	b.mu.Lock()
	b.asked = append(b.asked, since)
	b.mu.Unlock()
	all, more, err := b.Tracker.Changed(ctx, since)
	var out []bot.TicketState
	for _, s := range all {
		if !s.Updated.Before(since) {
			out = append(out, s)
		}
	}
	if len(out) > b.max {
		out, more = out[:b.max], true
	}
	return out, more, err
}

// More tickets changed than one read takes: the next sync goes on from
// the last change read, and misses none.
func TestTicketSyncGoesOnWhereItsReadStopped(t *testing.T) {
	ctx := context.Background()
	bounded := &boundedChanges{max: 2}
	e := newTicketEnv(t, wrapOne("jira", func(tr bot.Tracker) bot.Tracker { bounded.Tracker = tr; return bounded }), "jira-good")
	e.Do("alice", "general", "/incident declare Search is slow service:search")
	for _, text := range []string{"Tune the index", "Add a replica", "Page sooner"} {
		e.Do("alice", e.Incident(1).Channel.ID, "/incident followup "+text)
	}
	for _, key := range []string{"OPS-1", "OPS-2", "OPS-3"} {
		time.Sleep(2 * time.Millisecond) // Jira's times are to the millisecond
		e.jira.SetStatus(key, "Done")
	}
	if n := e.tickets.Sync(ctx); n != 2 || e.followUp(3).Done {
		t.Fatalf("first sync: %d follow-ups done, F-3 done %v", n, e.followUp(3).Done)
	}
	if n := e.tickets.Sync(ctx); n != 1 || !e.followUp(3).Done {
		t.Fatalf("second sync: %d follow-ups done, F-3 done %v", n, e.followUp(3).Done)
	}
	// The second read began at the last change the first read took.
	if second := e.jira.Issues()[1].Updated.Truncate(time.Millisecond); len(bounded.asked) != 2 || !bounded.asked[1].Equal(second) {
		t.Errorf("reads began at %v; want the second at %v", bounded.asked, second)
	}
	if n := e.tickets.Sync(ctx); n != 0 {
		t.Errorf("a third sync changed %d", n)
	}
}

func TestTicketRefusedForGoodIsSaidOnce(t *testing.T) {
	e := newTicketEnv(t, nil, "jira-wrong")
	e.Do("alice", "general", "/incident declare Search is slow service:search")
	e.Do("alice", e.Incident(1).Channel.ID, "/incident followup Tune the index")
	f := e.followUp(1)
	if !f.Ticket.Failed || f.Ticket.Made() {
		t.Fatalf("ticket: %+v", f.Ticket)
	}
	if !strings.Contains(e.Out.String(), "⚠️ klaxon could not make a ticket for F-1: Jira refused klaxon's credentials (401)") || strings.Contains(e.Out.String(), "jira-wrong") {
		t.Fatalf("channel:\n%s", e.Out.String())
	}
	// The refusal is final: it is not tried again, and marking the
	// follow-up done asks nothing of the tracker.
	e.Clock.Advance(time.Hour)
	e.Do("alice", "general", "/followup done F-1")
	counts, err := e.Store.CountJobs(context.Background())
	if err != nil || len(counts) != 1 || counts["tracker:jira"][bot.JobFailed] != 1 || len(counts["tracker:jira"]) != 1 {
		t.Fatalf("jobs left: %v %v", counts, err)
	}
	if n := e.jira.Requests(); n != 1 {
		t.Fatalf("Jira was asked %d times", n)
	}
}

// A private incident's follow-ups reach a tracker only where its
// configuration allows, and then without the incident's title unless it
// allows that too.
func TestPrivateFollowUpsAndTrackers(t *testing.T) {
	e := newTicketEnvPrivate(t, nil, "jira-good", map[string]tickets.Private{"jira": tickets.PrivateWithoutTitle})
	e.Do("alice", "general", `/incident declare "Customer data exposed" service:payments private`)
	ch := e.Incident(1).Channel.ID
	reply := e.Do("alice", ch, "/incident followup Rotate the leaked keys")
	if !strings.Contains(reply, "No ticket in payments-gh: INC-1 is private") {
		t.Errorf("reply for a tracker that takes no private follow-ups: %s", reply)
	}
	if n := len(e.github.Issues("acme/payments")); n != 0 {
		t.Errorf("%d GitHub issues for a private incident; want none", n)
	}
	e.Do("alice", "general", `/incident declare "Search leaks admin emails" service:search private`)
	e.Do("alice", e.Incident(2).Channel.ID, "/incident followup Scrub the index")
	issues := e.jira.Issues()
	if len(issues) != 1 {
		t.Fatalf("%d Jira issues; want one (jira takes private follow-ups without the title)", len(issues))
	}
	if text := fmt.Sprint(issues[0]); strings.Contains(text, "admin emails") || !strings.Contains(text, "Scrub the index") || !strings.Contains(text, "(private incident)") {
		t.Errorf("the Jira issue of a private incident: %s", text)
	}
}
