package paging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/outbox"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// receiver is a webhook endpoint on 127.0.0.1 that records every request
// and answers with the statuses queued in it (then 202).
type receiver struct {
	mu       sync.Mutex
	srv      *httptest.Server
	statuses []int
	header   http.Header
	got      []pager.WebhookEvent
	keys     []string
	drops    int            // the next requests get their connection cut, unanswered
	accepted map[string]int // 2xx answers by idempotency key
	hold     func()         // when set, called before answering each request
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev pager.WebhookEvent
		json.Unmarshal(body, &ev)
		r.mu.Lock()
		if r.drops > 0 {
			r.drops--
			r.mu.Unlock()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close() // as an endpoint that is down would
			}
			return
		}
		status := 202
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.got = append(r.got, ev)
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		if status < 300 {
			if r.accepted == nil {
				r.accepted = map[string]int{}
			}
			r.accepted[req.Header.Get("Idempotency-Key")]++
		}
		for k, v := range r.header {
			w.Header()[k] = v
		}
		hold := r.hold
		r.mu.Unlock()
		if hold != nil {
			hold()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) events() []pager.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pager.WebhookEvent(nil), r.got...)
}

func (r *receiver) triggersFor(person string) int {
	n := 0
	for _, ev := range r.events() {
		if ev.Event == "trigger" && ev.Person == person {
			n++
		}
	}
	return n
}

// pagingEnv: incidents, on-call and paging over one store, the console as
// chat, a webhook pager to a local receiver; time is Tue 17 Nov 10:00 UTC.
type pagingEnv struct {
	t      *testing.T
	store  *bolt.Store
	clock  *bot.FakeClock
	mux    *bot.Mux
	con    *console.Console
	out    *bytes.Buffer // what the console printed
	paging *paging.Paging
	hook   *receiver
	outbox *outbox.Outbox
}

// newPagingEnv builds paging over a fresh store (the shared harness with
// the team's schedules, zed, and a webhook pager to hook); opts change the
// incidents' or paging's configuration.
func newPagingEnv(t *testing.T, path string, hook *receiver, opts ...commandstest.Option) *pagingEnv {
	t.Helper()
	if hook == nil {
		hook = newReceiver(t)
	}
	var clock *bot.FakeClock // the harness's, once it is made
	team := commandstest.Team(t)
	team.People = append(team.People, bot.Person{ID: "zed", Name: "Zed"})
	policy := bot.Policy{ID: "payments", Steps: []bot.Step{
		{Targets: []bot.Target{{Kind: bot.TargetSchedule, ID: "payments-primary"}}, Delay: 5 * time.Minute},
		{Targets: []bot.Target{{Kind: bot.TargetSchedule, ID: "payments-secondary"}}, Delay: 5 * time.Minute},
		{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: "bob"}}, Delay: 5 * time.Minute},
	}}
	base := []commandstest.Option{commandstest.OnCall(team),
		commandstest.Incidents(func(c *commands.Config) {
			c.HighlightEmoji = []string{"📌"}
			c.Services = bot.Services{{ID: "payments", Name: "payments"}, {ID: "db", Name: "db"}}
		}),
		commandstest.Paging(func(c *paging.Config) {
			c.Policies = map[string]bot.Policy{"payments": policy}
			c.ServicePolicy = map[string]string{"payments": "payments"}
			c.Pagers = map[string]bot.Sender{"hook": &pager.Webhook{URL: hook.srv.URL, Secret: "s", Client: hook.srv.Client(), Now: func() time.Time { return clock.Now() }}}
			c.AcksSupported = map[string]bool{"hook": true}
			c.AckEmoji = []string{"✅", "👀"}
		})}
	if path != "" {
		base = append(base, commandstest.At(path))
	}
	h := commandstest.New(t, append(base, opts...)...)
	clock = h.Clock
	return &pagingEnv{t: t, store: h.Store, clock: h.Clock, mux: h.Mux, con: h.Console, out: h.Out, paging: h.Paging, hook: hook, outbox: h.Outbox}
}

func (e *pagingEnv) do(user, channel, text string) string {
	resp := e.mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: user, Name: user},
		Channel: bot.ChannelRef{ID: channel}, Text: text, Time: e.clock.Now()})
	e.outbox.Drain(context.Background())
	return console.Plain(console.RenderMessage(resp.Message))
}

func (e *pagingEnv) tick(d time.Duration) {
	e.clock.Advance(d)
	e.paging.Tick(context.Background(), e.clock.Now())
	e.outbox.Drain(context.Background())
}

// notice finds the last "Paging …" message in the incident channel.
func (e *pagingEnv) notice(channel string) string {
	msgs := e.con.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i], "Paging") {
			return msgs[i]
		}
	}
	return ""
}

func (e *pagingEnv) react(user, channel, msgID, emoji string) {
	e.mux.Activity(context.Background(), bot.Activity{Platform: bot.PlatformConsole, Channel: bot.ChannelRef{ID: channel}, User: bot.User{ID: user},
		Kind: bot.EventReaction, Emoji: emoji, Ref: bot.MessageRef{Channel: channel, ID: msgID}, SourceID: "r-" + user + msgID + emoji, Time: e.clock.Now()})
}

