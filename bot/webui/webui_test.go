package webui

import (
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
)

// A sign-in's return address only ever goes back into the console.
func TestSafeReturn(t *testing.T) {
	u := &UI{cfg: Config{BasePath: "/k/app"}}
	for in, want := range map[string]string{
		"/k/app/incidents/4?show=pages": "/k/app/incidents/4?show=pages",
		"":                              "/k/app/",
		"https://evil.example.com/":     "/k/app/",
		"//evil.example.com/x":          "/k/app/",
		"/\\evil.example.com":           "/k/app/",
		"/app\r\nSet-Cookie: x=1":       "/k/app/",
		"javascript:alert(1)":           "/k/app/",
	} {
		if got := u.safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNamesShowMentionsAsPeople(t *testing.T) {
	u := &UI{cfg: Config{People: bot.People{{ID: "alice", Name: "Alice", Accounts: map[bot.Platform]string{bot.PlatformSlack: "U0ALICE"}}}}}
	got := u.names(bot.PlatformSlack, "<@U0ALICE> paged <@U0BOB|bob> in <#C1|inc-1> and <#C2>")
	if want := "@Alice paged @bob in #inc-1 and #C2"; got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
}
