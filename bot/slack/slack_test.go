package slack_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/chattest"
	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// platform is the contract's view of the fake Slack.
type platform struct{ f *slackfake.Server }

func (p platform) ChannelByName(name string) (chattest.Channel, bool) {
	c, ok := p.f.ChannelByName(name)
	return chattest.Channel{ID: c.ID, Private: c.Private, Archived: c.Archived, Topic: c.Topic, Members: c.Members, Pins: c.Pins}, ok
}

func (p platform) Message(ref bot.MessageRef) (string, bool) {
	m, ok := p.f.Message(ref.Channel, ref.ID)
	return m.Rendered(), ok
}

func (p platform) DMs(userID string) []string {
	var out []string
	for _, m := range p.f.Messages("D" + strings.TrimPrefix(userID, "U")) {
		out = append(out, m.Rendered())
	}
	return out
}

func (p platform) Files(channel string) []bot.File {
	var out []bot.File
	for _, f := range p.f.Files(channel) {
		out = append(out, bot.File{Name: f.Name, Content: f.Content})
	}
	return out
}

func (p platform) Group() string { return "payments-oncall" }

// GroupMembers is who a mention of the user group reaches: nobody while it
// is disabled.
func (p platform) GroupMembers(handle string) []string {
	g, ok := p.f.UserGroup(handle)
	if !ok || g.Disabled {
		return nil
	}
	return slices.Sorted(slices.Values(g.Users))
}

func TestChatContract(t *testing.T) {
	chattest.Run(t, func(t *testing.T) chattest.Setup {
		f := slackfake.New(t, map[string]string{"U0ALICE": "alice", "U0BOB": "bob"})
		t.Cleanup(func() { calledMethodsHaveNeeds(t, f) })
		a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
		return chattest.Setup{Chat: a, Platform: platform{f}, Users: []string{"U0ALICE", "U0BOB"}, Groups: platform{f}}
	})
}

func TestFormsBecomeModals(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	defer f.Close()
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	// A trigger comes with a user's action; the fake issues one per command.
	f.SlashCommand("U0ALICE", "C0GENERAL", "/incident", "declare")
	trigger := f.LastTrigger()
	form := bot.Form{ID: "klaxon.declare", Title: "Declare an incident, with a long title", Submit: "Declare", Metadata: "C1/123.4", Channel: bot.ChannelRef{ID: "C0GENERAL"},
		Fields: []bot.FormField{
			{ID: "title", Label: "Title", Kind: bot.FieldText, MaxLength: 150, Initial: "DB down", Hint: "🌐 Public on the status page."},
			{ID: "severity", Label: "Severity", Kind: bot.FieldSelect, Options: []bot.Option{{Value: "SEV1", Label: "SEV1"}, {Value: "SEV2", Label: "SEV2"}}, Initial: "SEV2"},
			{ID: "commander", Label: "Commander", Kind: bot.FieldUser, Optional: true},
			{ID: "private", Label: "Private", Kind: bot.FieldCheckbox, Optional: true},
		}}
	if err := a.OpenForm(context.Background(), trigger, form); err != nil {
		t.Fatal(err)
	}
	views := f.Views()
	if len(views) != 1 {
		t.Fatalf("views = %d", len(views))
	}
	raw, _ := json.Marshal(views[0].View)
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Title           struct{ Text string }
		Blocks          []struct {
			BlockID  string `json:"block_id"`
			Optional bool   `json:"optional"`
			Hint     *struct {
				Type, Text string
			} `json:"hint"`
			Element struct {
				Type          string                  `json:"type"`
				ActionID      string                  `json:"action_id"`
				InitialValue  string                  `json:"initial_value"`
				InitialOption *struct{ Value string } `json:"initial_option"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.CallbackID != "klaxon.declare" || len([]rune(v.Title.Text)) > 24 || !strings.Contains(v.PrivateMetadata, "C1/123.4") {
		t.Errorf("view = %s", raw)
	}
	wantTypes := []string{"plain_text_input", "static_select", "users_select", "checkboxes"}
	for i, b := range v.Blocks {
		if b.Element.Type != wantTypes[i] || b.BlockID != form.Fields[i].ID || b.Element.ActionID != form.Fields[i].ID || b.Optional != form.Fields[i].Optional {
			t.Errorf("block %d = %+v; want a %s for %s", i, b, wantTypes[i], form.Fields[i].ID)
		}
	}
	if h := v.Blocks[0].Hint; h == nil || h.Type != "plain_text" || h.Text != "🌐 Public on the status page." || v.Blocks[1].Hint != nil {
		t.Errorf("the title's hint did not reach the view (and only it): %s", raw)
	}
	if v.Blocks[0].Element.InitialValue != "DB down" || v.Blocks[1].Element.InitialOption == nil || v.Blocks[1].Element.InitialOption.Value != "SEV2" {
		t.Errorf("initial values not set: %s", raw)
	}
	if err := a.OpenForm(context.Background(), "", form); bot.ErrorCode(err) != bot.EUNSUPPORTED {
		t.Errorf("OpenForm without a trigger: err = %v", err)
	}
}

func TestSlackErrorsAreUserSafe(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	defer f.Close()
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	_, err := a.Post(context.Background(), "C404", bot.Message{Text: "x"})
	if bot.ErrorCode(err) != bot.ENOTFOUND || !strings.Contains(bot.ErrorMessage(err), "channel_not_found") {
		t.Errorf("post to a missing channel: %v", err)
	}
	if strings.Contains(err.Error(), f.BotToken) {
		t.Errorf("error shows the token: %v", err)
	}
	bad := slack.New(slack.Config{AppToken: f.AppToken, BotToken: "xoxb-wrong", APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	err = bad.Run(context.Background(), bot.NewMux(zerolog.Nop()))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xoxb-wrong") {
		t.Errorf("Run with a bad token: %v", err)
	}
}

// TestTopicIsSetOncePerText: setting the topic klaxon set last costs no
// call to conversations.setTopic (Tier 2); a new topic, or the same one
// after a failed call, does.
func TestTopicIsSetOncePerText(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	defer f.Close()
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: zerolog.New(io.Discard)})
	ctx := context.Background()
	ch, err := a.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-1-db", Topic: "INC-1 · SEV1 · open · DB down"})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"INC-1 · SEV1 · open · DB down", "INC-1 · SEV1 · open · DB down", "INC-1 · SEV1 · acknowledged · DB down"} {
		if err := a.SetTopic(ctx, ch.ID, topic); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.Calls("conversations.setTopic")); n != 2 {
		t.Errorf("%d setTopic calls; want 2 (creation, then the change)", n)
	}
	if c, _ := f.ChannelByName("inc-1-db"); c.Topic != "INC-1 · SEV1 · acknowledged · DB down" {
		t.Errorf("topic = %q", c.Topic)
	}
	if err := a.SetTopic(ctx, "C404", "x"); err == nil {
		t.Fatal("a topic for a missing channel was taken")
	}
	if err := a.SetTopic(ctx, "C404", "x"); err == nil || len(f.Calls("conversations.setTopic")) != 4 {
		t.Errorf("a failed topic is not called again: %v, %d calls", err, len(f.Calls("conversations.setTopic")))
	}
}