// noticeID is the console id of the newest message in channel that
// contains the text.
func (e *pagingEnv) noticeID(channel, contains string) string {
	for i := 60; i > 0; i-- {
		id := "m" + strconv.Itoa(i)
		if text, ok := e.con.MessageText(bot.MessageRef{Channel: channel, ID: id}); ok && strings.Contains(text, contains) {
			return id
		}
	}
	return ""
}

func TestFullEscalation(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	reply := e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	if !strings.Contains(reply, "Paging the on-call for payments") {
		t.Fatalf("declare: %s", reply)
	}
	ch := "inc-1-checkout-is-down"
	e.tick(0) // step 1: payments-primary is alice
	if e.hook.triggersFor("alice") != 1 || !strings.Contains(e.notice(ch), "Paging @alice for INC-1 (step 1 of 3)") {
		t.Fatalf("step 1: triggers %+v, notice %q", e.hook.events(), e.notice(ch))
	}
	e.tick(4 * time.Minute)
	if n := len(e.hook.events()); n != 1 {
		t.Fatalf("something was paged before the 5 minutes were up: %d events", n)
	}
	e.tick(time.Minute) // +5m: step 2, payments-secondary is carol
	if e.hook.triggersFor("carol") != 1 {
		t.Fatalf("step 2 did not page carol: %+v", e.hook.events())
	}
	step2 := e.noticeID(ch, "Paging @carol")
	e.clock.Advance(2 * time.Minute) // +7m
	// bob is step 3's target, not paged yet and not on call: his ✅ does
	// nothing, and the channel tells him why.
	e.react("bob", ch, step2, "✅")
	if inc := e.incident(1); inc.Status != bot.StatusOpen {
		t.Fatalf("bob's ✅ before he was paged acknowledged: %s", inc.Status)
	}
	e.outbox.Drain(context.Background())
	if got := e.con.Messages(ch); !strings.Contains(got[len(got)-1], "@bob Thanks for jumping in! Only the people paged for INC-1, whoever is on call for its service, its commander or an admin") {
		t.Errorf("no note for bob's ✅: %q", got[len(got)-1])
	}
	e.react("carol", ch, step2, "✅")
	inc := e.incident(1)
	if inc.Status != bot.StatusAcknowledged || !inc.AcknowledgedAt.Equal(time.Date(2026, 11, 17, 10, 7, 0, 0, time.UTC)) {
		t.Fatalf("carol's ✅: status %s at %v", inc.Status, inc.AcknowledgedAt)
	}
	e.tick(3 * time.Minute) // +10m: step 3 (bob) must not fire
	if e.hook.triggersFor("bob") != 0 {
		t.Errorf("step 3 paged bob after the acknowledgement")
	}
	if got := e.do("alice", ch, "/incident ack"); !strings.Contains(got, "already acknowledged") {
		t.Errorf("second ack: %q", got)
	}
	// The pagers were told: one acknowledge per delivered trigger.
	acks := 0
	for _, ev := range e.hook.events() {
		if ev.Event == "acknowledge" {
			acks++
		}
	}
	if acks != 2 {
		t.Errorf("acknowledge events = %d; want 2 (alice's and carol's triggers)", acks)
	}
	summary := strings.Join(e.con.Messages(ch)[:1], "")
	if !strings.Contains(summary, "Paged:") || !strings.Contains(summary, "10:00 UTC @alice (hook ✓)") || !strings.Contains(summary, "10:07 UTC acknowledged by @carol after 7m") {
		t.Errorf("summary does not show the paging:\n%s", summary)
	}
	// The paging is on the timeline.
	var kinds []string
	for _, ev := range e.timelineOf(1) {
		if ev.Kind == bot.EventPage || ev.Kind == bot.EventDelivery {
			kinds = append(kinds, string(ev.Kind)+": "+ev.Text)
		}
	}
	got := strings.Join(kinds, "\n")
	for _, want := range []string{"page: paged <@alice> (step 1 of 3, round 1)", "delivery: trigger for alice delivered through hook (attempt 1)", "page: paged <@carol> (step 2 of 3, round 1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q:\n%s", want, got)
		}
	}
	// Resolving tells the pagers too.
	e.do("carol", ch, "/incident resolve")
	e.tick(0)
	resolves := 0
	for _, ev := range e.hook.events() {
		if ev.Event == "resolve" {
			resolves++
		}
	}
	if resolves != 2 {
		t.Errorf("resolve events = %d; want 2", resolves)
	}
	// The postmortem's participants: everyone paged took part, alice
	// though she never answered.
	e.outbox.Drain(context.Background())
	md, err := e.store.Postmortem(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	part := string(md)[strings.Index(string(md), "## Participants"):]
	for _, want := range []string{"| @Alice | paged | 0 |", "| @Carol | acknowledged, resolved, paged | 0 |", "| @zed | commander, declared, gave roles | 0 |"} {
		if !strings.Contains(part, want) {
			t.Errorf("participants lack %q:\n%s", want, part)
		}
	}
	if strings.Contains(part, "| @Bob | paged") {
		t.Errorf("bob, never paged, is counted as paged:\n%s", part)
	}
}

