package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

const (
	dAlice = "100000000000000001"
	dBob   = "100000000000000002"
)

// discordKlaxon is the real klaxon program connected to a fake Discord.
type discordKlaxon struct {
	*running
	fake *discordfake.Server
	db   string
}

func startDiscord(t *testing.T) *discordKlaxon { t.Helper(); return startDiscordWith(t, "") }

// startDiscordWith runs klaxon with config on a fresh fake Discord.
func startDiscordWith(t *testing.T, config string) *discordKlaxon {
	t.Helper()
	fake := discordfake.New(t, map[string]string{dAlice: "alice", dBob: "bob"})
	t.Cleanup(fake.Close)
	db := filepath.Join(t.TempDir(), "k.db")
	k := &discordKlaxon{fake: fake, db: db, running: runKlaxon(t, config, env{
		"KLAXON_STORE_PATH":               db,
		"KLAXON_DISCORD_TOKEN":            discordfake.Token,
		"KLAXON_DISCORD_APPLICATION_ID":   discordfake.AppID,
		"KLAXON_DISCORD_GUILD_ID":         discordfake.GuildID,
		"KLAXON_DISCORD_API_URL":          fake.APIURL(),
		"KLAXON_DISCORD_GATEWAY_URL":      fake.GatewayURL(),
		"KLAXON_DISCORD_CATEGORY_ID":      discordfake.CategoryID,
		"KLAXON_DISCORD_ANNOUNCE_CHANNEL": discordfake.AnnounceID,
	})}
	k.waitFor("klaxon to connect and register its commands", func() bool { return fake.Connected() && len(fake.Commands()) > 0 })
	return k
}

func (k *discordKlaxon) waitFor(what string, cond func() bool) {
	k.t.Helper()
	k.running.waitFor(k.fake, what, cond)
}

// responses waits for n responses to interaction id.
func (k *discordKlaxon) responses(id string, n int) []discordfake.Response {
	k.t.Helper()
	k.waitFor("interaction responses", func() bool { return len(k.fake.Responses(id)) >= n })
	return k.fake.Responses(id)
}

// reply waits for what the user finally sees for interaction id: the first
// response's message, or, after a deferred first response, its edit.
// Either is right; which one depends on how fast the handler was.
func (k *discordKlaxon) reply(id string) string {
	k.t.Helper()
	var text string
	k.waitFor("the interaction's reply", func() bool {
		rs := k.fake.Responses(id)
		if len(rs) == 0 {
			return false
		}
		switch {
		case rs[0].Type == 4:
			text = rs[0].Rendered()
			return true
		case rs[0].Type == 5 && len(rs) > 1:
			text = rs[1].Rendered()
			return true
		}
		return false
	})
	return text
}

