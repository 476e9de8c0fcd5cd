package discord

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// registry is klaxon's whole command registry, as cmd/klaxon builds it.
func registry(t *testing.T) *bot.Mux {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log := zerolog.Nop()
	mux := bot.NewMux(log)
	clock := bot.SystemClock{}
	oncall, err := oncall.New(context.Background(), s, clock, log, oncall.Config{})
	if err != nil {
		t.Fatal(err)
	}
	oncall.Register(mux)
	incidents := commands.New(s, nil, clock, log, commands.Config{})
	incidents.Register(mux)
	paging.New(s, incidents, oncall, clock, log, paging.Config{}).Register(mux)
	return mux
}

// TestEveryCommandIsOnDiscord fails when a chat command or one of its
// options is missing from what klaxon registers on Discord.
func TestEveryCommandIsOnDiscord(t *testing.T) {
	mux := registry(t)
	a, err := New(Config{Token: "x", GuildID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]*discordgo.ApplicationCommandOption{}
	for _, c := range a.applicationCommands(mux) {
		for _, sub := range c.Options {
			registered[c.Name+" "+sub.Name] = sub
		}
	}
	n := 0
	for _, root := range []string{"incident", "oncall", "followup", "followups"} {
		for _, cmd := range mux.Commands(root) {
			name := cmd.Name
			if cmd.AliasOf != "" {
				name = cmd.AliasOf // offered under its original name
			}
			sub, ok := registered[name]
			if !ok {
				t.Errorf("/%s is not registered on Discord", cmd.Name)
				continue
			}
			n++
			for _, p := range cmd.Params {
				if !slices.ContainsFunc(sub.Options, func(o *discordgo.ApplicationCommandOption) bool { return o.Name == p.Name && o.Required == p.Required }) {
					t.Errorf("/%s: option %s is not on Discord", name, p.Name)
				}
			}
		}
	}
	for _, want := range []string{"incident postmortem", "incident update", "incident page", "incident followup", "followup done", "oncall override"} {
		if registered[want] == nil {
			t.Errorf("/%s is missing on Discord", want)
		}
	}
	if n < 30 {
		t.Errorf("only %d commands found in the registry; want every one", n)
	}
}

func commandData(t *testing.T, js string) discordgo.ApplicationCommandInteractionData {
	t.Helper()
	var d discordgo.ApplicationCommandInteractionData
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCommandTextRoundTrip checks that options become exactly the words
// package commands reads, whatever the user typed into them.
func TestCommandTextRoundTrip(t *testing.T) {
	d := commandData(t, `{"name":"incident","type":1,"options":[{"name":"declare","type":1,"options":[
		{"name":"private","type":5,"value":true},
		{"name":"title","type":3,"value":"Checkout \"v2\" 500s: sev:1 \\ back"},
		{"name":"commander","type":6,"value":"100000000000000002"},
		{"name":"severity","type":3,"value":"SEV1"},
		{"name":"summary","type":3,"value":"EU “cards” fail"}]}]}`)
	text, err := commandText(d, registry(t))
	if err != nil {
		t.Fatal(err)
	}
	words, err := bot.Tokenize(text)
	if err != nil {
		t.Fatalf("Tokenize(%s): %v", text, err)
	}
	in, err := commands.ParseDeclare(words[2:])
	if err != nil {
		t.Fatal(err)
	}
	want := commands.DeclareInput{Title: `Checkout "v2" 500s: sev:1 \ back`, Severity: "SEV1", Summary: "EU “cards” fail", Private: true, Commander: bot.User{ID: "100000000000000002"}}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("%s\nparsed as %+v\nwant      %+v", text, in, want)
	}

	d = commandData(t, `{"name":"incident","type":1,"options":[{"name":"sev","type":1,"options":[{"name":"incident","type":3,"value":"INC-4"},{"name":"level","type":3,"value":"SEV2"}]}]}`)
	if text, _ := commandText(d, registry(t)); text != `/incident sev "INC-4" "SEV2"` {
		t.Errorf("sev = %s", text)
	}
	d = commandData(t, `{"name":"incident","type":1,"options":[{"name":"list","type":1,"options":[{"name":"all","type":5,"value":true}]}]}`)
	if text, _ := commandText(d, registry(t)); text != `/incident list all` {
		t.Errorf("list = %s", text)
	}
	d = commandData(t, `{"name":"incident","type":1,"options":[{"name":"update","type":1,"options":[{"name":"text","type":3,"value":"Fixed"},{"name":"public","type":5,"value":true}]}]}`)
	if text, _ := commandText(d, registry(t)); text != `/incident update --public "Fixed"` {
		t.Errorf("update = %s", text)
	}
	if _, err := commandText(commandData(t, `{"name":"incident","type":1}`), registry(t)); err == nil {
		t.Error("a command without a subcommand was accepted")
	}
}

func TestMarkdown(t *testing.T) {
	tests := map[string]string{
		"*INC-1* declared":         "**INC-1** declared",
		"raised to *SEV1* (crit)":  "raised to **SEV1** (crit)",
		"already **bold** stays":   "already **bold** stays",
		"2*3*4 is maths":           "2*3*4 is maths",
		"`code` and <@1> and <#2>": "`code` and <@1> and <#2>",
	}
	for in, want := range tests {
		if got := markdown(in); got != want {
			t.Errorf("markdown(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestModalRoundTrip(t *testing.T) {
	f := bot.Form{ID: "klaxon.declare", Title: "Declare an incident", Channel: bot.ChannelRef{ID: "42"}, Metadata: "7/99",
		Fields: []bot.FormField{
			{ID: "title", Label: "Title", Kind: bot.FieldText, MaxLength: 150},
			{ID: "severity", Label: "Severity", Kind: bot.FieldSelect, Options: []bot.Option{{Value: "SEV1"}, {Value: "SEV2"}}},
			{ID: "service", Label: "Service", Kind: bot.FieldText, Optional: true},
			{ID: "summary", Label: "Summary", Kind: bot.FieldTextArea, Optional: true},
			{ID: "commander", Label: "Commander", Kind: bot.FieldUser, Optional: true},
			{ID: "private", Label: "Private", Kind: bot.FieldCheckbox, Optional: true},
		}}
	data, err := modal(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Components) != 4 {
		t.Fatalf("modal has %d inputs; want 4 (no user picker or checkbox on Discord)", len(data.Components))
	}
	sev := data.Components[1].(discordgo.ActionsRow).Components[0].(discordgo.TextInput)
	if !strings.Contains(sev.Placeholder, "SEV1, SEV2") {
		t.Errorf("severity input placeholder = %q; want the choices", sev.Placeholder)
	}
	if data.Components[3].(discordgo.ActionsRow).Components[0].(discordgo.TextInput).Style != discordgo.TextInputParagraph {
		t.Error("the summary is not a paragraph input")
	}
	// What Discord sends back on submit.
	submitted := discordgo.ModalSubmitInteractionData{CustomID: data.CustomID, Components: []discordgo.MessageComponent{
		&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.TextInput{CustomID: "title", Value: "DB down"}}},
		&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.TextInput{CustomID: "severity", Value: "SEV2"}}},
	}}
	formID, channel, meta, values := parseModal(submitted)
	if formID != "klaxon.declare" || channel != "42" || meta != "7/99" || values["title"] != "DB down" || values["severity"] != "SEV2" {
		t.Errorf("parsed %q %q %q %v", formID, channel, meta, values)
	}
	f.Metadata = strings.Repeat("x", 100)
	if _, err := modal(f); err == nil {
		t.Error("metadata too long for a custom_id was accepted")
	}
}

