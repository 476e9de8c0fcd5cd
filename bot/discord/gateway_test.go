package discord_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

func TestRateLimitsAreWaitedOut(t *testing.T) {
	f := discordfake.New(map[string]string{alice: "alice"})
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
	f := discordfake.New(map[string]string{alice: "alice"})
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