func (e *pagingEnv) incident(n int64) *bot.Incident {
	e.t.Helper()
	inc, err := e.store.IncidentByNumber(context.Background(), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc
}

func TestDeliveryRetries(t *testing.T) {
	hook := newReceiver(t)
	hook.statuses = []int{500, 500, 500, 202}
	e := newPagingEnv(t, "", hook)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0)
	for i := 0; i < 10 && e.hook.triggersFor("alice") < 4; i++ {
		e.tick(time.Minute) // past any backoff so far (2s, 4s, 8s with jitter)
	}
	evs := e.hook.events()
	if len(evs) < 4 {
		t.Fatalf("made %d attempts; want 4", len(evs))
	}
	keys := map[string]bool{}
	for _, k := range e.hook.keys[:4] {
		keys[k] = true
	}
	if len(keys) != 1 {
		t.Errorf("the retries used %d idempotency keys; want one: %v", len(keys), e.hook.keys)
	}
	ds := e.deliveries()
	if len(ds) != 1 || ds[0].Status != bot.DeliverySent || ds[0].Attempts != 4 {
		t.Fatalf("delivery = %+v; want sent after 4 attempts", ds)
	}
	e.tick(time.Hour)
	if n := e.hook.triggersFor("alice"); n != 4 {
		t.Errorf("%d attempts in all; a sent delivery must not be sent again", n)
	}
}

func (e *pagingEnv) deliveries() []bot.Delivery {
	e.t.Helper()
	inc := e.incident(1)
	pages, _ := e.store.PagesForIncident(context.Background(), inc.ID)
	var out []bot.Delivery
	for _, p := range pages {
		ds, err := e.store.PageDeliveries(context.Background(), p.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ds...)
	}
	return out
}

func TestDeliveryHonoursRetryAfterAndReportsRefusals(t *testing.T) {
	hook := newReceiver(t)
	hook.statuses = []int{429}
	hook.header = http.Header{"Retry-After": {"7"}}
	e := newPagingEnv(t, "", hook)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0)
	e.tick(6 * time.Second)
	if n := len(e.hook.events()); n != 1 {
		t.Fatalf("attempts before Retry-After passed: %d; want 1", n)
	}
	e.tick(time.Second)
	if n := len(e.hook.events()); n != 2 || e.deliveries()[0].Status != bot.DeliverySent {
		t.Fatalf("after Retry-After: %d attempts, %+v", n, e.deliveries())
	}

	hook2 := newReceiver(t)
	hook2.statuses = []int{400}
	e2 := newPagingEnv(t, "", hook2)
	e2.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e2.tick(0)
	e2.tick(time.Hour) // the escalation goes on (step 2 pages carol), but alice's 400 is not retried
	if n := e2.hook.triggersFor("alice"); n != 1 {
		t.Errorf("a 400 was retried: %d attempts", n)
	}
	if d := e2.deliveries()[0]; d.Status != bot.DeliveryFailed || !strings.Contains(d.LastError, "(400)") {
		t.Errorf("delivery = %+v", d)
	}
	found := false
	for _, m := range e2.con.Messages("inc-1-checkout-is-down") {
		if strings.Contains(m, "Could not page @alice through hook: the webhook refused the page (400)") {
			found = true
		}
	}
	if !found {
		t.Errorf("the refusal was not reported in the channel: %q", e2.con.Messages("inc-1-checkout-is-down"))
	}

	// /metrics reads these totals from the store.
	counts, err := e2.store.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[bot.DeliveryStatus]int{}
	for _, d := range e2.deliveries() {
		want[d.Status]++
	}
	if want[bot.DeliveryFailed] != 1 || fmt.Sprint(counts.Deliveries) != fmt.Sprint(want) {
		t.Errorf("Counts.Deliveries = %v; the deliveries say %v", counts.Deliveries, want)
	}
	evs, _ := e2.store.Events(context.Background(), e2.incident(1).ID, 0, 0)
	if events := len(evs); counts.TimelineEvents != uint64(events) {
		t.Errorf("Counts.TimelineEvents = %d; INC-1 has %d events", counts.TimelineEvents, events)
	}
}

func TestPagingSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	hook := newReceiver(t)
	e := newPagingEnv(t, path, hook)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0)
	if hook.triggersFor("alice") != 1 {
		t.Fatal("step 1 did not fire")
	}
	now := e.clock.Now()
	e.store.Close() // klaxon stops between steps

	e2 := newPagingEnv(t, path, hook)
	e2.clock.Set(now.Add(4 * time.Minute))
	e2.tick(0)
	if hook.triggersFor("carol") != 0 {
		t.Fatal("step 2 fired early after the restart")
	}
	e2.clock.Set(now.Add(5 * time.Minute))
	e2.tick(0)
	if hook.triggersFor("carol") != 1 || hook.triggersFor("alice") != 1 {
		t.Errorf("after the restart: %d triggers for alice, %d for carol; want 1 and 1", hook.triggersFor("alice"), hook.triggersFor("carol"))
	}
}

