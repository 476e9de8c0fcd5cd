package slack

import (
	"regexp"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// Slack escapes &, < and > in the text it sends klaxon, and reads them the
// same way in the mrkdwn klaxon sends: an unescaped <!channel>, <!here>,
// <!subteam^…> or <https://…|label> is a live mention or a disguised link
// (docs.slack.dev/messaging/formatting-message-text#escaping). klaxon reads
// Slack's text unescaped and escapes everything it sends, except the
// mentions of users and channels that klaxon's own messages name.

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// unescape turns text from Slack back into what its author typed.
func unescape(s string) string { return unescaper.Replace(s) }

// liveToken is a mention that stays live: a user or a channel.
var liveToken = regexp.MustCompile(`^<(?:@[UWB][A-Z0-9]+|#[CGD][A-Z0-9]+)>`)

// dateToken is bot.TimeToken at the start of a string.
var dateToken = regexp.MustCompile("^" + bot.TimeToken.String())

// slackDate turns a time token (bot.ChatTime, bot.ChatClock) at the start
// of s into Slack's date formatting, which each reader sees in their own
// zone and clock (docs.slack.dev/messaging/formatting-message-text#date-formatting).
func slackDate(s string) (token string, n int) {
	m := dateToken.FindStringSubmatchIndex(s)
	if m == nil {
		return "", 0
	}
	format := "{date_num} {time}"
	if s[m[4]:m[5]] == "t" {
		format = "{time}"
	}
	return "<!date^" + s[m[2]:m[3]] + "^" + format + "|" + s[m[6]:m[7]] + ">", m[1]
}

// mrkdwn escapes s for Slack's mrkdwn (and a message's text field): &, <
// and > become entities, except in user and channel mentions, and control
// characters become spaces, so nothing a person or an alert wrote can
// notify a crowd or hide a link.
func mrkdwn(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			if m := liveToken.FindString(s[i:]); m != "" {
				b.WriteString(m)
				i += len(m) - 1
				continue
			}
			if token, n := slackDate(s[i:]); n > 0 {
				b.WriteString(token)
				i += n - 1
				continue
			}
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// plainLine is s for a one-line plain_text object (a header, a button):
// Slack shows plain_text as it is, so only line breaks and control
// characters are replaced.
func plainLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, bot.PlainTimes(s)) // plain_text renders no dates
}
