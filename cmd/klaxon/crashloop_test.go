//go:build chaos

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// The crash loop: the real klaxon binary, connected to the fake Slack and
// paging through a signed webhook, is killed with SIGKILL at random moments
// while a scripted incident runs (messages, edits, reactions, pages,
// acknowledgements by emoji, resolve), and restarted on the same bbolt
// file. Run with `make chaos` (CHAOS_ROUNDS, default 50).

const carol = "U0CAROL"

// drillConfig pages bob, then carol a minute later (the shortest delay a
// policy may have), through the receiver.
const drillConfig = `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE}
  - {id: bob, name: Bob, slack_id: U0BOB}
  - {id: carol, name: Carol, slack_id: U0CAROL}
services:
  - {id: payments, escalation_policy: drill}
escalation_policies:
  - id: drill
    steps:
      - {delay: 1m, targets: [{person: bob}]}
      - {delay: 1m, targets: [{person: carol}]}
pagers:
  - {id: hook, type: webhook, url: "%s", secret: %s}
`

const stepDelay = time.Minute

func TestCrashLoop(t *testing.T) {
	rounds := 50
	if s := os.Getenv("CHAOS_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	perRound := max(2000/rounds, 40)
	fake := slackfake.New(t, map[string]string{alice: "alice", bob: "bob", carol: "carol"})
	t.Cleanup(fake.Close)
	rx := newPagerReceiver(t)
	d := &drill{t: t, fake: fake, rx: rx, bin: buildKlaxon(t), db: filepath.Join(t.TempDir(), "klaxon.db"),
		config: writeConfig(t, fmt.Sprintf(drillConfig, rx.srv.URL, rx.secret)), what: map[string]string{}, reacted: map[string]bool{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	d.start()
	if _, ok := fake.Ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Chaos drill" sev:2`), wait); !ok {
		t.Fatal("the declaration was not acknowledged")
	}
	// The declaration itself is not under fire: wait until it is complete
	// (the summary is pinned once the channel is recorded).
	if !fake.WaitFor(wait, func() bool { cs := fake.Channels(); return len(cs) == 1 && len(cs[0].Pins) == 1 }) {
		t.Fatalf("no incident channel; logs:\n%s", d.p.logs)
	}
	d.channel = fake.Channels()[0].ID

	start := time.Now()
	for round := range rounds {
		if round > 0 {
			d.start()
		}
		// Twice in 50 rounds (once in CI's 10), klaxon stays down for a
		// minute while an escalation falls due.
		if round%25 == 2 {
			d.escalateWhileDown(round)
			continue
		}
		// Every round sends perRound messages (2,000 in all); those after
		// the kill wait in Slack until klaxon is back.
		killAt := time.Now().Add(time.Duration(rng.IntN(400)) * time.Millisecond)
		pageAt := rng.IntN(perRound)
		killed := false
		for i := range perRound {
			if !killed && time.Now().After(killAt) {
				d.crash(round)
				killed = true
			}
			ts := d.say(bob, fmt.Sprintf("round %d message %d", round, i))
			if i%10 == 0 {
				env, id := fake.React(alice, d.channel, ts, "eyes")
				d.sent(env, id, fmt.Sprintf("round %d reaction %d", round, i))
			}
			if i%20 == 5 {
				env, id := fake.Edit(d.channel, ts, fmt.Sprintf("round %d message %d (edited)", round, i))
				d.sent(env, id, fmt.Sprintf("round %d edit %d", round, i))
			}
			if i == pageAt && !killed {
				fake.SlashCommand(alice, d.channel, "/incident", "page payments")
			}
			if rng.IntN(4) == 0 {
				d.ackNotices() // bob acknowledges the page notices he sees
			}
			time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		}
		if !killed {
			time.Sleep(time.Until(killAt))
			d.crash(round)
		}
		// Said while klaxon is down: Slack keeps it until klaxon is back.
		for i := range 3 {
			d.say(bob, fmt.Sprintf("round %d while down %d", round, i))
		}
	}

	// A last run delivers whatever was left unacknowledged, resolves the
	// incident, and stops cleanly once the pagers were told.
	d.start()
	if !fake.WaitFor(60*time.Second, func() bool { return fake.Unacked() == 0 }) {
		t.Errorf("%d envelopes never acknowledged", fake.Unacked())
	}
	if _, ok := fake.Ack(fake.SlashCommand(alice, d.channel, "/incident", "resolve"), wait); !ok {
		t.Fatal("the resolve was not acknowledged")
	}
	if !fake.WaitFor(30*time.Second, func() bool { return len(fake.Files(d.channel)) > 0 }) {
		t.Errorf("no postmortem draft after resolving; logs:\n%s", d.p.logs)
	}
	if !fake.WaitFor(time.Minute, func() bool { return rx.closed() }) {
		t.Errorf("triggers the pager was never told were resolved: %v", rx.open())
	}
	d.p.stop(t)

	s, err := bolt.Open(d.db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		d.corrupt++
		t.Errorf("bbolt check: %v", err)
	}
	ctx := context.Background()
	inc, err := s.IncidentByNumber(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != bot.StatusResolved {
		t.Errorf("INC-1 is %s; want resolved", inc.Status)
	}
	evs, err := s.Events(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	lost, doubled := tally(t, d.events, evs, d.what)
	doubledPages := d.checkPages(s, inc.ID, evs)
	incidents, _ := s.ListIncidents(ctx, bot.IncidentFilter{})
	posts, keys := rx.counts()
	t.Logf("chaos: %d rounds in %s, %d events sent, lost = %d, duplicated = %d, corrupt = %d, acknowledged but not stored = %d, incidents = %d",
		rounds, time.Since(start).Round(time.Second), len(d.events), lost, doubled, d.corrupt, d.unstored, len(incidents))
	t.Logf("pages: %d pages, %d acknowledged by emoji, %d deliveries (%d posts: %d resent under the same idempotency key after a kill), doubled = %d, escalations due while down = %d, fired after restart = %d",
		len(rx.pages()), d.acks, keys, posts, posts-keys, doubledPages, d.dueWhileDown, d.firedAfterRestart)
	fmt.Printf("chaos summary: rounds=%d events=%d lost=%d duplicated=%d corrupt=%d unstored=%d pages=%d pages-doubled=%d escalations-due-while-down=%d fired-after-restart=%d\n",
		rounds, len(d.events), lost, doubled, d.corrupt, d.unstored, len(rx.pages()), doubledPages, d.dueWhileDown, d.firedAfterRestart)
	if lost != 0 || doubled != 0 || len(incidents) != 1 || doubledPages != 0 || d.firedAfterRestart != d.dueWhileDown {
		t.Errorf("lost %d, duplicated %d, %d incidents, pages doubled %d, escalations fired after restart %d of %d",
			lost, doubled, len(incidents), doubledPages, d.firedAfterRestart, d.dueWhileDown)
	}
}

// drill is the state of one crash loop.
type drill struct {
	t                 *testing.T
	fake              *slackfake.Server
	rx                *pagerReceiver
	bin, db, config   string
	p                 *process
	channel           string
	events            []string          // event ids of every channel event sent, in order
	envelopes         []string          // their envelope ids, in the same order
	what              map[string]string // event id → what it was, for the log
	reacted           map[string]bool   // page notices bob reacted to, by ts
	acks              int
	corrupt, unstored int
	dueWhileDown      int
	firedAfterRestart int
}

func (d *drill) start() { d.p = startProcess(d.t, d.bin, d.db, d.fake, "--config", d.config) }

func (d *drill) sent(envelope, id, what string) {
	d.events, d.envelopes = append(d.events, id), append(d.envelopes, envelope)
	d.what[id] = what
}

func (d *drill) say(user, text string) (ts string) {
	_, ts, env, id := d.fake.Say(user, d.channel, text)
	d.sent(env, id, text)
	return ts
}

// ackNotices has bob react ✅ to every page notice he has not reacted to.
func (d *drill) ackNotices() {
	for _, m := range d.fake.Messages(d.channel) {
		if d.reacted[m.TS] || !strings.Contains(m.Text, "📟 Paging <@"+bob+">") {
			continue
		}
		d.reacted[m.TS] = true
		env, id := d.fake.React(bob, d.channel, m.TS, "white_check_mark")
		d.sent(env, id, "bob acknowledges "+m.TS)
		d.acks++
	}
}

// crash kills klaxon and checks the file it left and the pager: no
// corruption, every channel event the fake saw acknowledged stored, none
// stored twice, and nobody paged twice for one step.
func (d *drill) crash(round int) {
	d.t.Helper()
	d.p.kill()
	s, err := bolt.Open(d.db, bolt.Options{})
	if err != nil {
		d.t.Fatalf("round %d: reopening the store after kill -9: %v", round, err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		d.corrupt++
		d.t.Errorf("round %d: bbolt check: %v", round, err)
	}
	inc, err := s.IncidentByNumber(context.Background(), 1)
	if err != nil {
		d.t.Fatal(err)
	}
	evs, err := s.Events(context.Background(), inc.ID, 0, 0)
	if err != nil {
		d.t.Fatal(err)
	}
	stored := map[string]int{}
	for _, ev := range evs {
		if ev.SourceID != "" {
			stored[ev.SourceID]++
		}
	}
	for i, env := range d.envelopes {
		switch _, acked := d.fake.Ack(env, 0); {
		case acked && stored["slack:"+d.events[i]] == 0:
			d.unstored++
			d.t.Errorf("round %d: %s (%s) was acknowledged but is not stored", round, d.events[i], d.what[d.events[i]])
		case stored["slack:"+d.events[i]] > 1:
			d.t.Errorf("round %d: %s (%s) is stored %d times", round, d.events[i], d.what[d.events[i]], stored["slack:"+d.events[i]])
		}
	}
	if twice := d.rx.pagedTwice(); len(twice) > 0 {
		d.t.Errorf("round %d: paged under more than one key: %v", round, twice)
	}
}

// escalateWhileDown pages, kills klaxon once the first step went out, keeps
// it down past the second step's time, and checks that the second step
// fires after the restart.
func (d *drill) escalateWhileDown(round int) {
	d.t.Helper()
	// Wait for quiet: acknowledgements Slack still redelivers from earlier
	// rounds must not stop this page, and an earlier round's page whose
	// first step goes out only now must not be taken for this one.
	quiet := time.Now()
	known := d.rx.pages()
	if !d.fake.WaitFor(30*time.Second, func() bool {
		if now := d.rx.pages(); len(now) != len(known) || d.fake.Unacked() > 0 {
			known, quiet = now, time.Now()
		}
		return time.Since(quiet) > 2500*time.Millisecond
	}) {
		d.t.Fatalf("round %d: klaxon never went quiet: %d envelopes not acknowledged", round, d.fake.Unacked())
	}
	d.say(bob, fmt.Sprintf("round %d before the page", round))
	if _, ok := d.fake.Ack(d.fake.SlashCommand(alice, d.channel, "/incident", "page payments"), wait); !ok {
		d.t.Fatalf("round %d: the page command was not acknowledged", round)
	}
	var page string
	var firstAt time.Time
	if !d.fake.WaitFor(wait, func() bool {
		for id, at := range d.rx.pages() {
			if _, old := known[id]; !old {
				page, firstAt = id, at
			}
		}
		return page != ""
	}) {
		d.t.Fatalf("round %d: the page's first step never reached the pager; logs:\n%s", round, d.p.logs)
	}
	d.crash(round)
	d.dueWhileDown++
	time.Sleep(time.Until(firstAt.Add(stepDelay + 500*time.Millisecond)))
	// Paging does not wait for Slack: the step may fire before klaxon has
	// reconnected, so "after the restart" counts from the process start.
	restarted := time.Now()
	d.start()
	if d.fake.WaitFor(20*time.Second, func() bool {
		at, ok := d.rx.received(page + ":1:0:carol:hook")
		return ok && at.After(restarted)
	}) {
		d.firedAfterRestart++
	} else {
		d.t.Errorf("round %d: the escalation to carol due while klaxon was down did not fire after the restart; the pager got %v for page %s; logs:\n%s",
			round, d.rx.keysOf(page), page, d.p.logs)
	}
	d.crash(round)
}

// checkPages compares the pages in the store with what the pager got: every
// trigger the store calls sent was received, every trigger received is in
// the store, each (page, step, round, person) was paged under one key, no
// step fired that the policy does not have, and each step that fired is on
// the timeline once. It returns how many pages went out more than once.
func (d *drill) checkPages(s *bolt.Store, incident uuid.UUID, evs []bot.Event) (doubled int) {
	d.t.Helper()
	pages, err := s.PagesForIncident(context.Background(), incident)
	if err != nil {
		d.t.Fatal(err)
	}
	steps, sent, stepsLogged, sentLogged := 0, 0, 0, 0
	inStore := map[string]bot.Delivery{} // triggers
	for _, pg := range pages {
		fired := map[[2]int]bool{}
		for _, pd := range pg.Paged {
			fired[[2]int{pd.Step, pd.Loop}] = true
		}
		steps += len(fired)
		dls, err := s.PageDeliveries(context.Background(), pg.ID)
		if err != nil {
			d.t.Fatal(err)
		}
		for _, dl := range dls {
			if dl.Kind == bot.DeliverTrigger {
				inStore[dl.Key] = dl
			}
			if dl.Status == bot.DeliverySent {
				sent++
			}
		}
	}
	for _, ev := range evs {
		switch {
		case ev.Kind == bot.EventPage:
			stepsLogged++
		case ev.Kind == bot.EventDelivery && strings.Contains(ev.Text, " delivered through "):
			sentLogged++
		}
	}
	if stepsLogged != steps || sentLogged != sent {
		d.t.Errorf("%d escalation steps fired and %d deliveries sent; the timeline has %d and %d", steps, sent, stepsLogged, sentLogged)
	}
	received := d.rx.triggers()
	paged := map[string]int{} // page:step:loop:person → keys
	for key, ev := range received {
		dl, ok := inStore[key]
		if !ok {
			d.t.Errorf("the pager got %s, which klaxon has no record of", key)
			continue
		}
		// Cancelled is right for a trigger sent just before a kill and
		// acknowledged after the restart: its close went out all the same
		// (the receiver's open() checks that).
		if dl.Status != bot.DeliverySent && dl.Status != bot.DeliveryCancelled {
			d.t.Errorf("the pager got %s; klaxon recorded it as %s", key, dl.Status)
		}
		parts := strings.Split(key, ":")
		if len(parts) != 5 || (parts[1] == "0") != (ev.Person == "bob") || parts[2] != "0" || (ev.Person != "bob" && ev.Person != "carol") {
			d.t.Errorf("the pager got %s for %s: not a step of the policy", key, ev.Person)
			doubled++
		}
		paged[strings.Join(parts[:4], ":")]++
	}
	for who, n := range paged {
		if n > 1 {
			d.t.Errorf("%s was paged under %d keys", who, n)
			doubled++
		}
	}
	for key, dl := range inStore {
		if _, ok := received[key]; !ok && dl.Status == bot.DeliverySent {
			d.t.Errorf("klaxon recorded %s as sent; the pager never got it", key)
		}
	}
	return doubled
}

// pagerReceiver is the webhook pager's far end. It checks each request's
// signature and records it by idempotency key, as PagerDuty de-duplicates
// on dedup_key: a post resent under the same key wakes nobody twice.
type pagerReceiver struct {
	srv    *httptest.Server
	secret string

	mu     sync.Mutex
	posts  map[string]int                // idempotency key → posts received
	events map[string]pager.WebhookEvent // by key, as first received
	at     map[string]time.Time          // by key, when first received
}

func newPagerReceiver(t *testing.T) *pagerReceiver {
	r := &pagerReceiver{secret: "drill-signing-s3cret", posts: map[string]int{}, events: map[string]pager.WebhookEvent{}, at: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *pagerReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ts, _ := strconv.ParseInt(req.Header.Get("X-Klaxon-Timestamp"), 10, 64)
	key := req.Header.Get("Idempotency-Key")
	var ev pager.WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil || key == "" || ev.Delivery != key ||
		req.Header.Get("X-Klaxon-Signature") != pager.Sign(r.secret, ts, body) {
		http.Error(w, "bad request or signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	if r.posts[key] == 0 {
		r.events[key], r.at[key] = ev, time.Now()
	}
	r.posts[key]++
	r.mu.Unlock()
	// Recorded before answering, as a receiver commits before its 2xx: a
	// kill in this moment makes klaxon send it again under the same key.
	time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	w.WriteHeader(http.StatusAccepted)
}

// pages returns the pages whose first step reached the receiver, by page
// id, with when.
func (r *pagerReceiver) pages() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Time{}
	for key, ev := range r.events {
		if id, rest, _ := strings.Cut(key, ":"); ev.Event == "trigger" && strings.HasPrefix(rest, "0:0:") {
			out[id] = r.at[key]
		}
	}
	return out
}

// pagedTwice lists the (page, step, round, person) triggers received under
// more than one key.
func (r *pagerReceiver) pagedTwice() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := map[string]int{}
	for key, ev := range r.events {
		if parts := strings.Split(key, ":"); ev.Event == "trigger" && len(parts) == 5 {
			keys[strings.Join(parts[:4], ":")]++
		}
	}
	var out []string
	for who, n := range keys {
		if n > 1 {
			out = append(out, who)
		}
	}
	return out
}

// keysOf lists the keys received for page.
func (r *pagerReceiver) keysOf(page string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key := range r.events {
		if strings.HasPrefix(key, page+":") {
			out = append(out, key)
		}
	}
	return out
}

func (r *pagerReceiver) received(key string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[key]
	return at, ok
}

func (r *pagerReceiver) triggers() map[string]pager.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]pager.WebhookEvent{}
	for key, ev := range r.events {
		if ev.Event == "trigger" {
			out[key] = ev
		}
	}
	return out
}

// open lists the triggers no resolve has followed.
func (r *pagerReceiver) open() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key, ev := range r.events {
		if _, resolved := r.events[key+":resolve"]; ev.Event == "trigger" && !resolved {
			out = append(out, key)
		}
	}
	return out
}

func (r *pagerReceiver) closed() bool { return len(r.open()) == 0 }

// counts returns the posts received and the distinct keys among them.
func (r *pagerReceiver) counts() (posts, keys int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.posts {
		posts += n
	}
	return posts, len(r.posts)
}