func TestPageAuthorizationAndAdHocPages(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := "inc-1-checkout-is-down"
	e.tick(0)
	// Who may acknowledge while the page escalates: the people it paged
	// (alice), whoever is on call for payments now (carol, secondary), the
	// commander (zed declared it) and admins. bob is on the policy's last
	// step but neither paged yet nor on call.
	if got := e.do("bob", ch, "/incident ack"); !strings.Contains(got, "Only the people paged for INC-1, whoever is on call for its service, its commander or an admin") {
		t.Errorf("bob's ack: %q", got)
	}
	if inc := e.incident(1); inc.Status != bot.StatusOpen {
		t.Fatalf("bob's ack counted: %s", inc.Status)
	}
	if got := e.do("carol", ch, "/incident ack"); got != "" && !strings.Contains(got, "acknowledged") {
		t.Errorf("carol (on call for payments) acks: %q", got)
	}
	if inc := e.incident(1); inc.Status != bot.StatusAcknowledged {
		t.Fatalf("carol's ack did not count: %s", inc.Status)
	}
	// Page someone else ad hoc; it pages at once, outside the policy.
	if got := e.do("bob", ch, "/incident page @zed"); !strings.Contains(got, "Paging @zed for INC-1") {
		t.Errorf("ad hoc page: %q", got)
	}
	e.tick(0)
	if e.hook.triggersFor("zed") != 1 {
		t.Errorf("zed was not paged: %+v", e.hook.events())
	}
	if got := e.do("bob", ch, "/incident page nope"); !strings.Contains(got, "I don't know a service") {
		t.Errorf("unknown service: %q", got)
	}
}

func TestLowPriorityPagesWaitForBusinessHours(t *testing.T) {
	// No explicit policy: the derived one (primary → secondary, 8 hours
	// apart for low priority), and payments' hours Mon–Fri 09:00–17:00 Berlin.
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) {
		c.ServicePolicy = nil
		c.ServiceHours = map[string]bot.Hours{"payments": {Zone: "Europe/Berlin", Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}}
	}))
	e.clock.Set(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	reply := e.do("zed", "general", "/incident declare Slow reports sev:3 service:payments")
	if !strings.Contains(reply, "will be paged at 2026-11-23 08:00 UTC, within business hours") {
		t.Fatalf("declare: %s", reply)
	}
	e.tick(0)
	e.tick(24 * time.Hour) // Sunday
	if n := len(e.hook.events()); n != 0 {
		t.Fatalf("a low-priority page went out at the weekend: %+v", e.hook.events())
	}
	e.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) // Monday 09:00 Berlin
	e.tick(0)
	if e.hook.triggersFor("alice") != 1 && e.hook.triggersFor("bob") != 1 {
		t.Fatalf("nobody was paged on Monday morning: %+v", e.hook.events())
	}
	// The next step waits the 8-hour SLA, which ends at 17:00: it goes out the
	// next business morning.
	e.tick(8 * time.Hour)
	if n := len(e.hook.events()); n != 1 {
		t.Errorf("the second step went out after hours: %d events", n)
	}
	e.clock.Set(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
	e.tick(0)
	if n := len(e.hook.events()); n != 2 {
		t.Errorf("the second step did not go out on Tuesday morning: %d events", n)
	}
}

// "Nobody acknowledged" comes once the last step's wait is over, not with
// the last step; until then the people paged may still acknowledge, and
// once it is over, strangers still may not.
func TestExhaustionWaitsForTheLastStep(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) {
		c.Policies["payments"] = bot.Policy{ID: "payments", Steps: []bot.Step{
			{Targets: []bot.Target{{Kind: bot.TargetSchedule, ID: "payments-primary"}}, Delay: time.Minute},
			{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: "bob"}}, Delay: time.Minute},
		}}
	}))
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := "inc-1-checkout-is-down"
	exhausted := func() bool {
		for _, m := range e.con.Messages(ch) {
			if strings.Contains(m, "Nobody acknowledged INC-1") {
				return true
			}
		}
		return false
	}
	e.tick(0)           // alice
	e.tick(time.Minute) // bob, the last step
	if e.hook.triggersFor("bob") != 1 {
		t.Fatalf("step 2 did not page bob: %+v", e.hook.events())
	}
	if exhausted() {
		t.Fatal("\"Nobody acknowledged\" came with the last step, before bob had a minute to answer")
	}
	e.tick(59 * time.Second)
	if exhausted() {
		t.Fatal("\"Nobody acknowledged\" came before the last step's wait was over")
	}
	e.tick(time.Second)
	if !exhausted() {
		t.Fatal("no \"Nobody acknowledged\" after the last step's wait")
	}
	if got := e.do("dave", ch, "/incident ack"); !strings.Contains(got, "Only the people paged for INC-1") {
		t.Errorf("a stranger acknowledged the exhausted page: %q", got)
	}
	if got := e.do("carol", ch, "/incident ack"); got != "" && !strings.Contains(got, "acknowledged") {
		t.Errorf("carol, on call for payments, could not acknowledge the exhausted page: %q", got)
	}
}

