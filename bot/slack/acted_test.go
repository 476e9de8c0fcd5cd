package slack_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestSentAgainIsActedOnOnce sends a slash command and a button click, and
// then each envelope again, as Slack does when it did not hear the
// acknowledgement (a connection that dropped just after klaxon acted). The
// copies are acknowledged, and neither the command nor the button runs a
// second time.
func TestSentAgainIsActedOnOnce(t *testing.T) {
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	defer f.Close()
	log := zerolog.New(io.Discard)
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: log})
	mux := bot.NewMux(log)
	var commands, clicks atomic.Int32
	mux.Register(bot.Command{Name: "incident declare", Summary: "declare", Handler: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		commands.Add(1)
		return &bot.Response{Message: bot.Message{Text: "declared"}}, nil
	}})
	mux.HandleAction("klaxon.resolve", func(ctx context.Context, act bot.Action) (*bot.Response, error) {
		clicks.Add(1)
		return nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, mux) }()
	defer func() { cancel(); <-done }()
	if !f.WaitFor(10*time.Second, f.Connected) {
		t.Fatal("adapter did not connect")
	}
	ref, err := a.Post(ctx, "C0GENERAL", bot.Message{Text: "INC-1", Buttons: []bot.Button{{ActionID: "klaxon.resolve", Label: "Resolve", Value: "1"}}})
	if err != nil {
		t.Fatal(err)
	}

	cmd := f.SlashCommand("U0ALICE", "C0GENERAL", "/incident", "declare DB down")
	click := f.ClickButton("U0ALICE", "C0GENERAL", ref.ID, "klaxon.resolve", "1")
	if !f.WaitFor(5*time.Second, func() bool { return commands.Load() == 1 && clicks.Load() == 1 && f.Unacked() == 0 }) {
		t.Fatalf("first deliveries: %d commands, %d clicks, %d unacknowledged", commands.Load(), clicks.Load(), f.Unacked())
	}
	for _, env := range []string{cmd, click} {
		if !f.SendAgain(env) {
			t.Fatalf("the fake never made %s", env)
		}
	}
	if !f.WaitFor(5*time.Second, func() bool { return f.Unacked() == 0 }) {
		t.Fatalf("%d copies left unacknowledged; Slack would keep sending them", f.Unacked())
	}
	// A new command is acted on: only copies are recognised.
	f.SlashCommand("U0ALICE", "C0GENERAL", "/incident", "declare Queue stuck")
	if !f.WaitFor(5*time.Second, func() bool { return commands.Load() == 2 && f.Unacked() == 0 }) {
		t.Fatalf("a new command after the copies: %d commands", commands.Load())
	}
	time.Sleep(200 * time.Millisecond) // a copy acted on would have run by now
	if n, c := commands.Load(), clicks.Load(); n != 2 || c != 1 {
		t.Errorf("commands ran %d times and the button %d; want 2 and 1", n, c)
	}
}
