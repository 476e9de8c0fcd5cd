package slack_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestRenderingStaysWithinBlockKit sends messages and forms far past Block
// Kit's limits through the adapter to the strict fake, which refuses (and
// fails the test for) anything real Slack would refuse.
func TestRenderingStaysWithinBlockKit(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	ctx := context.Background()
	long := strings.Repeat("é", 5000)

	var fields []bot.Field
	for i := range 700 {
		fields = append(fields, bot.Field{Label: fmt.Sprintf("field %d %s", i, long), Value: long})
	}
	var buttons []bot.Button
	for i := range 60 {
		buttons = append(buttons, bot.Button{ActionID: fmt.Sprintf("act-%d", i), Value: long[:1000], Label: long})
	}
	// Buttons Slack could never carry are left out, not the message.
	buttons = append(buttons, bot.Button{ActionID: strings.Repeat("a", 300), Label: "too long an id"}, bot.Button{ActionID: "big", Value: long, Label: "too big a value"})
	huge := bot.Message{Title: long, Text: long, Context: long, Fields: fields, Buttons: buttons}

	ref, err := a.Post(ctx, "C0GENERAL", huge)
	if err != nil {
		t.Fatalf("Post(huge): %v", err)
	}
	if err := a.Update(ctx, ref, huge); err != nil {
		t.Fatalf("Update(huge): %v", err)
	}
	if err := a.Update(ctx, ref, huge); err != nil {
		t.Fatalf("Update(huge) again: %v", err)
	}
	if _, err := a.DM(ctx, "U0ALICE", huge); err != nil {
		t.Fatalf("DM(huge): %v", err)
	}
	m, _ := f.Message(ref.Channel, ref.ID)
	if !strings.Contains(m.Rendered(), "more_") {
		t.Errorf("a message with 700 fields does not say how many were left out:\n%.300s", m.Rendered())
	}
	for i := range 60 {
		if !strings.Contains(string(m.Blocks), fmt.Sprintf(`"act-%d"`, i)) {
			t.Errorf("button act-%d was dropped; only impossible buttons may be", i)
		}
	}

	var services []bot.Option
	for i := range 150 {
		services = append(services, bot.Option{Value: fmt.Sprintf("service-%d", i), Label: long})
	}
	forms := []bot.Form{
		{ID: "klaxon.declare", Title: long, Submit: long, Channel: bot.ChannelRef{ID: "C0GENERAL"}, Fields: []bot.FormField{
			{ID: "title", Label: long, Kind: bot.FieldText, MaxLength: 100000, Initial: long, Placeholder: long, Hint: long},
			{ID: "service", Label: "Service", Kind: bot.FieldSelect, Options: services, Initial: "service-3"},
			{ID: "severity", Label: "Severity", Kind: bot.FieldSelect, Options: services[:4], Initial: "not-an-option"},
			{ID: "summary", Label: "Summary", Kind: bot.FieldTextArea},
		}},
	}
	for _, form := range forms {
		f.SlashCommand("U0ALICE", "C0GENERAL", "/incident", "declare")
		if err := a.OpenForm(ctx, f.LastTrigger(), form); err != nil {
			t.Fatalf("OpenForm(%s): %v", form.ID, err)
		}
	}
	tooMuch := bot.Form{ID: "x", Title: "x", Submit: "x", Metadata: long}
	if err := a.OpenForm(ctx, f.LastTrigger(), tooMuch); err == nil {
		t.Error("OpenForm with 10,000 bytes of metadata succeeded; private_metadata holds 3,000")
	}
}

// TestStrictFakeRefusesWhatSlackRefuses is the fake's own check: each rule
// answered with Slack's error and the JSON pointer of the field.
func TestStrictFakeRefusesWhatSlackRefuses(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	ctx := context.Background()
	f.SetScopes("chat:write") // an install that lacks pins:write, channels:manage, files:write
	ref, err := a.Post(ctx, "C0GENERAL", bot.Message{Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"pin without pins:write", func() error { return a.Pin(ctx, ref) }, "missing_scope"},
		{"create without channels:manage", func() error {
			_, err := a.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-1-db"})
			return err
		}, "missing_scope"},
		{"upload without files:write", func() error {
			_, err := a.Upload(ctx, "C0GENERAL", bot.File{Name: "x.md", Content: []byte("x")})
			return err
		}, "missing_scope"},
	} {
		err := c.call()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want %s", c.name, err, c.want)
		}
	}
	got := f.TakeViolations()
	if len(got) != 3 || got[0].Error != "missing_scope" || !strings.Contains(got[0].String(), "needed pins:write") {
		t.Errorf("violations = %v; want three missing_scope, the first needing pins:write", got)
	}
}
