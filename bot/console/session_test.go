package console_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
)

// run pipes script through a session whose /test command invites the
// typist to #inc-1, and returns the output and the activities klaxon saw.
func run(t *testing.T, script string) (string, []bot.Activity, *console.Session) {
	t.Helper()
	var out bytes.Buffer
	con := console.New(&out, "general")
	mux := bot.NewMux(zerolog.Nop())
	var seen []bot.Activity
	mux.HandleActivity(func(ctx context.Context, a bot.Activity) error { seen = append(seen, a); return nil })
	mux.Register(bot.Command{Name: "test invite", Handler: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if _, err := con.CreateChannel(ctx, bot.ChannelSpec{Name: "inc-1"}); err != nil {
			return nil, err
		}
		return bot.Reply("invited"), con.Invite(ctx, "inc-1", req.User.ID)
	}})
	s := &console.Session{Console: con, Mux: mux, Clock: bot.NewFakeClock(time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)), User: "alice"}
	if err := s.Run(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), seen, s
}

func TestSessionScript(t *testing.T) {
	out, seen, s := run(t, strings.Join([]string{
		"hello everyone",
		"/test invite",
		"the LB is flapping",
		"/react pushpin m2",
		"/edit m2 the LB health check is flapping",
		"/as bob",
		"/edit m2 not mine",
		"/react 👀 m99",
		"/join #ops",
		"/channels",
		"/nonsense",
	}, "\n"))

	for _, want := range []string{
		"[#general m1] @alice: hello everyone",
		"(only you) You are now in #inc-1.",
		"[#inc-1 m2] @alice: the LB is flapping",
		"* @alice reacted 📌 to m2",
		"[#inc-1 m2] @alice (edited): the LB health check is flapping",
		"(only you) You are now @bob.",
		"You have no message m2 to edit.",
		"There is no message m99.",
		"(only you) You are now in #ops.",
		"#general, #inc-1, #ops",
		"klaxon doesn't know `/nonsense`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if s.Channel != "ops" || s.User != "bob" {
		t.Errorf("session ended as @%s in #%s; want @bob in #ops", s.User, s.Channel)
	}

	kinds := []bot.EventKind{bot.EventMessage, bot.EventMessage, bot.EventReaction, bot.EventMessageEdit}
	if len(seen) != len(kinds) {
		t.Fatalf("klaxon saw %d activities; want %d: %+v", len(seen), len(kinds), seen)
	}
	ids := map[string]bool{}
	for i, a := range seen {
		if a.Kind != kinds[i] {
			t.Errorf("activity %d is %s; want %s", i, a.Kind, kinds[i])
		}
		if a.SourceID == "" || ids[a.SourceID] {
			t.Errorf("activity %d has source id %q; want a unique one", i, a.SourceID)
		}
		ids[a.SourceID] = true
		if a.Platform != bot.PlatformConsole || a.User.ID != "alice" {
			t.Errorf("activity %d from %s/%s", i, a.Platform, a.User.ID)
		}
	}
	if r := seen[2]; r.Emoji != "📌" || r.Channel.ID != "inc-1" || r.Ref.ID != "m2" || r.Text != "the LB is flapping" {
		t.Errorf("reaction = %+v; want 📌 on m2 in #inc-1 with the message text", r)
	}
	if e := seen[3]; e.PrevText != "the LB is flapping" || e.Text != "the LB health check is flapping" {
		t.Errorf("edit = %+v; want old and new text", e)
	}
}

func TestSessionQuitStopsReading(t *testing.T) {
	out, seen, _ := run(t, "before\n/quit\nafter\n")
	if strings.Contains(out, "after") || len(seen) != 1 {
		t.Errorf("input after /quit was handled:\n%s", out)
	}
}

func TestSessionStopsOnCancel(t *testing.T) {
	con := console.New(&bytes.Buffer{}, "general")
	s := &console.Session{Console: con, Mux: bot.NewMux(zerolog.Nop()), Clock: bot.SystemClock{}, User: "alice"}
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, r) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestPlainRendersMentions(t *testing.T) {
	tests := map[string]string{
		"<@alice> joined <#inc-1-db>": "@alice joined #inc-1-db",
		"<@U1|alice>":                 "@U1",
		"no tokens":                   "no tokens",
	}
	for in, want := range tests {
		if got := console.Plain(in); got != want {
			t.Errorf("Plain(%q) = %q; want %q", in, got, want)
		}
	}
}

// Questions for klaxon, as a mention of it on Slack or Discord: a line
// naming @klaxon or asking something gets the question handlers' answer;
// other lines are only recorded.
func TestSessionAsksQuestions(t *testing.T) {
	var out bytes.Buffer
	con := console.New(&out, "general")
	mux := bot.NewMux(zerolog.Nop())
	var asked []string
	mux.HandleQuestion(func(ctx context.Context, q bot.Question) (*bot.Response, error) {
		asked = append(asked, q.Text)
		if strings.Contains(strings.ToLower(q.Text), "on call") {
			return bot.Reply("primary: @bob"), nil
		}
		return nil, nil
	})
	recorded := 0
	mux.HandleActivity(func(ctx context.Context, a bot.Activity) error { recorded++; return nil })
	s := &console.Session{Console: con, Mux: mux, Clock: bot.NewFakeClock(time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)), User: "alice"}
	script := "who is on call?\n@klaxon who is on call for payments\nthe LB is flapping\nis it DNS?\n"
	if err := s.Run(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(asked, "|") != "who is on call?|who is on call for payments|is it DNS?" {
		t.Errorf("asked %q", asked)
	}
	if n := strings.Count(out.String(), "primary: @bob"); n != 2 {
		t.Errorf("%d answers; want 2:\n%s", n, out.String())
	}
	if recorded != 4 {
		t.Errorf("%d lines recorded; every line is channel activity too", recorded)
	}
}
