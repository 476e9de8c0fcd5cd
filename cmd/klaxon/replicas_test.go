package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/store/pg"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

// TestReplicasOnPostgreSQL runs two klaxon replicas on one PostgreSQL
// database and one Slack app (each with its Socket Mode connection; Slack
// spreads envelopes over both): one leads. An incident declared through
// whichever replica Slack picks pages its first step once; a message
// Slack redelivers to the other replica is recorded once. The leader
// shuts down: the standby takes over at once and fires the second step,
// once.
func TestReplicasOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	fake := slackfake.New(t, map[string]string{alice: "alice", bob: "bob"})
	fake.SetMaxConnections(2)
	tr := newTriggers(t, func() int { return 0 })
	config := fmt.Sprintf(outboxConfig, tr.srv.URL)
	config = strings.Replace(config, "steps: [{delay: 5m, targets: [{person: bob}]}]", "steps: [{delay: 5m, targets: [{person: alice}]}, {delay: 5m, targets: [{person: bob}]}]", 1)
	clock := bot.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	start := func() *running {
		ctx, cancel := context.WithCancel(context.Background())
		r := &running{t: t, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
		m := &Main{Stdin: strings.NewReader(""), Stdout: r.logs, Stderr: r.logs, Clock: clock, TickEvery: 10 * time.Millisecond,
			Getenv: env{"KLAXON_STORE_DRIVER": "postgres", "KLAXON_STORE_POSTGRES_DSN": dsn, "KLAXON_STORE_POSTGRES_LEASE": "1s",
				"KLAXON_HTTP_LISTEN": "127.0.0.1:0", "KLAXON_LOG_LEVEL": "debug",
				"KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": fake.URL()}.get}
		path := writeConfig(t, config)
		go func() { r.done <- m.Execute(ctx, []string{"run", "--config", path}) }()
		t.Cleanup(r.stop)
		return r
	}
	role := func(r *running) string {
		_, body := get(t, "http://"+r.httpAddr()+"/readyz")
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "role: "); ok {
				return v
			}
		}
		return ""
	}
	a := start()
	if !fake.WaitFor(wait, func() bool { return role(a) == roleLeader }) {
		t.Fatalf("the first replica does not lead; logs:\n%s", a.logs)
	}
	b := start()
	if !fake.WaitFor(wait, func() bool { return fake.OpenConnections() == 2 && role(b) == roleStandby }) {
		t.Fatalf("the second replica is not a connected standby: %d connections, role %q", fake.OpenConnections(), role(b))
	}
	if _, body := get(t, "http://"+b.httpAddr()+"/readyz"); !strings.Contains(body, "store: postgres") {
		t.Errorf("/readyz of the standby: %q", body)
	}

	// Slack sends the command to one replica or the other.
	for i := range 2 {
		if _, ok := fake.Ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare "Card payments fail %d" sev:1 service:payments`, i)), wait); !ok {
			t.Fatal("a declaration was not acknowledged")
		}
	}
	// The fake clock stands still: a page the standby declared fires at
	// once because the leader hears of it (LISTEN/NOTIFY), not at a tick.
	if !fake.WaitFor(wait, func() bool { return tr.count() == 2 }) {
		t.Fatalf("step 1 paged %d times; want once per incident; logs:\n%s\n%s", tr.count(), a.logs, b.logs)
	}
	var ch slackfake.Channel
	if !fake.WaitFor(wait, func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-card-payments-fail-0"); return ok }) {
		t.Fatal("no incident channel")
	}
	// A message, redelivered three times over both connections: once on the timeline.
	event, _, _, eventID := fake.Say(alice, ch.ID, "rolling back the deploy")
	for range 3 {
		fake.Redeliver(event, eventID)
	}
	a.stop() // the leader shuts down cleanly: it hands the lease over
	if !fake.WaitFor(wait, func() bool { return role(b) == roleLeader }) {
		t.Fatalf("the standby did not take over; logs:\n%s", b.logs)
	}
	clock.Advance(5 * time.Minute)
	if !fake.WaitFor(wait, func() bool { return tr.count() == 4 }) {
		t.Fatalf("step 2 paged %d times in all; want 4 (two incidents, two steps); logs:\n%s", tr.count(), b.logs)
	}
	time.Sleep(200 * time.Millisecond) // a few more ticks: nothing more is sent
	if n := tr.count(); n != 4 {
		tr.mu.Lock()
		for _, ev := range tr.got {
			t.Logf("page: %s %s %s", ev.Person, ev.DedupKey, ev.Delivery)
		}
		tr.mu.Unlock()
		t.Errorf("%d pages; want 4\nA:\n%s\nB:\n%s", n, a.logs, b.logs)
	}
	b.stop()
	s, err := pg.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, err := s.IncidentByNumber(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events(context.Background(), inc.ID, 0, 0)
	said := 0
	for _, ev := range evs {
		if ev.Text == "rolling back the deploy" {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the redelivered message is on the timeline %d times; want once", said)
	}
}
