package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	slackbot "github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

const (
	alice = "U0ALICE"
	bob   = "U0BOB"
	wait  = 10 * time.Second
)

// slackKlaxon is the real klaxon program connected to a fake Slack.
type slackKlaxon struct {
	*running
	fake *slackfake.Server
	db   string
}

func startSlack(t *testing.T, fake *slackfake.Server, db string) *slackKlaxon {
	t.Helper()
	before := fake.Connections()
	k := &slackKlaxon{fake: fake, db: db, running: runKlaxon(t, "", env{
		"KLAXON_STORE_PATH":             db,
		"KLAXON_SLACK_APP_TOKEN":        fake.AppToken,
		"KLAXON_SLACK_BOT_TOKEN":        fake.BotToken,
		"KLAXON_SLACK_API_URL":          fake.URL(),
		"KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS",
	})}
	k.waitFor("klaxon to connect to the fake Slack", func() bool { return fake.Connections() > before && fake.Connected() })
	return k
}

func (k *slackKlaxon) waitFor(what string, cond func() bool) {
	k.t.Helper()
	k.running.waitFor(k.fake, what, cond)
}

func (k *slackKlaxon) ack(envelope string) json.RawMessage {
	k.t.Helper()
	payload, ok := k.fake.Ack(envelope, wait)
	if !ok {
		k.t.Fatalf("envelope %s was not acknowledged; logs:\n%s", envelope, k.logs)
	}
	return payload
}

