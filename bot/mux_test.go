package bot_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

func newMux(t *testing.T) (*bot.Mux, *bytes.Buffer, *[]string) {
	t.Helper()
	var logs bytes.Buffer
	m := bot.NewMux(zerolog.New(&logs))
	var calls []string
	record := func(name string, resp *bot.Response, err error) bot.HandlerFunc {
		return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			calls = append(calls, name+" "+strings.Join(req.Args, "|"))
			return resp, err
		}
	}
	m.Register(
		bot.Command{Name: "incident declare", Params: []bot.Param{{Name: "title", Required: true}}, Handler: record("declare", bot.Reply("declared"), nil)},
		bot.Command{Name: "incident sev", Params: []bot.Param{{Name: "level", Required: true}}, Handler: record("sev", nil, bot.Errorf(bot.EINVALID, "Bad level."))},
		bot.Command{Name: "incident resolve", Handler: record("resolve", nil, bot.Errorf(bot.ECONFLICT, "Already resolved."))},
		bot.Command{Name: "incident boom", Handler: func(context.Context, *bot.Request) (*bot.Response, error) { panic("kaboom") }},
		bot.Command{Name: "incident secret", Handler: record("secret", nil, errors.New("dial tcp: token xoxb-123 refused"))},
		bot.Command{Name: "oncall", Handler: record("oncall", nil, nil)},
		bot.Command{Name: "followup done", Handler: record("done", nil, nil)},
	)
	return m, &logs, &calls
}

func TestMuxDispatch(t *testing.T) {
	tests := []struct {
		text, wantText, wantCall string
	}{
		{`/incident declare "DB down" now`, "declared", "declare DB down|now"},
		{`incident DECLARE x`, "declared", "declare x"},
		{`/oncall payments`, "", "oncall payments"},
		{`/incident sev 9`, "Bad level.\nUsage: `/incident sev <level>`", "sev 9"},
		{`/incident resolve`, "Already resolved.", "resolve "},
		{`/incident`, "`/incident` needs a subcommand. Try `/incident help`.", ""},
		{`/incident frobnicate`, "`/incident frobnicate` is not a command. Try `/incident help`.", ""},
		{`/pager`, "klaxon doesn't know `/pager`. Try `/incident help`.", ""},
		// Typos and other words get the nearest command.
		{`/oncal payments`, "klaxon doesn't know `/oncal`. Did you mean `/oncall`?", ""},
		{`/incident declre x`, "`/incident declre` is not a command. Did you mean `/incident declare`?", ""},
		{`/followup close F-1`, "`/followup close` is not a command. Did you mean `/followup done`?", ""},
		{`/incident xyzzy`, "`/incident xyzzy` is not a command. Try `/incident help`.", ""},
		{``, "Type a command, e.g. `/incident help`.", ""},
		{`/incident declare "open quote`, "A quote is not closed.", ""},
	}
	for _, tt := range tests {
		m, _, calls := newMux(t)
		resp := m.Dispatch(context.Background(), &bot.Request{Text: tt.text})
		if resp == nil {
			t.Fatalf("Dispatch(%q) returned nil", tt.text)
		}
		if !strings.HasPrefix(resp.Text, tt.wantText) {
			t.Errorf("Dispatch(%q) text = %q; want prefix %q", tt.text, resp.Text, tt.wantText)
		}
		got := strings.Join(*calls, ";")
		if got != tt.wantCall {
			t.Errorf("Dispatch(%q) called %q; want %q", tt.text, got, tt.wantCall)
		}
	}
}

func TestMuxKeepsInternalsOutOfChat(t *testing.T) {
	m, logs, _ := newMux(t)
	resp := m.Dispatch(context.Background(), &bot.Request{Text: "/incident secret"})
	if strings.Contains(resp.Text, "xoxb") || strings.Contains(resp.Text, "dial tcp") {
		t.Errorf("internal error leaked into chat: %q", resp.Text)
	}
	if !strings.Contains(resp.Text, "log") {
		t.Errorf("reply %q should point to the log", resp.Text)
	}
	if !strings.Contains(logs.String(), "command failed") {
		t.Errorf("internal error was not logged: %s", logs)
	}
}

func TestMuxRecoversFromPanics(t *testing.T) {
	m, logs, _ := newMux(t)
	resp := m.Dispatch(context.Background(), &bot.Request{Text: "/incident boom"})
	if !strings.Contains(resp.Text, "went wrong") {
		t.Errorf("panic reply = %q", resp.Text)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("panic was not logged: %s", logs)
	}
	m.HandleActivity(func(context.Context, bot.Activity) error { panic("activity kaboom") })
	if err := m.Activity(context.Background(), bot.Activity{}); bot.ErrorCode(err) != bot.EINTERNAL {
		t.Errorf("activity panic: err = %v; want internal", err)
	}
}

func TestMuxRefusesDuplicateCommands(t *testing.T) {
	m, _, _ := newMux(t)
	defer func() {
		if recover() == nil {
			t.Error("registering a command twice did not panic")
		}
	}()
	m.Register(bot.Command{Name: "oncall"})
}