func TestExhaustedPageSaysSoOnce(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	for range 6 {
		e.tick(5 * time.Minute) // steps at +0, +5, +10; exhausted at +15
	}
	notices := 0
	for _, m := range e.con.Messages("inc-1-checkout-is-down") {
		if strings.Contains(m, "Nobody acknowledged INC-1 after 1 round of paging") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("exhaustion was announced %d times; want once", notices)
	}
	if n := len(e.hook.events()); n != 3 {
		t.Errorf("%d pages sent; want 3 (one per step, no repeat)", n)
	}
	// Someone wakes up at last: the pagers are told, for every trigger,
	// and again when the incident is resolved.
	e.do("bob", "inc-1-checkout-is-down", "/incident ack")
	e.tick(0)
	e.do("bob", "inc-1-checkout-is-down", "/incident resolve")
	e.tick(0)
	count := map[string]int{}
	for _, ev := range e.hook.events() {
		count[ev.Event]++
	}
	if count["acknowledge"] != 3 || count["resolve"] != 3 {
		t.Errorf("after a late ack and resolve the pagers got %v; want 3 triggers, 3 acknowledges, 3 resolves", count)
	}
}

func (e *pagingEnv) timelineOf(n int64) []bot.Event {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), e.incident(n).ID, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// TestPagerOutage: the pager endpoint cuts connections, then answers 500s,
// then 429s, over several minutes. Every page still arrives exactly once,
// and each incident channel says it is delayed, then that it got through.
func TestPagerOutage(t *testing.T) {
	hook := newReceiver(t)
	hook.drops = 6
	hook.statuses = []int{500, 500, 500, 429, 429, 429}
	hook.header = http.Header{"Retry-After": {"20"}}
	e := newPagingEnv(t, "", hook)
	titles := []string{"Checkout is down", "Refunds are slow", "Invoices missing"}
	for _, title := range titles {
		e.do("zed", "general", "/incident declare "+title+" sev:1 service:payments")
	}
	for range 12 * 60 / 10 { // twelve minutes in 10 s steps
		e.tick(10 * time.Second)
	}
	hook.mu.Lock()
	accepted := maps.Clone(hook.accepted)
	if hook.drops != 0 || len(hook.statuses) != 0 {
		t.Errorf("the outage was not fully exercised: %d cuts and %v left", hook.drops, hook.statuses)
	}
	hook.mu.Unlock()
	triggers := 0
	for n := int64(1); n <= int64(len(titles)); n++ {
		inc, _ := e.store.IncidentByNumber(context.Background(), n)
		pages, _ := e.store.PagesForIncident(context.Background(), inc.ID)
		for _, p := range pages {
			ds, err := e.store.PageDeliveries(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.Kind != bot.DeliverTrigger {
					continue
				}
				triggers++
				if d.Status != bot.DeliverySent || accepted[d.Key] != 1 {
					t.Errorf("%s: delivery %s is %s after %d attempts, accepted %d times; want sent once", inc.Key(), d.Key, d.Status, d.Attempts, accepted[d.Key])
				}
			}
		}
		msgs := strings.Join(e.con.Messages(inc.Channel.ID), "\n")
		if !strings.Contains(msgs, "Could not reach @alice through hook yet") || !strings.Contains(msgs, "was paged through hook after all") {
			t.Errorf("%s channel does not tell the outage:\n%s", inc.Key(), msgs)
		}
	}
	if triggers < len(titles) {
		t.Errorf("%d trigger deliveries for %d incidents", triggers, len(titles))
	}
	// Acknowledged and resolved after the outage: each pager incident gets
	// its trigger, then its acknowledgement, then its resolution.
	for n := range len(titles) {
		ch := e.incident(int64(n + 1)).Channel.ID
		e.do("alice", ch, "/incident ack")
		e.do("alice", ch, "/incident resolve")
	}
	e.tick(time.Minute)
	hook.mu.Lock()
	defer hook.mu.Unlock()
	first := map[string]int{} // idempotency key → arrival
	for i, k := range hook.keys {
		if _, ok := first[k]; !ok {
			first[k] = i
		}
	}
	closes := 0
	for k, i := range first {
		trigger, kind, ok := strings.Cut(k, ":hook:")
		if !ok {
			continue
		}
		closes++
		trigger += ":hook"
		if at, ok := first[trigger]; !ok || at > i {
			t.Errorf("%s arrived before its trigger", k)
		}
		if at, ok := first[trigger+":acknowledge"]; kind == "resolve" && (!ok || at > i) {
			t.Errorf("%s arrived before its acknowledgement", k)
		}
	}
	if closes != 2*triggers {
		t.Errorf("%d acknowledgements and resolutions for %d triggers; want two each", closes, triggers)
	}
}

// Paging wakes the scheduler as soon as there is something to send, so
// the first page goes out without waiting for the next interval.
func TestPagingWakesTheSchedulerWhenWorkIsDue(t *testing.T) {
	wake := bot.NewWake()
	woken := func() bool {
		select {
		case <-wake.TimersDue():
			return true
		default:
			return false
		}
	}
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) { c.Wake = wake }), commandstest.Incidents(func(c *commands.Config) { c.Wake = wake }))
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	if !woken() {
		t.Fatal("declaring with a policy did not wake the scheduler (the first step is due now)")
	}
	e.tick(0)
	if woken() {
		t.Fatal("firing the first step woke the scheduler again; nothing more is due")
	}
	e.do("alice", "inc-1-checkout-is-down", "/incident ack")
	if !woken() {
		t.Error("acknowledging did not wake the scheduler (the acknowledgements to the pagers are due now)")
	}
}