// timeline reads an incident's timeline from the store, after klaxon stopped.
func timeline(t *testing.T, db string, n int64) []bot.Event {
	t.Helper()
	s, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, err := s.IncidentByNumber(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(context.Background(), inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func newFake(t testing.TB) *slackfake.Server {
	fake := slackfake.New(t, map[string]string{alice: "alice", bob: "bob"})
	t.Cleanup(func() {
		// Every Web API method klaxon called is in the table of what it
		// needs, which the manifest test and `klaxon check` use.
		for _, c := range fake.Calls("") {
			method, _, _ := strings.Cut(c.Method, " ")
			if method != "apps.connections.open" && !slices.ContainsFunc(slackbot.Needs, func(n slackbot.Need) bool { return n.Method == method }) {
				t.Errorf("klaxon called %s, which bot/slack's Needs does not list", method)
			}
		}
	})
	return fake
}

func TestSlackDeclareThroughTheModal(t *testing.T) {
	fake := newFake(t)
	k := startSlack(t, fake, filepath.Join(t.TempDir(), "k.db"))

	// A bare /incident declare opens the modal.
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", "declare"))
	k.waitFor("the declaration modal", func() bool { return len(fake.Views()) == 1 })
	view := fake.Views()[0]
	if view.View["callback_id"] != "klaxon.declare" {
		t.Fatalf("opened view %v", view.View["callback_id"])
	}

	// An invalid submission gets field errors in the ack and writes nothing.
	env, err := fake.SubmitView(alice, view.ID, map[string]string{"title": "   ", "severity": "SEV1"})
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(k.ack(env), &ack); err != nil || ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["title"], "needs a title") {
		t.Fatalf("invalid submission ack = %+v (%v); want errors on the title", ack, err)
	}
	if len(fake.Channels()) != 0 {
		t.Fatal("an invalid submission created a channel")
	}

	// A valid one declares.
	env, _ = fake.SubmitView(alice, view.ID, map[string]string{
		"title": "Checkout is down", "severity": "SEV1", "service": "payments", "summary": "EU cards fail", "commander": bob, "private": "",
	})
	if payload := k.ack(env); len(payload) != 0 && string(payload) != "null" {
		t.Errorf("valid submission ack carried %s", payload)
	}
	k.waitFor("the announcement", func() bool { return len(fake.Messages("C0INCIDENTS")) == 1 })
	ch, ok := fake.ChannelByName("inc-1-checkout-is-down")
	if !ok {
		t.Fatalf("no incident channel among %+v", fake.Channels())
	}
	if ch.Private || !slices.Contains(ch.Members, alice) || !slices.Contains(ch.Members, bob) {
		t.Errorf("channel = %+v; want public with alice and bob", ch)
	}
	if ch.Topic != "INC-1 · SEV1 · open · Checkout is down" || !strings.HasPrefix(ch.Purpose, "Incident INC-1: Checkout is down.") {
		t.Errorf("topic = %q, purpose = %q", ch.Topic, ch.Purpose)
	}
	msgs := fake.Messages(ch.ID)
	if len(msgs) == 0 || len(ch.Pins) != 1 || ch.Pins[0] != msgs[0].TS {
		t.Fatalf("pins %v, messages %d; want the first message pinned", ch.Pins, len(msgs))
	}
	summary := msgs[0].Rendered()
	for _, want := range []string{"INC-1 · SEV1 · Checkout is down", "EU cards fail", "<@" + bob + ">", "Acknowledge", "Resolve"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if a := fake.Messages("C0INCIDENTS")[0].Rendered(); !strings.Contains(a, "<#"+ch.ID+">") {
		t.Errorf("announcement does not link the channel: %s", a)
	}
	k.waitFor("the declarer's confirmation", func() bool {
		for _, r := range fake.Replies() {
			if r.User == alice && strings.Contains(r.Text, "Declared *INC-1*") {
				return true
			}
		}
		return false
	})

	// The Resolve button opens a form; submitting it resolves and updates
	// the pinned summary in place.
	var incID string
	for _, b := range mustBlocks(t, msgs[0]) {
		if b.ActionID == "klaxon.resolve" {
			incID = b.Value
		}
	}
	if incID == "" {
		t.Fatalf("the summary has no Resolve button: %s", msgs[0].Blocks)
	}
	k.ack(fake.ClickButton(bob, ch.ID, msgs[0].TS, "klaxon.resolve", incID))
	k.waitFor("the resolve modal", func() bool { return len(fake.Views()) == 2 })
	env, _ = fake.SubmitView(bob, fake.Views()[1].ID, map[string]string{"summary": "rolled back"})
	k.ack(env)
	k.waitFor("the summary to show resolved", func() bool {
		m, _ := fake.Message(ch.ID, msgs[0].TS)
		return strings.Contains(m.Rendered(), "Resolved") && m.Edits > 0
	})
	k.stop()
	var kinds []string
	for _, ev := range timeline(t, k.db, 1) {
		kinds = append(kinds, string(ev.Kind))
	}
	if got := strings.Join(kinds, ","); got != "declared,role,channel,resolved" {
		t.Errorf("timeline = %s", got)
	}
}

type button struct {
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
}

func mustBlocks(t *testing.T, m slackfake.Message) []button {
	t.Helper()
	var blocks []struct {
		Type     string   `json:"type"`
		Elements []button `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("blocks of %s: %v", m.TS, err)
	}
	var out []button
	for _, b := range blocks {
		if b.Type == "actions" {
			out = append(out, b.Elements...)
		}
	}
	return out
}

func TestSlackInlineDeclareAndChannelEventsRecordedOnce(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "k.db")
	k := startSlack(t, fake, db)

	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "DB down" sev:2`))
	k.waitFor("the pinned summary", func() bool { c, _ := fake.ChannelByName("inc-1-db-down"); return len(c.Pins) == 1 })
	ch, _ := fake.ChannelByName("inc-1-db-down")

	// A message, redelivered; an edit; a reaction; a pin; a delete.
	msg, ts, env, id := fake.Say(bob, ch.ID, "primary is down, failing over")
	k.ack(env)
	k.ack(fake.Redeliver(msg, id))
	env, _ = fake.Edit(ch.ID, ts, "primary is down, failover done")
	k.ack(env)
	env, _ = fake.React(alice, ch.ID, ts, "pushpin")
	k.ack(env)
	env, _ = fake.Pin(alice, ch.ID, ts)
	k.ack(env)
	_, ts2, env, _ := fake.Say(bob, ch.ID, "typo")
	k.ack(env)
	env, _ = fake.Delete(ch.ID, ts2)
	k.ack(env)
	// Talk outside the incident channel is not recorded.
	_, _, env, _ = fake.Say(bob, "C0GENERAL", "lunch?")
	k.ack(env)
	k.stop()

	evs := timeline(t, db, 1)
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, string(ev.Kind))
	}
	want := "declared,role,channel,message,message_edited,reaction,pin,message,message_deleted"
	if got := strings.Join(kinds, ","); got != want {
		t.Fatalf("timeline =\n%s\nwant\n%s", got, want)
	}
	if e := evs[4]; e.Text != "primary is down, failover done" || e.Meta["previous_text"] != "primary is down, failing over" {
		t.Errorf("edit event = %+v", e)
	}
	if r := evs[5]; r.Meta["emoji"] != "📌" || !r.Highlight {
		t.Errorf("reaction event = %+v; want a 📌 highlight", r)
	}
}

