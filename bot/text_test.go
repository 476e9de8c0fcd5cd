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

// Control characters never survive cleaning: C0 (but line breaks and tabs
// in multi-line text), DEL, C1 (U+009B is a terminal's CSI) and the
// bidirectional overrides and isolates.
func TestCleaningDropsControlCharacters(t *testing.T) {
	const nasty = "a\x1b[2Jb\u009b2Jc\u0085d\u202eevil\u202cf\u2066g\u2069h\x7fi"
	for _, tt := range []struct {
		name, in, want string
		fn             func(string) string
	}{
		{"CleanText", nasty + "\nnext\tline", "a[2Jb2Jcdevilfghi\nnext\tline", bot.CleanText},
		{"OneLine", nasty + "\nnext", "a [2Jb 2Jc devilfgh i next", bot.OneLine},
	} {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// Text from alerts keeps no live mention on Slack or Discord.
func TestUnmention(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ping <@U123> and <@U456|alice> in <#C789|general> <!here> <!channel>", "ping @U123 and @alice in #general @here @channel"},
		{"discord <@123456> <@!123456> <@&987654> <#555>", "discord @123456 @123456 @987654 #555"},
		{"a <b> and x < y > z, <https://example.com>", "a <b> and x < y > z, <https://example.com>"},
	} {
		if got := bot.Unmention(tt.in); got != tt.want {
			t.Errorf("Unmention(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// A link from outside is kept only if it is http(s).
func TestWebLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/payments/issues/2": "https://github.com/acme/payments/issues/2",
		"http://jira.local/browse/OPS-1":            "http://jira.local/browse/OPS-1",
		"javascript:alert(1)":                       "",
		"data:text/html,<script>":                   "",
		"//evil.example/x":                          "",
		"https:///nohost":                           "",
	} {
		if got := bot.WebLink(in); got != want {
			t.Errorf("WebLink(%q) = %q; want %q", in, got, want)
		}
	}
}
