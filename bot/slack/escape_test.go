package slack

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestMrkdwnKeepsOnlyKlaxonsMentionsLive(t *testing.T) {
	for in, want := range map[string]string{
		"DB down <!channel> <!here>":              "DB down &lt;!channel&gt; &lt;!here&gt;",
		"<!subteam^S1> <https://evil.example|x>":  "&lt;!subteam^S1&gt; &lt;https://evil.example|x&gt;",
		"paged <@U0ALICE> in <#C0123ABC> & more":  "paged <@U0ALICE> in <#C0123ABC> &amp; more",
		"a > b < c":                               "a &gt; b &lt; c",
		"bell\a esc\x1b[31m\ncr\r tab\t":          "bell  esc [31m\ncr  tab\t",
		"<@U0ALICE|alice> <#C1|general> <@lower>": "&lt;@U0ALICE|alice&gt; &lt;#C1|general&gt; &lt;@lower&gt;",
	} {
		if got := mrkdwn(in); got != want {
			t.Errorf("mrkdwn(%q) = %q; want %q", in, got, want)
		}
	}
	if got := unescape("&lt;!channel&gt; &amp;lt;"); got != "<!channel> &lt;" {
		t.Errorf("unescape = %q", got)
	}
}

func TestTimesShowInTheReadersZone(t *testing.T) {
	at := time.Date(2026, 11, 22, 2, 20, 0, 0, time.UTC)
	got := mrkdwn("next at " + bot.ChatTime(at) + ", paged " + bot.ChatClock(at) + " <!date^1^f^https://evil.example|x>")
	want := "next at <!date^1795314000^{date_num} {time}|2026-11-22 02:20 UTC>, paged <!date^1795314000^{time}|02:20 UTC> &lt;!date^1^f^https://evil.example|x&gt;"
	if got != want {
		t.Errorf("mrkdwn = %q\nwant     %q", got, want)
	}
	// plain_text (headers, buttons) and notifications show the UTC text.
	if got := plainLine("Declared " + bot.ChatTime(at)); got != "Declared 2026-11-22 02:20 UTC" {
		t.Errorf("plainLine = %q", got)
	}
	if got := fallback(bot.Message{Text: "at " + bot.ChatTime(at)}); got != "at 2026-11-22 02:20 UTC" {
		t.Errorf("fallback = %q", got)
	}
}
