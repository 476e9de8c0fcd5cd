package slack

import "testing"

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
