package discord_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
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

func TestRateLimitsAreWaitedOut(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	defer f.Close()
	a := newAdapter(t, f)
	f.RateLimit("POST channels/messages", 2)
	ref, err := a.Post(context.Background(), discordfake.GeneralID, bot.Message{Text: "after two 429s"})
	if err != nil {
		t.Fatalf("Post through two 429s: %v", err)
	}
	var limited, posted int
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "POST channels/"+discordfake.GeneralID+"/messages") {
			if strings.HasSuffix(c, "(429)") {
				limited++
			} else {
				posted++
			}
		}
	}
	if limited != 2 || posted != 1 {
		t.Errorf("calls: %d rate-limited, %d posted; want 2 and 1", limited, posted)
	}
	if m, ok := f.Message(ref.Channel, ref.ID); !ok || m.Content != "after two 429s" {
		t.Errorf("message = %+v, %v", m, ok)
	}
}

func TestGatewayReidentifiesAfterInvalidSession(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	defer f.Close()
	a := newAdapter(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, bot.NewMux(zerolog.New(io.Discard))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if !f.WaitFor(10*time.Second, func() bool { return f.Connected() && len(f.Commands()) > 0 && a.Connected() }) {
		t.Fatal("adapter did not connect")
	}
	// Wait for a heartbeat first: the session is fully up.
	if !f.WaitFor(10*time.Second, func() bool { _, _, hb := f.Stats(); return hb > 0 }) {
		t.Fatal("no heartbeat")
	}
	f.InvalidSession(false)
	if !f.WaitFor(10*time.Second, func() bool { id, _, _ := f.Stats(); return id == 2 }) {
		id, res, hb := f.Stats()
		t.Fatalf("after INVALID_SESSION: identified %d, resumed %d, heartbeats %d; want a second IDENTIFY", id, res, hb)
	}
}

func TestMessageCommandAndAutocomplete(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	defer f.Close()
	a, err := discord.New(discord.Config{Token: discordfake.Token, ApplicationID: discordfake.AppID, GuildID: discordfake.GuildID,
		APIURL: f.APIURL(), GatewayURL: f.GatewayURL(), Log: zerolog.New(io.Discard),
		Services:  bot.Services{{ID: "payments", Name: "Payments API"}, {ID: "search", Name: "Search"}, {ID: "pay-ledger", Name: "Ledger"}},
		Schedules: []string{"pay-" + strings.Repeat("x", 96), "pay-" + strings.Repeat("y", 120)}})
	if err != nil {
		t.Fatal(err)
	}
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

	msg := f.Say(alice, discordfake.GeneralID, "Checkout returns 502 since 03:10\nall regions")
	id := f.MessageCommand(alice, discordfake.GeneralID, msg, discord.MessageCommandName)
	if !f.WaitFor(5*time.Second, func() bool { return len(f.Responses(id)) > 0 }) {
		t.Fatal("the message command got no response")
	}
	r := f.Responses(id)[0]
	if r.Type != 9 || !strings.Contains(fmt.Sprint(r.Data["components"]), "Checkout returns 502 since 03:10") {
		t.Errorf("message command answered %+v; want the declaration modal prefilled", r)
	}

	id = f.Autocomplete(alice, discordfake.GeneralID, "incident", "declare", "service", "pay")
	if !f.WaitFor(5*time.Second, func() bool { return len(f.Responses(id)) > 0 }) {
		t.Fatal("autocomplete got no response")
	}
	r = f.Responses(id)[0]
	choices := fmt.Sprint(r.Data["choices"])
	if r.Type != 8 || !strings.Contains(choices, "payments") || !strings.Contains(choices, "pay-ledger") || strings.Contains(choices, "search") {
		t.Errorf("autocomplete answered %+v; want payments and pay-ledger", r)
	}
	// A schedule of 100 characters is offered; one of 124 could not be
	// chosen (Discord cuts values at 100), so it is not. The strict fake
	// refuses any choice over 100 characters.
	if !strings.Contains(choices, "pay-"+strings.Repeat("x", 96)) || strings.Contains(choices, "yyyy") {
		t.Errorf("autocomplete offered %s; want the 100-character schedule and not the 124-character one", choices)
	}
}

// Archiving a private incident channel makes it read-only and moves it
// into the archive category, and it stays hidden: @everyone's overwrite
// gains the denials and keeps its own.
func TestArchivePrivateChannelStaysPrivate(t *testing.T) {
	f := discordfake.New(t, map[string]string{alice: "alice"})
	defer f.Close()
	a := newAdapter(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, bot.NewMux(zerolog.New(io.Discard))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if !f.WaitFor(10*time.Second, func() bool { return a.Connected() }) {
		t.Fatal("adapter did not connect")
	}
	ref, err := a.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-9-secret", Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Invite(ctx, ref.ID, alice); err != nil {
		t.Fatal(err)
	}
	if err := a.Archive(ctx, ref.ID); err != nil {
		t.Fatal(err)
	}
	c, _ := f.ChannelByName("inc-9-secret")
	if c.ParentID != discordfake.ArchiveCategoryID {
		t.Errorf("parent = %s, want the archive category", c.ParentID)
	}
	var everyone, member bool
	for _, o := range c.Overwrites {
		deny, _ := strconv.ParseUint(o.Deny, 10, 64)
		switch o.ID {
		case discordfake.GuildID:
			everyone = deny&discordfake.PermViewChannel != 0 && deny&discordfake.PermSendMessages != 0 && deny&discordfake.PermAddReactions != 0
		case alice:
			member = true
		}
	}
	if !everyone || !member {
		t.Errorf("overwrites after archiving: %+v (want @everyone denied view, send and reactions; alice's kept)", c.Overwrites)
	}
}