func TestSlackDroppedSocketLosesNothing(t *testing.T) {
	fake := newFake(t)
	fake.RedeliverAfter = 500 * time.Millisecond
	db := filepath.Join(t.TempDir(), "k.db")
	k := startSlack(t, fake, db)
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Search is slow"`))
	// People talk once klaxon has invited them and pinned the summary: by
	// then the channel is known to be the incident's.
	k.waitFor("the pinned summary", func() bool { c, _ := fake.ChannelByName("inc-1-search-is-slow"); return len(c.Pins) == 1 })
	ch, _ := fake.ChannelByName("inc-1-search-is-slow")

	const n = 30
	var envs []string
	for i := range n {
		if i == 10 {
			fake.DropConnection()
		}
		if i == 20 {
			fake.SendDisconnect()
		}
		_, _, env, _ := fake.Say(bob, ch.ID, "update "+string(rune('a'+i)))
		envs = append(envs, env)
	}
	for _, env := range envs {
		k.ack(env)
	}
	if fake.Connections() < 2 {
		t.Errorf("klaxon connected %d times; want a reconnect", fake.Connections())
	}
	k.stop()
	messages := 0
	seen := map[string]bool{}
	for _, ev := range timeline(t, db, 1) {
		if ev.Kind == bot.EventMessage {
			messages++
			if seen[ev.Text] {
				t.Errorf("%q recorded twice", ev.Text)
			}
			seen[ev.Text] = true
		}
	}
	if messages != n {
		var missing []string
		for i := range n {
			if text := "update " + string(rune('a'+i)); !seen[text] {
				missing = append(missing, text)
			}
		}
		t.Errorf("recorded %d of %d messages; missing %q; logs:\n%s", messages, n, missing, k.logs)
	}
}

func TestSlackRateLimitsDelayButLoseNothing(t *testing.T) {
	fake := newFake(t)
	k := startSlack(t, fake, filepath.Join(t.TempDir(), "k.db"))
	fake.RateLimit("chat.postMessage", 3, 1)
	fake.RateLimit("conversations.create", 2, 1)
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Payments degraded" sev:1`))
	k.waitFor("the announcement despite 429s", func() bool { return len(fake.Messages("C0INCIDENTS")) == 1 })
	ch, ok := fake.ChannelByName("inc-1-payments-degraded")
	if !ok || len(fake.Messages(ch.ID)) != 1 || len(ch.Pins) != 1 {
		t.Fatalf("after 429s: channel %+v, %d messages", ch, len(fake.Messages(ch.ID)))
	}
	if got := len(fake.Calls("chat.postMessage (429)")) + len(fake.Calls("conversations.create (429)")); got != 5 {
		t.Errorf("fake answered %d 429s; want 5", got)
	}
	if got := len(fake.Calls("conversations.create")); got != 1 {
		t.Errorf("conversations.create succeeded %d times; want exactly 1", got)
	}
}

func TestSlackShortcutAndMentions(t *testing.T) {
	fake := newFake(t)
	k := startSlack(t, fake, filepath.Join(t.TempDir(), "k.db"))
	_, ts, env, _ := fake.Say(bob, "C0GENERAL", "Checkout returns 502 for everyone\nstarted 03:12")
	k.ack(env)
	k.ack(fake.Shortcut(alice, "C0GENERAL", ts, "declare_from_message"))
	k.waitFor("the prefilled modal", func() bool { return len(fake.Views()) == 1 })
	blocks, _ := json.Marshal(fake.Views()[0].View["blocks"])
	if !strings.Contains(string(blocks), "Checkout returns 502 for everyone") || !strings.Contains(string(blocks), "started 03:12") {
		t.Errorf("modal is not prefilled from the message: %s", blocks)
	}

	k.ack(func() string { env, _ := fake.Mention(alice, "C0GENERAL", "help"); return env }())
	k.waitFor("an answer to the mention", func() bool {
		for _, m := range fake.Messages("C0GENERAL") {
			if m.User == slackfake.BotUserID && strings.Contains(m.Rendered(), "/incident declare") {
				return m.ThreadTS != ""
			}
		}
		return false
	})
}

