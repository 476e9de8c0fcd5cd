package webui

import (
	"strings"
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

func TestRenderDropsWhatIsUnsafe(t *testing.T) {
	got := string(render("# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**\n\n| a |\n|---|\n| b |"))
	for _, bad := range []string{"<script", "javascript:", "onerror"} {
		if strings.Contains(got, bad) {
			t.Errorf("rendered %q keeps %s", got, bad)
		}
	}
	for _, good := range []string{"<h1", "<strong>bold</strong>", "<table>"} {
		if !strings.Contains(got, good) {
			t.Errorf("rendered %q lacks %s", got, good)
		}
	}
}

func TestDiffLines(t *testing.T) {
	got := diffLines("a\nb\nc", "a\nc\nd")
	want := []diffLine{{" ", "a"}, {"-", "b"}, {" ", "c"}, {"+", "d"}}
	if len(got) != len(want) {
		t.Fatalf("diff %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("diff %v, want %v", got, want)
		}
	}
}