// An acknowledgement cancels triggers not sent yet. One already on its way
// that gets through anyway is recorded as sent; either way it is
// acknowledged on the pager too, or the pager's incident could stay open.
func TestATriggerThatGetsThroughAfterTheAckIsClosedOnThePager(t *testing.T) {
	hook := newReceiver(t)
	arrived, release := make(chan string, 16), make(chan struct{})
	hook.hold = func() { arrived <- "request"; <-release }
	e := newPagingEnv(t, "", hook) // its cleanup closes the receiver: after release
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ticked := make(chan struct{})
	go func() { e.paging.Tick(context.Background(), e.clock.Now()); close(ticked) }()
	<-arrived // step 1's trigger for alice is at the receiver, unanswered
	// Not e.do: its drain would wait for the trigger in flight.
	e.mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice", Name: "alice"},
		Channel: bot.ChannelRef{ID: "inc-1-checkout-is-down"}, Text: "/incident ack", Time: e.clock.Now()})
	if inc := e.incident(1); inc.Status != bot.StatusAcknowledged {
		t.Fatalf("INC-1 is %s after alice's ack", inc.Status)
	}
	close(release)
	released = true
	<-ticked
	e.tick(30 * time.Second) // the close of a cancelled trigger waits out attempts in flight
	ds := e.deliveries()
	var trigger, ack *bot.Delivery
	for i := range ds {
		switch ds[i].Kind {
		case bot.DeliverTrigger:
			trigger = &ds[i]
		case bot.DeliverAck:
			ack = &ds[i]
		}
	}
	if trigger == nil || trigger.Status != bot.DeliverySent {
		t.Fatalf("the trigger that got through is recorded as %+v; want sent", trigger)
	}
	if ack == nil || ack.Status != bot.DeliverySent || ack.DedupKey != trigger.Key {
		t.Fatalf("acknowledgement on the pager: %+v; want one sent for %s", ack, trigger.Key)
	}
	var kinds []string
	for _, ev := range hook.events() {
		kinds = append(kinds, ev.Event+":"+ev.Person)
	}
	if strings.Join(kinds, ",") != "trigger:alice,acknowledge:alice" {
		t.Errorf("the pager got %v; want the trigger, then its acknowledgement", kinds)
	}
}

// Once a pager answers again, deliveries to it that wait out a backoff are
// sent at once, not when their backoff ends.
func TestAPagerThatAnswersAgainGetsWhatWaited(t *testing.T) {
	hook := newReceiver(t)
	hook.statuses = []int{429}
	hook.header = http.Header{"Retry-After": {"300"}}
	e := newPagingEnv(t, "", hook)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0) // INC-1's page: 429, come back in 5 minutes
	if ds := e.deliveries(); len(ds) != 1 || ds[0].Status != bot.DeliveryPending {
		t.Fatalf("after the 429: %+v", ds)
	}
	e.do("zed", "general", "/incident declare Refunds are slow sev:1 service:payments")
	e.tick(time.Second) // INC-2's page gets through: the pager is back
	e.tick(0)           // what the success released
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.accepted) != 2 {
		t.Fatalf("accepted %v a second after the pager came back; want both pages, not INC-1's in 5 minutes", hook.accepted)
	}
}

// TestRestrictLifecycleLetsThePagedAcknowledge: with restrict_lifecycle
// on, acknowledging is for role holders, admins, the people paged and the
// service's on-call; mitigate and public updates are for role holders and
// admins; a plain update stays open to anyone.
func TestRestrictLifecycleLetsThePagedAcknowledge(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Incidents(func(c *commands.Config) { c.RestrictLifecycle = true }))
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := "inc-1-checkout-is-down"
	e.tick(0) // alice (payments-primary) is paged; she holds no role
	for _, cmd := range []string{"/incident ack", "/incident mitigate", "/incident update --public all good"} {
		if got := e.do("mallory", ch, cmd); !strings.Contains(got, "Only people with a role on INC-1") {
			t.Errorf("%s by a bystander: %q", cmd, got)
		}
	}
	if got := e.do("mallory", ch, "/incident update looking at the logs"); strings.Contains(got, "Only people") {
		t.Errorf("a plain update by a bystander was refused: %q", got)
	}
	if got := e.do("carol", ch, "/incident mitigate"); !strings.Contains(got, "Only people with a role") {
		t.Errorf("mitigate by the secondary, not paged and without a role: %q", got)
	}
	e.do("alice", ch, "/incident ack")
	if inc := e.incident(1); inc.AcknowledgedAt.IsZero() || !inc.MitigatedAt.IsZero() {
		t.Fatalf("alice, paged, could not acknowledge (or a refused mitigate went through): %+v", inc)
	}
}