func TestREADMEInviteURLAsksForTheRightPermissions(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "permissions=" + strconv.FormatInt(InvitePermissions, 10)
	if !strings.Contains(string(data), want) {
		t.Errorf("README's invite URL does not ask for %s", want)
	}
}

func TestOnCallCommandText(t *testing.T) {
	d := commandData(t, `{"name":"oncall","type":1,"options":[{"name":"override","type":1,"options":[
		{"name":"until","type":3,"value":"2h"},{"name":"person","type":6,"value":"100000000000000002"},
		{"name":"schedule","type":3,"value":"db"},{"name":"from","type":3,"value":"now"}]}]}`)
	if text, _ := commandText(d, registry(t)); text != `/oncall override "<@100000000000000002>" "now" "2h" "db"` {
		t.Errorf("override = %s", text)
	}
	d = commandData(t, `{"name":"oncall","type":1,"options":[{"name":"who","type":1,"options":[{"name":"service","type":3,"value":"payments"}]}]}`)
	if text, _ := commandText(d, registry(t)); text != `/oncall who "payments"` {
		t.Errorf("who = %s", text)
	}
}

func TestTimesShowInTheReadersZone(t *testing.T) {
	at := time.Date(2026, 11, 22, 2, 20, 0, 0, time.UTC)
	if got, want := markdown("next at "+bot.ChatTime(at)+", paged "+bot.ChatClock(at)), "next at <t:1795314000:f>, paged <t:1795314000:t>"; got != want {
		t.Errorf("markdown = %q, want %q", got, want)
	}
	// Embed titles and footers render no timestamps.
	e := embed(bot.Message{Title: "INC-1 at " + bot.ChatTime(at), Text: bot.ChatTime(at), Context: "Updated " + bot.ChatTime(at)})
	if e.Title != "INC-1 at 2026-11-22 02:20 UTC" || e.Footer.Text != "Updated 2026-11-22 02:20 UTC" || e.Description != "<t:1795314000:f>" {
		t.Errorf("embed title %q, footer %q, description %q", e.Title, e.Footer.Text, e.Description)
	}
}
