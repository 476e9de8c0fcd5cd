package bot_test

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"exactly", 7, "exactly"}, {"héllo wörld", 6, "héllo…"}, {"🔥🔥🔥", 2, "🔥…"}} {
		if got := bot.Cut(tt.in, tt.n); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		wait time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Saturday, 28-Nov-26 12:01:00 GMT", time.Minute, true},   // RFC 850
		{"Sat Nov 28 12:00:05 2026", 5 * time.Second, true},       // asctime
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0, false},               // past
		{"-3", 0, false}, {"", 0, false}, {"soon", 0, false},
	} {
		if wait, ok := bot.RetryAfter(tt.in, now); wait != tt.wait || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, wait, ok, tt.wait, tt.ok)
		}
	}
}