func TestSlackOnCall(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "k.db")
	config := `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE, time_zone: Europe/Berlin}
  - {id: bob, name: Bob, slack_id: U0BOB}
schedules:
  - id: payments
    service: payments
    time_zone: Europe/Berlin
    layers:
      - {rotation: weekly, start: 2026-01-05, participants: [alice, bob]}
`
	k := &slackKlaxon{fake: fake, db: db, running: runKlaxon(t, config, env{"KLAXON_STORE_PATH": db,
		"KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": fake.URL()})}
	k.waitFor("the connection", fake.Connected)

	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/oncall", "payments"))
	k.waitFor("the on-call answer", func() bool {
		for _, r := range fake.Replies() {
			// The fallback text carries the whole answer.
			if strings.Contains(r.Text, "On call now") && strings.Contains(r.Text, "*payments* primary: <@U0") {
				return true
			}
		}
		return false
	})
	env2, _ := fake.Mention(bob, "C0GENERAL", "who is on call for payments?")
	k.ack(env2)
	k.waitFor("the answer to the question, in its thread", func() bool {
		for _, msg := range fake.Messages("C0GENERAL") {
			if msg.User == slackfake.BotUserID && strings.Contains(msg.Rendered(), "On call now") && msg.ThreadTS != "" {
				return true
			}
		}
		return false
	})

	// The App Home tab: who is on call, the open incidents, your follow-ups.
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Card payments fail" service:payments`))
	k.waitFor("the incident channel's pinned summary", func() bool {
		c, ok := fake.ChannelByName("inc-1-card-payments-fail")
		return ok && len(c.Pins) > 0
	})
	homeEnv, _ := fake.OpenHome(bob)
	if homeEnv == "" {
		t.Fatal("the fake did not deliver app_home_opened: the manifest does not subscribe to it")
	}
	k.ack(homeEnv)
	var home string
	k.waitFor("bob's App Home", func() bool {
		v, ok := fake.Home(bob)
		home = v.Rendered()
		return ok
	})
	for _, want := range []string{"On call now", "*payments* primary: <@U0", "Open incidents (1)", "INC-1", "Card payments fail", "<#C", "Your follow-ups", "Nothing open for you"} {
		if !strings.Contains(home, want) {
			t.Errorf("bob's App Home lacks %q:\n%s", want, home)
		}
	}
}

// Incident types on the real Slack protocol: the declaration modal offers
// the types and their fields (the strict fake checks the Block Kit), a
// missing required field is reported on its block, and a security
// incident is declared private with its fields in the pinned summary.
func TestSlackIncidentTypesInTheModal(t *testing.T) {
	fake := newFake(t)
	k := &slackKlaxon{fake: fake, running: runKlaxon(t, `
incidents:
  types:
    - id: security
      name: Security
      private: true
      channel_pattern: sec-{number}
      fields:
        - {id: reporter, label: Reporter, kind: user, required: true}
        - {id: vector, label: Attack vector, kind: select, options: [phishing, malware], required: true}
    - id: customer
      name: Customer-facing
      fields:
        - {id: customer, label: Customer, kind: text, required: true}
`, env{
		"KLAXON_STORE_PATH":             filepath.Join(t.TempDir(), "k.db"),
		"KLAXON_SLACK_APP_TOKEN":        fake.AppToken,
		"KLAXON_SLACK_BOT_TOKEN":        fake.BotToken,
		"KLAXON_SLACK_API_URL":          fake.URL(),
		"KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS",
	})}
	k.waitFor("klaxon to connect to the fake Slack", func() bool { return fake.Connected() })
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", "declare"))
	k.waitFor("the declaration modal", func() bool { return len(fake.Views()) == 1 })
	view := fake.Views()[0]
	raw, _ := json.Marshal(view.View)
	for _, want := range []string{`"block_id":"type"`, `"block_id":"cf_vector"`, `"block_id":"cf_reporter"`, `"block_id":"cf_customer"`, "Attack vector (Security, required)"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the modal lacks %s", want)
		}
	}
	env, err := fake.SubmitView(alice, view.ID, map[string]string{"title": "Token leaked", "severity": "SEV1", "type": "security", "cf_reporter": bob})
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(k.ack(env), &ack); err != nil || ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["cf_vector"], "needs Attack vector") {
		t.Fatalf("ack = %+v (%v); want an error on the vector", ack, err)
	}
	env, _ = fake.SubmitView(alice, view.ID, map[string]string{"title": "Token leaked", "severity": "SEV1", "type": "security", "cf_reporter": bob, "cf_vector": "phishing"})
	k.ack(env)
	k.waitFor("the security channel", func() bool { _, ok := fake.ChannelByName("sec-1"); return ok })
	ch, _ := fake.ChannelByName("sec-1")
	if !ch.Private {
		t.Error("a security incident's channel is public")
	}
	k.waitFor("the pinned summary", func() bool { c, _ := fake.ChannelByName("sec-1"); return len(c.Pins) == 1 })
	summary := fake.Messages(ch.ID)[0].Rendered()
	for _, want := range []string{"Security", "Reporter", "<@" + bob + ">", "Attack vector", "phishing"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if n := len(fake.Messages("C0INCIDENTS")); n != 0 {
		t.Errorf("a private security incident was announced publicly (%d messages)", n)
	}
}
