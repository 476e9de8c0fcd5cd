package discord_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// TestRenderingStaysWithinDiscordLimits sends messages far past Discord's
// limits through the adapter to the strict fake, which refuses (and fails
// the test for) anything real Discord would refuse.
func TestRenderingStaysWithinDiscordLimits(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	a := newAdapter(t, f)
	ctx := context.Background()
	long := strings.Repeat("é", 5000)
	var fields []bot.Field
	for i := range 40 {
		fields = append(fields, bot.Field{Label: fmt.Sprintf("field %d %s", i, long), Value: long})
	}
	var buttons []bot.Button
	for i := range 40 {
		buttons = append(buttons, bot.Button{ActionID: fmt.Sprintf("act-%d", i), Value: "v", Label: long})
	}
	buttons = append(buttons, bot.Button{ActionID: "act-0", Value: "v", Label: "the same custom_id again"},
		bot.Button{ActionID: "big", Value: long, Label: "a custom_id over 100 characters"})
	for _, m := range []bot.Message{
		{Title: long, Text: long, Context: long, Fields: fields, Buttons: buttons},
		{Text: long, Context: long, Buttons: buttons},
		{Title: "six fields of 1,000", Text: long[:2000], Fields: fields[:6]},
	} {
		ref, err := a.Post(ctx, discordfake.GeneralID, m)
		if err != nil {
			t.Fatalf("Post: %v", err)
		}
		if err := a.Update(ctx, ref, m); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if _, err := a.DM(ctx, alice, m); err != nil {
			t.Fatalf("DM: %v", err)
		}
	}
	msgs := f.Messages(discordfake.GeneralID)
	if !strings.Contains(msgs[0].Rendered(), "more") {
		t.Errorf("an embed with 40 fields does not say how many were left out")
	}
	for i := range 25 {
		if !strings.Contains(string(msgs[0].Components), fmt.Sprintf(`"act-%d|v"`, i)) {
			t.Errorf("button act-%d was dropped; five rows of five fit", i)
		}
	}
}

// TestOldInviteKeepsWorking: a server that invited klaxon before Pin
// Messages existed gets private incident channels (klaxon's overwrite grants
// only bits it holds), and the check names the missing permission.
func TestOldInviteKeepsWorking(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	const oldInvite = 268561488 // View, Send, History, Reactions, Files, Manage Messages, Manage Channels, Embed Links, Manage Roles
	f.SetPermissions(oldInvite)
	a := newAdapter(t, f)
	log := zerolog.New(io.Discard)
	mux := bot.NewMux(log)
	s, err := bolt.Open(filepath.Join(t.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commands.New(s, []bot.Chat{a}, bot.SystemClock{}, log, commands.Config{}).Register(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, mux) }()
	defer func() { cancel(); <-done }()
	if !f.WaitFor(10*time.Second, func() bool { return f.Connected() && len(f.Commands()) > 0 }) {
		t.Fatal("adapter did not connect")
	}
	problems := a.Problems()
	if len(problems) != 1 || !strings.Contains(problems[0], "Pin Messages") || !strings.Contains(problems[0], fmt.Sprint(discord.InvitePermissions)) {
		t.Errorf("problems = %q; want Pin Messages named, with the invite URL's permissions", problems)
	}
	ref, err := a.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-1-private", Private: true})
	if err != nil {
		t.Fatalf("creating a private channel with the old invite: %v", err)
	}
	msg, err := a.Post(ctx, ref.ID, bot.Message{Text: "summary"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Pin(ctx, msg); err == nil {
		t.Error("pinning without Pin Messages succeeded")
	}
	got := f.TakeViolations()
	if len(got) != 1 || got[0].Code != 50013 || !strings.Contains(got[0].Route, "/messages/pins/") {
		t.Errorf("violations = %v; want the one pin refused with 50013 on the current route", got)
	}

}