// An incident type's escalation policy is paged instead of its service's.
func TestTypePolicyPagedInsteadOfTheService(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Incidents(func(c *commands.Config) {
		c.Types = bot.IncidentTypes{{ID: "security", Name: "Security", EscalationPolicy: "sec"}}
	}), commandstest.Paging(func(c *paging.Config) {
		c.Policies["sec"] = bot.Policy{ID: "sec", Steps: []bot.Step{{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: "zed"}}, Delay: 5 * time.Minute}}}
		c.TypePolicy = map[string]string{"security": "sec"}
	}))
	got := e.do("alice", "general", "/incident declare Token leaked sev:1 service:payments type:security")
	if !strings.Contains(got, "Paging the security escalation policy (sec)") {
		t.Errorf("reply: %s", got)
	}
	e.tick(0) // step 1
	if e.hook.triggersFor("zed") != 1 {
		t.Fatalf("zed was not paged: %+v", e.hook.events())
	}
	for _, ev := range e.hook.events() {
		if ev.Person != "zed" {
			t.Errorf("paged %s, who is not on the security policy", ev.Person)
		}
	}
}

// A high-priority incident declared at night is paged at once, and says
// so: business hours hold back only low-priority pages.
func TestHighPriorityAtNightSaysItPagesNow(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) {
		c.ServiceHours = map[string]bot.Hours{"payments": {Zone: "Europe/Berlin", Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}}
	}))
	e.clock.Set(time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC)) // Sunday night
	e.clock.Step(time.Millisecond)                              // time passes between readings, as it does
	for _, sev := range []string{"1", "2"} {
		reply := e.do("zed", "general", "/incident declare Checkout is down sev:"+sev+" service:payments")
		if strings.Contains(reply, "low priority") || !strings.Contains(reply, "📟 Paging the on-call for payments") {
			t.Errorf("SEV%s at night: %s", sev, reply)
		}
	}
}

// The summary never shows a page as sent when no pager reaches the person:
// it says so, instead of empty parentheses.
func TestSummarySaysWhenNoPagerReachesSomeone(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) { c.PagerPeople = map[string][]string{"hook": {"alice"}} }))
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0)               // step 1: alice, through the hook
	e.tick(5 * time.Minute) // step 2: carol, whom no pager reaches
	msgs := e.con.Messages("inc-1-checkout-is-down")
	summary := msgs[0]
	if !strings.Contains(summary, "10:05 UTC @carol ⚠️ no pager reaches them") || strings.Contains(summary, "()") {
		t.Errorf("summary:\n%s", summary)
	}
	// Each notice says what happened and what happens next.
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"📟 Paging @alice for INC-1 (step 1 of 3). Acknowledge with the button or react ✅. Next, unless someone acknowledges: @carol at 2026-11-17 10:05 UTC.",
		"⚠️ Nobody could be reached for step 2 of INC-1's escalation: no pager reaches @carol. Next, unless someone acknowledges: @bob at 2026-11-17 10:10 UTC.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the channel lacks %q:\n%s", want, all)
		}
	}
	e.tick(5 * time.Minute) // step 3: bob, no pager either, and the last step
	if all := strings.Join(e.con.Messages("inc-1-checkout-is-down"), "\n"); !strings.Contains(all, "no pager reaches @bob. This was the last step; nobody is paged after it.") {
		t.Errorf("the last step's notice:\n%s", all)
	}
}

// A page a person asks for goes now, even for a low-priority incident
// outside business hours (it used to say "Paging" and send nothing).
func TestAskedForPageGoesNow(t *testing.T) {
	e := newPagingEnv(t, "", nil, commandstest.Paging(func(c *paging.Config) {
		c.ServiceHours = map[string]bot.Hours{"payments": {Zone: "Europe/Berlin", Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}}
	}))
	e.clock.Set(time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC)) // Sunday night
	e.do("zed", "general", "/incident declare Reports are slow sev:3 service:payments")
	if reply := e.do("zed", "inc-1-reports-are-slow", "/incident page @bob"); !strings.Contains(reply, "Paging @bob for INC-1") {
		t.Fatalf("page: %s", reply)
	}
	e.tick(0)
	if n := e.hook.triggersFor("bob"); n != 1 {
		t.Errorf("bob got %d pages; want one, now", n)
	}
}

// The people paged for a private incident are its members: they can open
// what they were woken for.
func TestPagedPeopleMaySeeAPrivateIncident(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	e.do("zed", "general", "/incident declare Credential leak sev:1 service:payments private")
	if got := e.do("carol", "general", "/incident status INC-1"); !strings.Contains(got, "INC-1 is private") {
		t.Fatalf("carol, not paged yet: %s", got)
	}
	e.tick(0)               // step 1: alice
	e.tick(5 * time.Minute) // step 2: carol
	if got := e.do("carol", "general", "/incident status INC-1"); strings.Contains(got, "is private") || !strings.Contains(got, "Credential leak") {
		t.Errorf("carol, paged: %s", got)
	}
	if got := e.do("bob", "general", "/incident status INC-1"); !strings.Contains(got, "INC-1 is private") {
		t.Errorf("bob, not paged: %s", got)
	}
}