func TestDiscordRegistersCommands(t *testing.T) {
	k := startDiscord(t)
	byName := map[string]map[string]any{}
	var names []string
	for _, c := range k.fake.Commands() {
		name := c["name"].(string)
		byName[name] = c
		names = append(names, name)
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "Declare incident,followup,incident,oncall" {
		t.Fatalf("registered %v", names)
	}
	subs := func(cmd string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, o := range byName[cmd]["options"].([]any) {
			out[o.(map[string]any)["name"].(string)] = o.(map[string]any)
		}
		return out
	}
	incident := subs("incident")
	for _, want := range []string{"declare", "update", "sev", "role", "ack", "mitigate", "resolve", "reopen", "close", "note", "status", "list", "help", "followup", "timeline", "stats", "page", "postmortem"} {
		if incident[want] == nil {
			t.Errorf("/incident %s is not registered", want)
		}
	}
	if !strings.Contains(fmt.Sprint(incident["update"]["options"]), "name:public") {
		t.Errorf("/incident update has no public option: %v", incident["update"]["options"])
	}
	oncall := subs("oncall")
	for _, want := range []string{"who", "override", "cover", "swap", "undo", "history", "help"} {
		if oncall[want] == nil {
			t.Errorf("/oncall %s is not registered", want)
		}
	}
	if typ := byName["Declare incident"]["type"].(float64); typ != 3 {
		t.Errorf("the context-menu command has type %v; want 3 (message)", typ)
	}
}

func TestDiscordDeclareWithOptionsAndTalk(t *testing.T) {
	k := startDiscord(t)
	f := k.fake
	id := f.Command(dAlice, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: `Checkout "v2" is down`},
		discordfake.Option{Name: "severity", Type: 3, Value: "SEV1"},
		discordfake.Option{Name: "commander", Type: 6, Value: dBob},
		discordfake.Option{Name: "private", Type: 5, Value: true})
	if got := k.reply(id); !strings.Contains(got, "Declared **INC-1**") {
		t.Fatalf("reply = %q; want the declaration", got)
	}
	ch, ok := f.ChannelByName("inc-1-checkout-v2-is-down")
	if !ok {
		t.Fatal("no incident channel")
	}
	if ch.ParentID != discordfake.CategoryID || !strings.HasPrefix(ch.Topic, "INC-1 · SEV1 · open") {
		t.Errorf("channel = %+v", ch)
	}
	// The invitations follow the channel in the outbox.
	k.waitFor("the responders' access", func() bool { c, _ := f.ChannelByName(ch.Name); return len(c.Overwrites) >= 4 })
	ch, _ = f.ChannelByName(ch.Name)
	access := map[string]string{}
	for _, o := range ch.Overwrites {
		access[o.ID] = "allow " + o.Allow + " deny " + o.Deny
	}
	if !strings.Contains(access[discordfake.GuildID], "deny 1024") || access[dAlice] == "" || access[dBob] == "" || access[discordfake.BotID] == "" {
		t.Errorf("overwrites = %v; want @everyone denied view, alice, bob and klaxon allowed", access)
	}
	k.waitFor("the pinned summary", func() bool { c, _ := f.ChannelByName(ch.Name); return len(c.Pins) == 1 })
	summary, _ := f.Message(ch.ID, f.Messages(ch.ID)[0].ID)
	for _, want := range []string{"INC-1 · SEV1 · Checkout \"v2\" is down", "<@" + dBob + ">", "Acknowledge", "Resolve"} {
		if !strings.Contains(summary.Rendered(), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.Rendered())
		}
	}
	if n := len(f.Messages(discordfake.AnnounceID)); n != 0 {
		t.Errorf("a private incident was announced (%d messages)", n)
	}

	// Talk, with a gateway RECONNECT in the middle: nothing lost, nothing doubled.
	first := f.Say(dBob, ch.ID, "primary db is down")
	f.React(dAlice, ch.ID, first, "📌")
	f.Reconnect()
	for i := range 5 {
		f.Say(dBob, ch.ID, "step "+string(rune('1'+i)))
	}
	k.waitFor("a resume", func() bool { _, resumed, _ := f.Stats(); return resumed > 0 })
	f.Edit(ch.ID, first, "primary db is down (us-east)")
	thread := f.StartThread(ch.ID, "replica details")
	f.Say(dAlice, thread, "replica lag is 40s")
	f.Unreact(dAlice, ch.ID, first, "📌")
	f.PinAsUser(ch.ID, first)
	// Events are handled one at a time, in order: once klaxon answers this
	// mention, everything before it is on the timeline.
	last := f.Say(dAlice, ch.ID, "<@"+discordfake.BotID+"> status?", discordfake.BotID)
	k.waitFor("klaxon's answer to the mention", func() bool {
		for _, m := range f.Messages(ch.ID) {
			if m.Reference == last && strings.Contains(m.Rendered(), "INC-1") {
				return true
			}
		}
		return false
	})
	k.stop()

	var got []string
	var highlighted bool
	pins := 0
	for _, ev := range timeline(t, k.db, 1) {
		switch ev.Kind {
		case bot.EventMessage, bot.EventMessageEdit:
			got = append(got, string(ev.Kind)+":"+ev.Text)
			if ev.Kind == bot.EventMessageEdit && ev.Meta["previous_text"] != "primary db is down" {
				t.Errorf("the edit was recorded without the text it replaced: meta %v", ev.Meta)
			}
		case bot.EventReaction:
			if ev.Highlight {
				highlighted = true
			}
			if ev.Meta["emoji"] == "" {
				got = append(got, "reaction:"+ev.Text)
			}
		case bot.EventPin:
			pins++
		}
	}
	if pins != 1 {
		t.Errorf("%d pins on the timeline; want the person's one, not klaxon's pin of its summary", pins)
	}
	want := []string{"message:primary db is down", "message:step 1", "message:step 2", "message:step 3", "message:step 4", "message:step 5",
		"message_edited:primary db is down (us-east)", "message:replica lag is 40s", "reaction:removed 📌", "message:<@" + discordfake.BotID + "> status?"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !highlighted {
		t.Error("the 📌 reaction did not mark a key event")
	}
}

