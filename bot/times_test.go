package bot_test

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestChatTimesReadPlainOutsideChat(t *testing.T) {
	at := time.Date(2026, 11, 22, 2, 20, 0, 0, time.UTC)
	text := "Next at " + bot.ChatTime(at) + "; paged " + bot.ChatClock(at) + "."
	if want := "Next at <!date^1795314000^f|2026-11-22 02:20 UTC>; paged <!date^1795314000^t|02:20 UTC>."; text != want {
		t.Fatalf("tokens = %q, want %q", text, want)
	}
	if got, want := bot.PlainTimes(text), "Next at 2026-11-22 02:20 UTC; paged 02:20 UTC."; got != want {
		t.Errorf("PlainTimes = %q, want %q", got, want)
	}
	// A look-alike carrying a link or markup is no token: it stays as typed.
	for _, s := range []string{"<!date^1^f^https://evil.example|x>", "<!date^1^f|<@U1>>", "<!date^x^f|now>"} {
		if got := bot.PlainTimes(s); got != s {
			t.Errorf("PlainTimes(%q) = %q; a look-alike changed", s, got)
		}
	}
	// The timeline, files and hooks never see a token.
	if ev := bot.NewEvent(bot.EventNote, bot.User{}, at, text); ev.Text != "Next at 2026-11-22 02:20 UTC; paged 02:20 UTC." {
		t.Errorf("event text = %q", ev.Text)
	}
}