// A reopened incident is not acknowledged any more, says why it is back,
// and pages its on-call again.
func TestReopenPagesAgain(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := "inc-1-checkout-is-down"
	e.tick(0) // alice is paged
	e.do("alice", ch, "/incident ack")
	e.do("alice", ch, "/incident resolve")
	e.clock.Advance(time.Hour)
	if got := e.do("alice", ch, "/incident reopen errors are back"); strings.Contains(got, "⚠️") {
		t.Fatalf("reopen: %s", got)
	}
	inc := e.incident(1)
	if inc.Status != bot.StatusOpen || !inc.AcknowledgedAt.IsZero() {
		t.Errorf("after the reopen: %s, acknowledged at %v; want open and not acknowledged", inc.Status, inc.AcknowledgedAt)
	}
	if msgs := strings.Join(e.con.Messages(ch), "\n"); !strings.Contains(msgs, "🚨 reopened INC-1: errors are back") {
		t.Errorf("the channel does not say why it is back:\n%s", msgs)
	}
	e.tick(0)
	if n := e.hook.triggersFor("alice"); n != 2 {
		t.Errorf("alice was paged %d times; want again after the reopen", n)
	}
}

// Once a page is acknowledged, its messages say so and lose their
// Acknowledge button; once its incident is resolved, they say that.
func TestPageMessagesSayWhatBecameOfThePage(t *testing.T) {
	e := newPagingEnv(t, "", nil)
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := "inc-1-checkout-is-down"
	e.tick(0)
	if n := strings.Count(strings.Join(e.con.Messages(ch), "\n"), "📟 Paging @alice"); n != 1 {
		t.Fatalf("%d page notices", n)
	}
	e.clock.Advance(2 * time.Minute)
	e.do("alice", "general", "/incident ack INC-1")
	all := strings.Join(e.con.Messages(ch), "\n")
	if strings.Contains(all, "📟 Paging @alice") || !strings.Contains(all, "✅ INC-1 page: acknowledged by @alice at 2026-11-17 10:02 UTC.") {
		t.Errorf("the page notice after the ack:\n%s", all)
	}
	if strings.Contains(all, "[Acknowledge]") {
		t.Errorf("an Acknowledge button is left:\n%s", all)
	}
	// She acknowledged from outside the channel: she is invited into it.
	if !strings.Contains(e.out.String(), "klaxon invited @alice to #"+ch) {
		t.Errorf("alice was not invited to the channel:\n%s", e.out.String())
	}
}

// A step that pages a team gets one line in the summary that counts how
// it went and names whom it did not reach, where a line per person would
// run past the platforms' field limits; a small step still names each.
func TestSummaryCountsATeamPage(t *testing.T) {
	var team, hooked []bot.Target
	var withPager []string
	for i := range 14 {
		id := fmt.Sprintf("p%02d", i)
		team = append(team, bot.Target{Kind: bot.TargetPerson, ID: id})
		if i < 12 {
			withPager = append(withPager, id)
		}
	}
	hooked = team[:2]
	hook := newReceiver(t)
	hook.statuses = []int{400, 400} // two of the team's triggers are refused for good
	e := newPagingEnv(t, "", hook, commandstest.Paging(func(c *paging.Config) {
		c.Policies = map[string]bot.Policy{"payments": {ID: "payments", Steps: []bot.Step{
			{Targets: team, Delay: 5 * time.Minute},
			{Targets: hooked, Delay: 5 * time.Minute},
		}}}
		c.PagerPeople = map[string][]string{"hook": withPager}
	}))
	e.do("zed", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.tick(0)
	summary := e.con.Messages("inc-1-checkout-is-down")[0]
	want := "10:00 UTC 14 people (step 1): 10 ✓ reached; 2 ✗ failed: "
	if !strings.Contains(summary, want) || !strings.Contains(summary, "; 2 ⚠️ no pager reaches them: p12, p13") {
		t.Errorf("summary lacks %q and the two no pager reaches:\n%s", want, summary)
	}
	if strings.Contains(summary, "p05 (") {
		t.Errorf("the summary names each of the team:\n%s", summary)
	}
	// The channel's notice names eight and counts the rest; the timeline
	// names everyone.
	all := strings.Join(e.con.Messages("inc-1-checkout-is-down"), "\n")
	if want := "📟 Paging p00, p01, p02, p03, p04, p05, p06, p07 and 4 more for INC-1 (step 1 of 2)."; !strings.Contains(all, want) {
		t.Errorf("the channel lacks %q:\n%s", want, all)
	}
	var paged string
	for _, ev := range e.timelineOf(1) {
		if ev.Kind == bot.EventPage {
			paged = ev.Text
		}
	}
	if !strings.Contains(paged, "p11") {
		t.Errorf("the timeline's page event does not name everyone: %q", paged)
	}
	e.tick(5 * time.Minute) // step 2: two people, named a line each
	summary = e.con.Messages("inc-1-checkout-is-down")[0]
	for _, want := range []string{"10:05 UTC p00 (hook ", "10:05 UTC p01 (hook "} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
}