func TestDiscordDeclareThroughTheModalAndResolveButton(t *testing.T) {
	k := startDiscord(t)
	f := k.fake
	id := f.Command(dAlice, discordfake.GeneralID, "incident", "declare")
	rs := k.responses(id, 1)
	if rs[0].Type != 9 {
		t.Fatalf("first response type %d; want 9 (modal)", rs[0].Type)
	}
	customID := rs[0].Data["custom_id"].(string)

	bad := f.SubmitModal(dAlice, discordfake.GeneralID, customID, map[string]string{"title": "x", "severity": "SEV9"})
	if got := k.reply(bad); !strings.Contains(got, "fix the form") || !strings.Contains(got, "severity") {
		t.Fatalf("invalid modal answer = %q", got)
	}
	if _, ok := f.ChannelByName("inc-1-x"); ok {
		t.Fatal("an invalid form declared")
	}

	ok := f.SubmitModal(dAlice, discordfake.GeneralID, customID, map[string]string{"title": "Search latency", "severity": "2", "service": "search", "summary": "p99 4s"})
	if got := k.reply(ok); !strings.Contains(got, "Declared **INC-1**") {
		t.Fatalf("modal declaration reply = %q", got)
	}
	k.waitFor("the announcement", func() bool { return len(f.Messages(discordfake.AnnounceID)) == 1 })
	ch, _ := f.ChannelByName("inc-1-search-latency")
	if a := f.Messages(discordfake.AnnounceID)[0].Rendered(); !strings.Contains(a, "<#"+ch.ID+">") || !strings.Contains(a, "**INC-1**") {
		t.Errorf("announcement = %q", a)
	}
	k.waitFor("the pinned summary", func() bool { c, _ := f.ChannelByName(ch.Name); return len(c.Pins) == 1 })
	summary := f.Messages(ch.ID)[0]
	resolve := ""
	for _, part := range strings.Split(string(summary.Components), `"custom_id":"`)[1:] {
		if cid := part[:strings.Index(part, `"`)]; strings.HasPrefix(cid, "klaxon.resolve|") {
			resolve = cid
		}
	}
	if resolve == "" {
		t.Fatalf("no Resolve button in %s", summary.Components)
	}
	click := f.ClickButton(dBob, ch.ID, summary.ID, resolve)
	rs = k.responses(click, 1)
	if rs[0].Type != 9 {
		t.Fatalf("Resolve opened %+v; want a modal", rs[0])
	}
	done := f.SubmitModal(dBob, ch.ID, rs[0].Data["custom_id"].(string), map[string]string{"summary": "cache warmed"})
	k.reply(done)
	k.waitFor("the summary to show resolved", func() bool {
		m, _ := f.Message(ch.ID, summary.ID)
		return strings.Contains(m.Rendered(), "Resolved") && m.Edits > 0
	})
}

// TestDiscordSwapOffersAChoiceOfShifts: /oncall swap on Discord lists the
// asker's next shifts with a button each; the button offers that shift,
// not the next one.
func TestDiscordSwapOffersAChoiceOfShifts(t *testing.T) {
	k := startDiscordWith(t, `
people:
  - {id: alice, name: Alice, discord_id: "`+dAlice+`", time_zone: UTC}
  - {id: bob, name: Bob, discord_id: "`+dBob+`", time_zone: UTC}
schedules:
  - id: payments
    service: payments
    time_zone: UTC
    layers:
      - {rotation: weekly, start: 2026-01-05, participants: [alice, bob]}
`)
	f := k.fake
	id := f.Command(dAlice, discordfake.GeneralID, "oncall", "swap")
	if got := k.reply(id); !strings.Contains(got, "Which **payments** shift do you offer?") {
		t.Fatalf("reply = %q; want the choices", got)
	}
	var ids, labels []string
	for _, r := range f.Responses(id) {
		for _, row := range asList(r.Data["components"]) {
			for _, b := range asList(row.(map[string]any)["components"]) {
				ids = append(ids, b.(map[string]any)["custom_id"].(string))
				labels = append(labels, b.(map[string]any)["label"].(string))
			}
		}
	}
	if len(ids) < 2 {
		t.Fatalf("buttons = %v; want a choice of alice's next shifts", labels)
	}
	// The second choice: alice's shift after next, two weeks on.
	click := f.ClickButton(dAlice, discordfake.GeneralID, "1", ids[1])
	if got := k.reply(click); !strings.Contains(got, "Offered") {
		t.Fatalf("the click's reply = %q", got)
	}
	day := strings.TrimPrefix(labels[1], "2. ")
	k.waitFor("the offer of the second shift", func() bool {
		for _, m := range f.Messages(discordfake.GeneralID) {
			if strings.Contains(m.Rendered(), "offers their **payments** shift, "+day) {
				return true
			}
		}
		return false
	})
}

func asList(v any) []any { l, _ := v.([]any); return l }

// Incident types on Discord: the declare command offers type and each
// custom field as options (the strict fake checks the registration), and
// a declaration with them is typed, private and in the type's channel.
func TestDiscordIncidentTypesAsOptions(t *testing.T) {
	k := startDiscordWith(t, `
incidents:
  types:
    - id: security
      name: Security
      private: true
      channel_pattern: sec-{number}
      fields:
        - {id: reporter, label: Reporter, kind: user, required: true}
        - {id: vector, label: Attack vector, kind: select, options: [phishing, malware], required: true}
`)
	f := k.fake
	var names []string
	for _, c := range f.Commands() {
		if c["name"] != "incident" {
			continue
		}
		raw, _ := json.Marshal(c)
		for _, want := range []string{`"name":"type"`, `"name":"reporter"`, `"name":"vector"`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("/incident declare lacks the option %s", want)
			}
		}
		names = append(names, "incident")
	}
	if len(names) != 1 {
		t.Fatalf("commands: %v", names)
	}
	id := f.Command(dAlice, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: "Token leaked"},
		discordfake.Option{Name: "type", Type: 3, Value: "security"},
		discordfake.Option{Name: "reporter", Type: 6, Value: dBob})
	if got := k.reply(id); !strings.Contains(got, "needs Attack vector") {
		t.Fatalf("reply = %q; want the missing field named", got)
	}
	id = f.Command(dAlice, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: "Token leaked"},
		discordfake.Option{Name: "type", Type: 3, Value: "security"},
		discordfake.Option{Name: "reporter", Type: 6, Value: dBob},
		discordfake.Option{Name: "vector", Type: 3, Value: "phishing"})
	if got := k.reply(id); !strings.Contains(got, "Declared **INC-1**") {
		t.Fatalf("reply = %q", got)
	}
	k.waitFor("the pinned summary", func() bool { c, ok := f.ChannelByName("sec-1"); return ok && len(c.Pins) == 1 })
	ch, _ := f.ChannelByName("sec-1")
	summary, _ := f.Message(ch.ID, f.Messages(ch.ID)[0].ID)
	for _, want := range []string{"Security", "Reporter", "<@" + dBob + ">", "phishing"} {
		if !strings.Contains(summary.Rendered(), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.Rendered())
		}
	}
}
